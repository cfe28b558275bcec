"""Preparing for a visit: what changed, goals, questions for the clinician, and the four questions
to ask about any treatment being considered; a short summary to forward. Diagram: docs/dialogs/visit.md."""
from __future__ import annotations

from datetime import date

from babel.dates import format_date

import locales
from dialogs import records
from dialogs.answers import words
from dialogs.base import Answer, Choice, Dialog, Invalid, Question, in_order
from locales import N_, _
from storage.models import VisitPrep

SKIP = "skip"
# The seed's four questions for any treatment option.
TREATMENT_QUESTIONS = [
    N_("How much benefit can I expect, and for how long?"),
    N_("What are the main risks or side effects?"),
    N_("How will it help me do more of what matters to me?"),
    N_("How will we measure progress and decide whether to continue?"),
]
WORDS = {
    "changes": ("changes", N_("What has changed since your last visit? Pain, sleep, activity, mood, anything that matters.")),
    "goals": ("goals", N_("What would you like to get out of this visit?")),
    "questions": ("questions", N_("What questions do you have for your clinician? Questions about medication belong here too.")),
    "treatment": ("treatment", N_("Is a treatment being considered (for example an injection, a new medicine or a programme)? Which one?")),
}


class Visit(Dialog):
    name = "visit"
    states = ["changes", "goals", "questions", "treatment", "done"]
    initial = "changes"
    transitions = in_order(states)

    def ask(self) -> Question:
        text = _(WORDS[self.state][1])
        if self.state == "changes":
            text = _("Let's get ready for your visit: four short questions, then a summary you can forward.") + "\n\n" + text
        if self.state == "treatment":
            return Question(text, [Choice(SKIP, _("No treatment is being considered"))])
        return Question(text, [Choice(SKIP, _("Skip this question"))])

    def read(self, answer: Answer) -> str | Invalid | None:
        if answer.choice != SKIP:
            text = words(answer)
            if isinstance(text, Invalid):
                return text
            self.data[WORDS[self.state][0]] = text
        return "next"

    def finished(self) -> None:
        # Medication questions the coach declined and the patient asked to keep go in too.
        noted = records.questions_for_the_visit(self.turn.session, self.patient.id)
        for question in noted:
            question.used_at = self.turn.now
        if noted:
            self.data["questions"] = "\n".join(filter(None, [self.data.get("questions"), *(q.text for q in noted)]))
        row = VisitPrep(patient_id=self.patient.id, created_at=self.turn.now, **{k: self.data.get(k) for k, _q in WORDS.values()})
        self.turn.session.add(row)
        self.turn.say(summary(row, self.turn.local_date(row.created_at)), standalone=True)


def summary(row: VisitPrep, day: date) -> str:
    day = format_date(day, format="long", locale=locales.formatting())
    parts = [_("My notes for the visit ({day})").format(day=day)]
    labels = {"changes": _("What has changed"), "goals": _("What I'd like from this visit"),
              "questions": _("My questions"), "treatment": _("A treatment being considered")}
    for key, label in labels.items():
        if value := getattr(row, key):
            parts.append(f"{label}:\n{value}")
    if row.treatment:
        parts.append(_("Questions to ask about it:") + "\n" + "\n".join(f"• {_(q)}" for q in TREATMENT_QUESTIONS))
    return "\n\n".join(parts)
