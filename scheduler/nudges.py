"""The wind-down nudge of a patient's sleep routine: planned for each evening at its time, sent then
or not at all.

A nudge is due `nudge_minutes` before the patient's bedtime, in their zone, and expires `WINDOW`
later: a nudge the dispatcher could not send in time (the bot was down, quiet hours had begun)
is never sent late, nor the next morning. It is planned a second after its minute, so it never
takes the place of a check-in due at the same minute (one prompt per patient and instant).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler.outbound import may_be_planned
from scheduler.times import occurrences, parse_hhmm
from storage.models import Patient, Prompt, SleepRoutine

KIND = "wind_down"
WINDOW = timedelta(minutes=20)
AFTER_THE_MINUTE = timedelta(seconds=1)
HORIZON = timedelta(hours=36)
COLUMNS = ("patient_id", "kind", "instruments", "local_date", "scheduled_for", "expires_at", "status", "updated_at")


def nudge_time(routine: SleepRoutine) -> time | None:
    """The local time of the nudge, or None when the patient wants none."""
    if routine.nudge_minutes is None:
        return None
    bedtime = parse_hhmm(routine.bedtime)
    minutes = (bedtime.hour * 60 + bedtime.minute - routine.nudge_minutes) % (24 * 60)
    return time(minutes // 60, minutes % 60)


def plan(session: Session, now: datetime, *, patient_ids: list[int] | None = None, horizon: timedelta = HORIZON) -> int:
    """Plan the nudges due in (now, now + horizon] not planned yet; returns how many were offered."""
    query = select(SleepRoutine, Patient).join(Patient, Patient.id == SleepRoutine.patient_id).where(
        SleepRoutine.nudge_minutes.is_not(None),
        *may_be_planned(),
    )
    if patient_ids is not None:
        query = query.where(Patient.id.in_(patient_ids))
    found = list(session.execute(query.order_by(Patient.id)))
    if not found:
        return 0
    planned = {(patient_id, day) for patient_id, day in session.execute(
        select(Prompt.patient_id, Prompt.local_date).where(
            Prompt.kind == KIND, Prompt.patient_id.in_([p.id for _r, p in found]), Prompt.scheduled_for > now - timedelta(days=2)))}
    rows = []
    for routine, patient in found:
        at = nudge_time(routine)
        for day, moment in occurrences(at, ZoneInfo(patient.timezone), now, now + horizon):
            if (patient.id, day) not in planned:
                nudge = Prompt(patient_id=patient.id, kind="wind_down", instruments=[], local_date=day,
                               scheduled_for=moment + AFTER_THE_MINUTE, expires_at=moment + WINDOW, status="scheduled", updated_at=now)
                rows.append({column: getattr(nudge, column) for column in COLUMNS})  # inserted unless planned meanwhile
    if rows:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(Prompt).on_conflict_do_nothing(index_elements=["patient_id", "scheduled_for"]), rows)
    return len(rows)


def replan(session: Session, patient: Patient, now: datetime) -> None:
    """After the routine changed: drop the nudges not sent yet and plan again."""
    session.execute(delete(Prompt).where(Prompt.patient_id == patient.id, Prompt.kind == KIND, Prompt.status == "scheduled"))
    session.flush()
    plan(session, now, patient_ids=[patient.id])
