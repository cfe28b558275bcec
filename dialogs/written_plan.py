"""A plan the patient writes in advance, in parts, each kept or rewritten when they come back
(the flare plan, the safety plan)."""
from __future__ import annotations

from typing import Any, ClassVar

from dialogs.answers import words
from dialogs.base import Answer, Choice, Dialog, Invalid, Question, in_order
from locales import _

KEEP = "keep"


def plan_text(parts: list[tuple[str, str, str]], plan: Any) -> str | None:
    """A written plan as the patient wrote it, each part under its question (None if empty)."""
    if plan is None or not any(getattr(plan, column) for _state, column, _question in parts):
        return None
    return "\n\n".join(f"{_(question)}\n{getattr(plan, column)}" for _state, column, question in parts if getattr(plan, column))


class WrittenPlan(Dialog):
    model: ClassVar[type]
    parts: ClassVar[list[tuple[str, str, str]]]  # (state, column, question)
    intro: ClassVar[str]
    saved: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A plan's states are its parts, in order: declared once, in `parts`.
        if "parts" in cls.__dict__:
            cls.states = [*[state for state, _column, _question in cls.parts], "done"]
            cls.initial = cls.states[0]
            cls.transitions = in_order(cls.states)
        super().__init_subclass__(**kwargs)

    @classmethod
    def text_of(cls, plan: Any) -> str | None:
        return plan_text(cls.parts, plan)

    def _plan(self):
        plan = self.turn.session.get(self.model, self.patient.id)
        if plan is None:
            plan = self.model(patient_id=self.patient.id)
            self.turn.session.add(plan)
        return plan

    def _part(self) -> tuple[int, str, str]:
        index = [state for state, _column, _question in self.parts].index(self.state)
        return index, self.parts[index][1], self.parts[index][2]

    def ask(self) -> Question:
        index, column, question = self._part()
        current = getattr(self.turn.session.get(self.model, self.patient.id), column, None)
        text = _(question)
        if index == 0:
            text = _(self.intro) + "\n\n" + text
        choices = []
        if current:
            text += "\n\n" + _("Now: {answer}").format(answer=current)
            choices = [Choice(KEEP, _("Keep it as it is"))]
        return Question(text, choices)

    def read(self, answer: Answer) -> str | Invalid | None:
        if answer.choice == KEEP:
            return "next"
        text = words(answer)
        if isinstance(text, Invalid):
            return text
        setattr(self._plan(), self._part()[1], text)
        return "next"

    def finished(self) -> None:
        self.turn.session.flush()
        self.say(_(self.saved) + "\n\n" + (self.text_of(self.turn.session.get(self.model, self.patient.id)) or ""))
