"""Everything the bot sends on its own initiative, by kind, and the one gate all of it passes.

A kind not listed here is never sent: adding one means adding it here, where the consent gate
covers it. The gate is applied at send time, in the transaction that claims the send, so a
`/withdraw`, a discharge or a `/delete` committed a moment earlier stops what was already planned.
(Replies to the patient's own messages are not outbound in this sense: they answer the patient.)
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, update
from sqlalchemy.orm import Session

from storage.models import DialogState, Patient, Prompt

# Prompt.kind -> what it is. Reminders are a second send of an unanswered check-in.
KINDS = {
    "checkin": "a scheduled check-in: the daily items, PEG-3, PHQ-4",
    "flare_followup": "how the flare is going, 48 hours after it began",
    "pacing_break": "the planned break in an activity block",
    "sprint_review": "the review at the end of a treatment sprint",
    "lesson": "the next lesson of the pain education course, every few days",
}
REMINDER = "reminder"  # one reminder of a check-in sent and not started
ALL = (*KINDS, REMINDER)
# Asked for by the patient themselves, so a pause of check-ins does not hold it back.
ASKED_FOR = ("pacing_break",)


def may_be_messaged() -> list:
    """Conditions (on Prompt joined to Patient) under which a prompt may go out now: a registered
    kind; consent given and not withdrawn; not discharged; reachable (not blocked); check-ins not
    paused (unless the patient asked for it); not in a crisis pause. An erased patient has no rows."""
    in_crisis_pause = exists().where(DialogState.patient_id == Patient.id, DialogState.paused)
    return [
        Prompt.kind.in_(KINDS),
        Patient.consent == "given",
        Patient.discharged_at.is_(None),
        Patient.reachable,
        or_(Patient.checkins_paused.is_(False), Prompt.kind.in_(ASKED_FOR)),
        ~in_crisis_pause,
    ]


def blocked(session: Session, patient: Patient, now: datetime) -> None:
    """Telegram says the patient blocked the bot (403): nothing is sent to them, and nothing planned
    stays due, until they write again (the engine makes them reachable then)."""
    patient.reachable = False
    session.execute(
        update(Prompt)
        .where(Prompt.patient_id == patient.id, Prompt.status == "scheduled")
        .values(status="blocked", reason="the patient blocked the bot", updated_at=now)
    )
