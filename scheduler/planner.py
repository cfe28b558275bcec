"""Turns schedules into prompt rows: the database is the schedule, not in-memory jobs.

Planning is idempotent and safe to run from several processes: a prompt is unique per patient and
instant, and an instrument already prompted on a local day is never prompted again that day
(so changing the time or the time zone moves prompts without sending anything twice).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler import nudges
from scheduler.outbound import may_be_planned
from scheduler.times import occurrences, parse_hhmm
from storage.models import Clinic, Patient, Prompt, Schedule

HORIZON = timedelta(hours=36)
PAGE = 1000
ORDER = {"daily": 0, "peg3": 1, "phq4": 2}  # one sitting: the daily items first


def create_default_schedules(session: Session, patient: Patient, now: datetime) -> None:
    """The clinic's defaults: daily items every day; PEG-3 weekly and PHQ-4 every other week."""
    clinic = patient.clinic
    zone = ZoneInfo(patient.timezone)
    weekday = clinic.setting("weekly_weekday")
    today = now.astimezone(zone).date()
    first_weekly = today + timedelta(days=(weekday - today.weekday()) % 7)
    rows = [
        Schedule(patient_id=patient.id, instrument="daily", local_time=clinic.setting("daily_time")),
        Schedule(patient_id=patient.id, instrument="peg3", local_time=clinic.setting("weekly_time"), weekday=weekday),
        Schedule(
            patient_id=patient.id,
            instrument="phq4",
            local_time=clinic.setting("weekly_time"),
            weekday=weekday,
            every_weeks=clinic.setting("phq4_every_weeks"),
            anchor=first_weekly,
        ),
    ]
    existing = set(session.scalars(select(Schedule.instrument).where(Schedule.patient_id == patient.id)))
    session.add_all(row for row in rows if row.instrument not in existing)
    session.flush()


def plan(session: Session, now: datetime, *, patient_ids: list[int] | None = None, horizon: timedelta = HORIZON) -> int:
    """Create the prompts due in (now, now + horizon]; returns how many were planned."""
    query = select(Patient.id).where(
        *may_be_planned(),
    )
    if patient_ids is not None:
        query = query.where(Patient.id.in_(patient_ids))
    ids = list(session.scalars(query.order_by(Patient.id)))
    clinics = {c.id: c for c in session.scalars(select(Clinic))}
    # In pages: the queries stay small however many patients there are.
    planned = sum(_plan_page(session, now, horizon, ids[i : i + PAGE], clinics) for i in range(0, len(ids), PAGE))
    return planned + nudges.plan(session, now, patient_ids=patient_ids, horizon=horizon)


def _plan_page(session: Session, now: datetime, horizon: timedelta, ids: list[int], clinics: dict[int, Clinic]) -> int:
    # FOR SHARE SKIP LOCKED: a patient whose dialog step is changing their times right now
    # (it holds their row) is planned next round, from what that step saved.
    patients = {
        p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(ids)).with_for_update(read=True, skip_locked=True))
    }
    if not patients:
        return 0
    schedules: dict[int, list[Schedule]] = defaultdict(list)
    for schedule in session.scalars(select(Schedule).where(Schedule.patient_id.in_(patients))):
        schedules[schedule.patient_id].append(schedule)
    covered: set[tuple[int, date, str]] = set()
    window = session.execute(
        select(Prompt.patient_id, Prompt.local_date, Prompt.instruments).where(
            Prompt.patient_id.in_(patients), Prompt.scheduled_for > now - timedelta(days=2)
        )
    )
    for patient_id, local_date, instruments in window:
        covered.update((patient_id, local_date, instrument) for instrument in instruments)

    rows = []
    for patient_id, patient in patients.items():
        zone = ZoneInfo(patient.timezone)
        expiry = timedelta(minutes=clinics[patient.clinic_id].setting("expire_after_minutes"))
        sittings: dict[tuple[datetime, date], list[str]] = defaultdict(list)
        for schedule in schedules[patient_id]:
            for day, moment in occurrences(
                parse_hhmm(schedule.local_time), zone, now, now + horizon,
                weekday=schedule.weekday, every_weeks=schedule.every_weeks, anchor=schedule.anchor,
            ):
                if (patient_id, day, schedule.instrument) not in covered:
                    sittings[(moment, day)].append(schedule.instrument)
        for (moment, day), instruments in sittings.items():
            rows.append(
                {
                    "patient_id": patient_id,
                    "instruments": sorted(instruments, key=lambda i: ORDER.get(i, len(ORDER))),
                    "local_date": day,
                    "scheduled_for": moment,
                    "expires_at": moment + expiry,
                    "status": "scheduled",
                    "updated_at": now,
                }
            )
    return _insert_new(session, rows)


def _insert_new(session: Session, rows: list[dict]) -> int:
    """Insert the rows another planner has not inserted already; returns how many were offered."""
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Prompt).on_conflict_do_nothing(index_elements=["patient_id", "scheduled_for"])
    for start in range(0, len(rows), 1000):
        session.execute(statement, rows[start : start + 1000])
    return len(rows)


def replan(session: Session, patient: Patient, now: datetime) -> None:
    """After a change of time zone, times, pause or being blocked: drop the future prompts not
    sent and plan again."""
    session.execute(
        delete(Prompt).where(
            Prompt.patient_id == patient.id,
            Prompt.kind.in_(("checkin", nudges.KIND)),  # a flare follow-up keeps its time; a wind-down nudge moves with the zone
            Prompt.status.in_(("scheduled", "blocked")),
            Prompt.scheduled_for > now,
        )
    )
    session.flush()
    plan(session, now, patient_ids=[patient.id])
