"""What the coach never advises on: medication (take, stop, dose, combine, with alcohol) and diet
or weight-loss plans. Such a message gets a kind "that one is for your clinician", and a
medication question can be noted for the visit. Word lists: content/advice_limits.toml."""
from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.base import Choice
from locales import _
from storage.models import NotedQuestion

if TYPE_CHECKING:
    from dialogs.base import Turn

NOTE = "note"  # the action of the "note it for my visit" button
# Where a patient is asked about treatments they tried: naming medicines there is an answer.
ASKS_ABOUT_TREATMENTS = {("onboarding", "story_tried"), ("visit", "questions"), ("visit", "treatment")}


def reply(turn: "Turn", text: str, kind: str) -> None:
    """Answer a medication or diet question (as the safety screen found it) without advice; the
    step then goes on as usual."""
    if (turn.state.dialog, turn.state.state) in ASKS_ABOUT_TREATMENTS:
        return
    if kind == "diet":
        turn.say(_("I can't give diet or weight-loss plans. Your clinician can help with that, or refer you to someone who can."))
    elif kind == "medication":
        message = _("I can't give advice about medication: that's one for your clinician, who knows your whole picture. "
                    "Please don't change your medication without talking to them.")
        if turn.patient.consent != "given":
            turn.say(message)
            return
        question = NotedQuestion(patient_id=turn.patient.id, text=text.strip()[:2000], created_at=turn.now)
        turn.session.add(question)
        turn.session.flush()
        turn.say(message, [Choice(str(question.id), _("Note it for my next visit"))], action=NOTE)


def note(turn: "Turn", value: str) -> None:
    question = turn.session.get(NotedQuestion, int(value)) if value.isdigit() else None
    if question is not None and question.patient_id == turn.patient.id:
        question.noted = True
        turn.say(_("Noted. It will be in your visit notes under “My questions”."))
    turn.ask()
