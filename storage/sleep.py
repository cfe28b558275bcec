"""A patient's sleep routine and whether the sleep diary is among their check-ins: the rows and
the queries the sleep routine dialog and the nudge planner share."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Patient, Schedule, SleepRoutine

DIARY = "sleep_diary"


def routine_of(session: Session, patient_id: int) -> SleepRoutine | None:
    return session.scalars(select(SleepRoutine).where(SleepRoutine.patient_id == patient_id)).first()


def diary_time(session: Session, patient_id: int) -> str | None:
    """The time the sleep diary is asked, or None when it is not among the patient's check-ins."""
    return session.scalars(select(Schedule.local_time).where(Schedule.patient_id == patient_id, Schedule.instrument == DIARY)).first()


def set_diary(session: Session, patient: Patient, on: bool) -> None:
    """Add the sleep diary to the daily check-in (the same sitting, after the daily items), or take it off."""
    if not on:
        session.execute(delete(Schedule).where(Schedule.patient_id == patient.id, Schedule.instrument == DIARY))
        return
    if diary_time(session, patient.id) is not None:
        return
    daily = session.scalars(select(Schedule.local_time).where(Schedule.patient_id == patient.id, Schedule.instrument == "daily")).first()
    session.add(Schedule(patient_id=patient.id, instrument=DIARY, local_time=daily or patient.clinic.setting("daily_time")))
    session.flush()
