"""The flare-up plan, written in advance while well: warning signs, what helps, what to step
back from, who to tell, when to seek care. Diagram: docs/dialogs/flareplan.md."""
from __future__ import annotations

from dialogs.answers import words
from dialogs.base import Answer, Choice, Dialog, Invalid, Question, in_order
from locales import N_, _
from storage.models import FlarePlan

KEEP = "keep"
# (state, column, question)
PARTS = [
    ("warning_signs", "warning_signs", N_("What are your early warning signs that a flare is starting?")),
    ("what_helps", "what_helps", N_("What helps you during a flare?")),
    ("step_back", "step_back_from", N_("What will you step back from for a while (without stopping everything)?")),
    ("who_to_tell", "who_to_tell", N_("Who will you tell, and what can they do?")),
    ("seek_care", "when_to_seek_care", N_("When will you seek care, and from whom?")),
]
STATES = [state for state, _column, _question in PARTS]


def plan_text(plan: FlarePlan | None) -> str:
    if plan is None or not any(getattr(plan, column) for _state, column, _question in PARTS):
        return _("You haven't written a flare plan yet.")
    return "\n\n".join(f"{_(question)}\n{getattr(plan, column)}" for _state, column, question in PARTS if getattr(plan, column))


class FlarePlanDialog(Dialog):
    name = "flareplan"
    states = [*STATES, "done"]
    initial = STATES[0]
    transitions = in_order(states)

    def _plan(self) -> FlarePlan:
        plan = self.turn.session.get(FlarePlan, self.patient.id)
        if plan is None:
            plan = FlarePlan(patient_id=self.patient.id)
            self.turn.session.add(plan)
        return plan

    def ask(self) -> Question:
        index = STATES.index(self.state)
        current = getattr(self.turn.session.get(FlarePlan, self.patient.id), PARTS[index][1], None)
        text = _(PARTS[index][2])
        if index == 0:
            text = _("A flare plan, written now, is there for you when a flare comes. Five questions.") + "\n\n" + text
        choices = []
        if current:
            text += "\n\n" + _("Now: {answer}").format(answer=current)
            choices = [Choice(KEEP, _("Keep it as it is"))]
        return Question(text, choices)

    def read(self, answer: Answer) -> str | Invalid | None:
        column = PARTS[STATES.index(self.state)][1]
        if answer.choice == KEEP:
            return "next"
        text = words(answer)
        if isinstance(text, Invalid):
            return text
        setattr(self._plan(), column, text)
        return "next"

    def finished(self) -> None:
        self.turn.session.flush()
        self.say(_("Your flare plan is saved. It will be shown to you when you tell me a flare has started.") + "\n\n"
                 + plan_text(self.turn.session.get(FlarePlan, self.patient.id)))
