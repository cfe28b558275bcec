"""Settings → "Pause reminders": the one switch (dialogs/pausing.py), with what stays on.
Diagram: docs/dialogs/reminders.md."""
from __future__ import annotations

from dialogs import pausing
from dialogs.base import Answer, Choice, Dialog, Question
from locales import _


class Reminders(Dialog):
    name = "reminders"
    states = ["overview", "done"]
    initial = "overview"
    transitions = [
        {"trigger": "toggled", "source": "overview", "dest": "overview"},
        {"trigger": "leave", "source": "overview", "dest": "done"},
    ]

    def ask_overview(self) -> Question:
        paused = self.patient.checkins_paused
        switch = Choice("resume", _("Resume reminders")) if paused else Choice("pause", _("Pause reminders"))
        # Just switched: what changed is the question's text (said once, not again as the status).
        text = self.data.pop("news", None) or pausing.status(self.turn)
        return Question(text, [switch, Choice("back", _("Back to the menu"))])

    def read_overview(self, answer: Answer) -> str | None:
        if answer.choice in ("pause", "resume"):
            self.data["news"] = pausing.switch(self.turn, answer.choice == "pause")
            return "toggled"
        return {"back": "leave"}.get(answer.choice)
