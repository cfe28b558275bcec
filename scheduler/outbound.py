"""Everything the bot sends on its own initiative, by kind, and the one gate all of it passes.

A kind not listed here is never sent: adding one means adding it here, where the consent gate
covers it. The gate is applied at send time, in the transaction that claims the send, so a
`/withdraw`, a discharge or a `/delete` committed a moment earlier stops what was already planned.
(Replies to the patient's own messages are not outbound in this sense: they answer the patient.)

Not too much: at most the clinic's `daily_message_cap` (default 4) of these a patient's local day,
counted and enforced in the same claiming transaction, one dispatcher at a time per patient, so two
dispatchers cannot both send the fourth. What the patient asked for (ASKED_FOR) neither counts nor
waits, and neither does a prompt sent again because the patient asked for it later (a snoozed
check-in: it counted once, when it first went out, and is never marked `capped` once sent). A safety
follow-up (SAFETY) counts, but the cap never holds it back: how a flare is going is not put off
behind a routine message. Any other prompt over the cap is not sent that day: a kind in DEFERRED
waits until the same clock time on the patient's next local day (quiet hours still apply); every
other kind (a check-in, a reminder, and any kind added later unless it joins DEFERRED) is dropped,
its row marked `capped` with the reason, as the gate records its refusals.

One switch pauses reminders (`Patient.checkins_paused`, "Pause reminders" in Settings, /pause and
/resume): every kind stops except what the patient asked for and the safety follow-ups in SAFETY.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select, text, update
from sqlalchemy.orm import Session

from scheduler.times import instant
from storage.models import DialogState, Patient, Prompt

# Prompt.kind -> what it is. Reminders are a second send of an unanswered check-in.
KINDS = {
    "checkin": "a scheduled check-in: the daily items, PEG-3, PHQ-4",
    "flare_followup": "how the flare is going, 48 hours after it began",
    "pacing_break": "the planned break in an activity block",
    "sprint_review": "the review at the end of a treatment sprint",
    "wind_down": "the sleep routine's wind-down nudge, at the time the patient chose or not at all",
    "lesson": "the next lesson of the pain education course, every few days",
}
REMINDER = "reminder"  # one reminder of a check-in sent and not started
ALL = (*KINDS, REMINDER)
# Asked for by the patient themselves: a pause of reminders does not hold it back, and the daily
# cap neither counts nor holds it.
ASKED_FOR = ("pacing_break",)
# The clinic's safety follow-ups: they go on while reminders are paused. A flare follow-up asks how a
# flare the patient told us about is going (a worse one is pointed to their flare plan's "when to seek
# care" and to their clinic team), so it is not silenced by a switch meant for routine messages. It does count towards the
# daily cap, but the cap never holds it back: not even by a day.
SAFETY = ("flare_followup",)
# Over the daily cap these wait for the patient's next local day (each is the only one of its kind:
# the sprint's review, the course's next lesson, which belongs to no day);
# every other kind is dropped (a check-in belongs to its day, and tomorrow has its own; a reminder
# is only a second send; a wind-down nudge comes at its time or not at all).
DEFERRED = ("sprint_review", "lesson")
CAP = "daily_message_cap"  # the clinic setting
CAPPED = "capped"  # the status of a prompt dropped by the cap
NOT_DELIVERED = ("failed", "cancelled", "blocked")  # claimed, but the patient never got it


def may_be_messaged() -> list:
    """Conditions (on Prompt joined to Patient) under which a prompt may go out now: a registered
    kind; consent given and not withdrawn; not discharged; reachable (not blocked); reminders not
    paused (unless the patient asked for it, or it is a safety follow-up); not in a crisis pause.
    An erased patient has no rows. (The daily cap is counted after these, in `over_cap`.)"""
    in_crisis_pause = exists().where(DialogState.patient_id == Patient.id, DialogState.paused)
    return [
        Prompt.kind.in_(KINDS),
        Patient.consent == "given",
        Patient.discharged_at.is_(None),
        Patient.reachable,
        or_(Patient.checkins_paused.is_(False), Prompt.kind.in_((*ASKED_FOR, *SAFETY))),
        ~in_crisis_pause,
    ]


def may_be_planned() -> list:
    """Conditions (on Patient) under which anything proactive is planned for a patient at all: the
    check-in planner, the nudges and the lessons share them (the gate above still decides at send time)."""
    return [
        Patient.onboarded_at.is_not(None),
        Patient.consent == "given",
        Patient.discharged_at.is_(None),
        Patient.reachable,
        Patient.checkins_paused.is_(False),
        Patient.timezone.is_not(None),
        Patient.channel == "telegram",
    ]


def held_by_pause():
    """Condition (on Prompt) of a prompt the patient's pause holds back: what expires so was not
    missed by the patient but paused by them, and is recorded so."""
    paused = select(Patient.id).where(Patient.checkins_paused)
    return Prompt.patient_id.in_(paused) & Prompt.kind.not_in((*ASKED_FOR, *SAFETY))


def blocked(session: Session, patient: Patient, now: datetime) -> None:
    """Telegram says the patient blocked the bot (403): nothing is sent to them, and nothing planned
    stays due, until they write again (the engine makes them reachable then)."""
    patient.reachable = False
    session.execute(
        update(Prompt)
        .where(Prompt.patient_id == patient.id, Prompt.status == "scheduled")
        .values(status="blocked", reason="the patient blocked the bot", updated_at=now)
    )


def local_day(patient: Patient, now: datetime) -> tuple[datetime, datetime]:
    """The patient's own local day around `now`, as UTC instants [start, end)."""
    zone = ZoneInfo(patient.timezone or "UTC")
    today = now.astimezone(zone).date()
    midnight = datetime.min.time()
    return instant(today, midnight, zone), instant(today + timedelta(days=1), midnight, zone)


def sent_today(session: Session, patient: Patient, now: datetime) -> int:
    """Proactive messages the patient got (or may have got) on their local day: first sends and
    reminders, of every kind but what they asked for. A first send counts on the day it went out
    (`sent_at`; until it is confirmed, the day it was claimed), once: sending it again when the
    patient asked for it later moves neither its day nor its count, whatever that send's outcome."""
    start, end = local_day(patient, now)
    counted = [Prompt.patient_id == patient.id, Prompt.kind.not_in(ASKED_FOR)]
    first_sent = func.coalesce(Prompt.sent_at, Prompt.claimed_at)
    first = session.scalar(select(func.count()).select_from(Prompt).where(
        *counted, first_sent >= start, first_sent < end,
        or_(Prompt.sent_at.is_not(None), Prompt.status.not_in(NOT_DELIVERED))))
    reminders = session.scalar(select(func.count()).select_from(Prompt).where(
        *counted, Prompt.reminded_at >= start, Prompt.reminded_at < end))
    return first + reminders


def one_at_a_time(session: Session, patient_id: int) -> None:
    """Until this transaction ends, no other dispatcher counts this patient's day (PostgreSQL: a
    transaction-scoped advisory lock, which no dialog step takes, so it cannot deadlock with one;
    SQLite: every writing transaction is already alone)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(15, CAST(:id AS integer))"), {"id": patient_id})


def over_cap(session: Session, prompt: Prompt, now: datetime, *, reminder: bool = False) -> bool:
    """Whether the daily cap holds this prompt (or its reminder) back; if so it is dropped or
    deferred here, with the reason on its row. Call in the transaction that would claim it.
    Never held: what the patient asked for, a prompt already sent once (the patient asked for it
    again: it counted when it first went out), a safety follow-up (it counts, for the rest)."""
    if prompt.kind in ASKED_FOR:
        return False
    if not reminder and (prompt.sent_at is not None or prompt.kind in SAFETY):
        return False
    one_at_a_time(session, prompt.patient_id)
    patient = session.get(Patient, prompt.patient_id)
    cap = patient.clinic.setting(CAP)
    count = sent_today(session, patient, now)
    if count < cap:
        return False
    zone = ZoneInfo(patient.timezone or "UTC")
    local = now.astimezone(zone)
    day = local.date().isoformat()
    why = f"over the daily cap: {count} of {cap} proactive messages already sent on {day}"
    prompt.updated_at = now
    if reminder:
        prompt.remind_at, prompt.reason = None, f"reminder not sent: {why}"
    elif prompt.kind in DEFERRED:
        lifetime = prompt.expires_at - prompt.scheduled_for
        until = instant(local.date() + timedelta(days=1), local.time().replace(microsecond=0), zone)
        prompt.status, prompt.snoozed_until, prompt.reason = "snoozed", until, f"deferred to the next day: {why}"
        prompt.expires_at = max(prompt.expires_at, until + lifetime)
    else:
        prompt.status, prompt.reason = CAPPED, f"not sent: {why}"
    session.flush()
    return True
