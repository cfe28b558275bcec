"""The main menu, where every onboarded patient returns. Diagram: docs/dialogs/menu.md."""
from __future__ import annotations

from dialogs.base import Answer, Call, Choice, Dialog, Question
from dialogs.onboarding import STORY
from locales import _
from storage.models import PainStory

MAX_SHOWN = 600  # characters of each answer shown back; the whole text stays stored


class Menu(Dialog):
    name = "menu"
    states = ["main", "story", "language", "timezone"]
    initial = "main"
    final = frozenset()  # the menu never ends; other dialogs return to it
    transitions = [
        {"trigger": "open_story", "source": "main", "dest": "story"},
        {"trigger": "open_language", "source": "main", "dest": "language"},
        {"trigger": "open_timezone", "source": "main", "dest": "timezone"},
        {"trigger": "back", "source": ["story", "language", "timezone"], "dest": "main"},
    ]

    def ask_main(self) -> Question:
        return Question(
            _("What would you like to do?"),
            [
                Choice("story", _("My pain story")),
                Choice("language", _("Language")),
                Choice("timezone", _("Time zone")),
            ],
        )

    def read_main(self, answer: Answer) -> str | None:
        return {"story": "open_story", "language": "open_language", "timezone": "open_timezone"}.get(answer.choice)

    def ask_story(self) -> Question:
        story = self.turn.session.get(PainStory, self.patient.id)
        lines = [_("Your pain story:")]
        for _state, column, question in STORY:
            answer = getattr(story, column, None) if story else None
            if answer and len(answer) > MAX_SHOWN:
                answer = answer[:MAX_SHOWN] + "…"
            lines.append("\n" + _(question) + "\n" + (answer or _("(skipped)")))
        return Question("\n".join(lines), [Choice("back", _("Back to the menu"))])

    def read_story(self, answer: Answer) -> str | None:
        return "back" if answer.choice == "back" else None

    def ask_language(self) -> Call:
        return Call("language", on_return="back")

    def ask_timezone(self) -> Call:
        return Call("timezone", on_return="back")
