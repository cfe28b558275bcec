"""Turns schedules into prompt rows: the database is the schedule, not in-memory jobs.

Planning is idempotent and safe to run from several processes: a prompt is unique per patient and
instant, and an instrument already prompted on a local day is never prompted again that day
(so changing the time or the time zone moves prompts without sending anything twice).

A patient is planned when their schedule, zone or consent changes (`replan`, from the dialogs),
after each prompt the dispatcher sends, and by the background sweep (scheduler/runner.py), which
pages through patients in short transactions.

Waves: with the clinic's `wave_spread_minutes` above 0, a check-in goes out at the chosen time plus
a whole number of minutes (0 to N) fixed by a hash of the patient and the local day, so 100,000
patients who chose 09:00 are not all due the same second. Never earlier than the chosen time, and
never moved into the patient's quiet hours (the spread is shortened to end before they begin).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler import nudges
from scheduler.outbound import may_be_planned
from scheduler.times import instant, occurrences, parse_hhmm, within
from storage.models import Clinic, Patient, Prompt, Schedule

HORIZON = timedelta(hours=36)
PAGE = 1000
ORDER = {"daily": 0, "peg3": 1, "phq4": 2}  # one sitting: the daily items first
WAVE = "wave_spread_minutes"  # the clinic setting


def quiet_hours_end(patient: Patient, now: datetime) -> datetime | None:
    """When the patient's quiet hours (e.g. 22:00-07:00 local) end, if `now` falls inside them."""
    zone = ZoneInfo(patient.timezone or "UTC")
    local = now.astimezone(zone)
    start, end = parse_hhmm(patient.quiet_start), parse_hhmm(patient.quiet_end)
    clock = local.time()
    if not within(clock, start, end):
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return instant(day, end, zone)


def _in_quiet_hours(patient: Patient, moment: datetime) -> bool:
    return bool(patient.quiet_start and patient.quiet_end) and quiet_hours_end(patient, moment) is not None


def _stable_minutes(patient_id: int, day: date, choices: int) -> int:
    """0 <= n < choices, the same for a patient and local day in every process and run (not hash():
    Python salts that per process)."""
    digest = hashlib.blake2b(f"{patient_id}:{day.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % choices


def spread(patient: Patient, day: date, moment: datetime, minutes: int) -> datetime:
    """The instant a wave's prompt is due: `moment` plus 0 to `minutes` whole minutes (whole minutes:
    a wind-down nudge, at a minute and a second, never takes its place), not into quiet hours."""
    if minutes <= 0 or _in_quiet_hours(patient, moment):  # inside them already: the dispatcher holds it to their end
        return moment
    choices = minutes + 1
    if patient.quiet_start and patient.quiet_end:  # quiet hours begin inside the window: spread over what is left before them
        clock = moment.astimezone(ZoneInfo(patient.timezone)).time()
        start = parse_hhmm(patient.quiet_start)
        seconds = (start.hour * 3600 + start.minute * 60 - clock.hour * 3600 - clock.minute * 60 - clock.second) % 86400
        choices = min(choices, -(-seconds // 60))
    later = moment + timedelta(minutes=_stable_minutes(patient.id, day, choices))
    return moment if _in_quiet_hours(patient, later) else later  # (a clock change inside the window)


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
    planned, locked = 0, []
    for i in range(0, len(ids), PAGE):  # in pages: the queries stay small however many patients there are
        count, page = _plan_page(session, now, horizon, ids[i : i + PAGE], clinics)
        planned, locked = planned + count, locked + page
    # Nudges for the patients just planned: one a dialog step holds is left, like their check-ins, to the next round.
    return planned + nudges.plan(session, now, patient_ids=locked if patient_ids is not None else None, horizon=horizon)


def page_after(session: Session, after: int, size: int) -> list[int]:
    """The next `size` patients (by id, after `after`) the planner plans at all: the sweep's page."""
    query = select(Patient.id).where(*may_be_planned(), Patient.id > after).order_by(Patient.id).limit(size)
    return list(session.scalars(query))


def _plan_page(session: Session, now: datetime, horizon: timedelta, ids: list[int], clinics: dict[int, Clinic]) -> tuple[int, list[int]]:
    # FOR SHARE SKIP LOCKED: a patient whose dialog step is changing their times right now
    # (it holds their row) is planned next round, from what that step saved.
    patients = {
        p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(ids)).with_for_update(read=True, skip_locked=True))
    }
    if not patients:
        return 0, []
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
        clinic = clinics[patient.clinic_id]
        expiry = timedelta(minutes=clinic.setting("expire_after_minutes"))
        wave = clinic.setting(WAVE)
        sittings: dict[tuple[datetime, date], list[str]] = defaultdict(list)
        for schedule in schedules[patient_id]:
            # From `wave` minutes back: a chosen time just past may still be due later today, spread.
            for day, chosen in occurrences(
                parse_hhmm(schedule.local_time), zone, now - timedelta(minutes=wave), now + horizon,
                weekday=schedule.weekday, every_weeks=schedule.every_weeks, anchor=schedule.anchor,
            ):
                moment = spread(patient, day, chosen, wave)
                if moment > now and (patient_id, day, schedule.instrument) not in covered:
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
    return _insert_new(session, rows), list(patients)


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
