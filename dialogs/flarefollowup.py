"""Two days after a flare began: how it went, and what helped. Diagram: docs/dialogs/flarefollowup.md."""
from __future__ import annotations

from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from locales import _
from storage.models import FlareEpisode, Prompt

SKIP = "skip"


class FlareFollowUp(Dialog):
    name = "flarefollowup"
    states = ["how", "helped", "done"]
    initial = "how"
    transitions = [{"trigger": "next", "source": "how", "dest": "helped"}, {"trigger": "next", "source": "helped", "dest": "done"}]

    def ask_how(self) -> Question:
        return Question(
            _("Two days ago you told me about a flare. How is it now?"),
            [Choice("better", _("Better")), Choice("same", _("About the same")), Choice("worse", _("Worse"))],
        )

    def read_how(self, answer: Answer) -> str | None:
        if answer.choice not in ("better", "same", "worse"):
            return None
        self.data["how"] = answer.choice
        if answer.choice == "better":
            self.turn.session.get(FlareEpisode, self.data["episode_id"]).ended_at = self.turn.now
        return "next"

    def ask_helped(self) -> Question:
        return Question(_("What helped you most?"), [Choice(SKIP, _("Skip this question"))])

    def read_helped(self, answer: Answer) -> str | Invalid | None:
        if answer.choice != SKIP:
            if not any(ch.isalnum() for ch in answer.text or ""):
                return Invalid(_("A few words are enough, in your own way."))
            self.turn.session.get(FlareEpisode, self.data["episode_id"]).what_helped = answer.text.strip()
        return "next"

    def finished(self) -> None:
        prompt = self.turn.session.get(Prompt, self.data["prompt_id"]) if self.data.get("prompt_id") else None
        if prompt is not None:
            prompt.status, prompt.answered_at = "answered", self.turn.now
        if self.data.get("how") == "worse":
            self.say(_("I'm sorry it's still hard. Your flare plan says when to seek care; please follow it, "
                       "and tell your clinic team at your next contact."))
        else:
            self.say(_("You came through that flare. Thank you. Build back up gently, a little more each day."))
