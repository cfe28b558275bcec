"""Home exercises: the prescriptions and logs a patient has, today's dose under the prescriber's
progression rule, the pain-rise rule, adherence (sessions logged / prescribed, per week), and the
words for a dose ("3 × 10 repetitions", "15 minutes") that the patient, the dashboard and the
command line all read.

Shared by the patient's dialog, the clinic's rules (clinic/exercises.py), the dashboard and the
exports; the arithmetic is plain Python on rows, so each of them counts the same way.

Progression "pacing" follows the clinic's pacing rule for activity quotas (dialogs/quotas.py,
`raise_if_due`): one step of pacing_raise_percent of the prescribed dose per
pacing_raise_every_days, one step at a time even after weeks away, none in a period with a flare.
For an exercise a period earns its step only when the patient actually did it: the prescribed
sessions for that period logged as done (part of it or skipped earn nothing). No step while the
pain-rise rule holds (pain rose 3 points or more after it in its last two rated logs), and none in
a period a flare touched, from its start to its end (one not marked over lasts as long as the quota
rule lets a flare lower a quota: flare_reduction_hours, then flare_restore_days): the dose holds,
it never drops. The dose never goes above MAX_FACTOR times the prescribed dose: the clinic's
pacing rule has no cap of its own, and going beyond double is a new prescription, the physio's to
make. The rule is restated here rather than imported: the quota rule sits in the dialogs, above
storage, and keeps its state on the activity, while a dose is worked out afresh from the logs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from locales import ngettext
from storage.models import Exercise, ExerciseLog, FlareEpisode, Patient

OUTCOMES = ("done", "part", "skipped")
COUNTED = ("done", "part")  # a session logged, for adherence: part of it counts, a skip does not
PAIN_RISE = 3  # points of pain after an exercise over before it ...
RISES_RUNNING = 2  # ... so many logs of it running: time to tell the physio
MAX_FACTOR = 2  # under "pacing", never above double the prescribed dose


def active(session: Session, patient_id: int) -> list[Exercise]:
    """The exercises prescribed and not stopped, oldest first."""
    return list(session.scalars(select(Exercise).where(Exercise.patient_id == patient_id, Exercise.stopped_at.is_(None))
                                .order_by(Exercise.id)))


def every(session: Session, patient_id: int) -> list[Exercise]:
    """Every exercise ever prescribed to the patient, stopped ones too, oldest first."""
    return list(session.scalars(select(Exercise).where(Exercise.patient_id == patient_id).order_by(Exercise.id)))


def logs(session: Session, exercise_ids: list[int], since: date | None = None, until: date | None = None) -> list[ExerciseLog]:
    """Logs of these exercises, oldest first (by day, then as logged)."""
    if not exercise_ids:
        return []
    query = select(ExerciseLog).where(ExerciseLog.exercise_id.in_(exercise_ids))
    if since is not None:
        query = query.where(ExerciseLog.local_date >= since)
    if until is not None:
        query = query.where(ExerciseLog.local_date <= until)
    return list(session.scalars(query.order_by(ExerciseLog.local_date, ExerciseLog.logged_at, ExerciseLog.id)))


def log_of_day(session: Session, exercise_id: int, day: date) -> ExerciseLog | None:
    return session.scalars(select(ExerciseLog).where(ExerciseLog.exercise_id == exercise_id, ExerciseLog.local_date == day)
                           .order_by(ExerciseLog.id.desc())).first()


def zone_of(patient: Patient) -> ZoneInfo:
    return ZoneInfo(patient.timezone or "UTC")


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The patient's calendar date at this moment."""
    return moment.astimezone(zone).date()


def monday_of(day: date) -> date:
    """The Monday the week of `day` starts on: adherence counts whole weeks, so logs are read from it."""
    return day - timedelta(days=day.weekday())


def amount(exercise: Exercise, dose: float | None = None) -> str:
    """"3 × 10 repetitions" or "15 minutes", with this dose (as prescribed when none is given)."""
    value = round(dose if dose is not None else (exercise.reps or exercise.minutes or 0))
    if exercise.reps is not None:
        return ngettext("{sets} × {reps} repetition", "{sets} × {reps} repetitions", value).format(sets=exercise.sets or 1, reps=value)
    return ngettext("{minutes} minute", "{minutes} minutes", value).format(minutes=value)


# -- the prescriber's progression --------------------------------------------------------------

def dose(session: Session, exercise: Exercise, now: datetime) -> float:
    """Today's reps per set (or minutes). With progression "none", as prescribed, always; with
    "pacing", the clinic's pacing rule as the module says: at most one step per period since it was
    prescribed, earned only by a period with the prescribed sessions done, without a flare and
    without the pain-rise rule holding at its end; never above MAX_FACTOR times the prescribed
    dose. Never by how a day felt."""
    base = float(exercise.reps or exercise.minutes or 0)
    if exercise.progression != "pacing":
        return base
    patient = exercise_patient(session, exercise)
    clinic, zone = patient.clinic, zone_of(patient)
    period = timedelta(days=clinic.setting("pacing_raise_every_days"))
    step = base * clinic.setting("pacing_raise_percent") / 100
    flare_window = timedelta(hours=clinic.setting("flare_reduction_hours"), days=clinic.setting("flare_restore_days"))
    wanted = max(1, math.floor(exercise.days_per_week * period.days / 7 + 0.5))  # sessions due in one period
    flares = list(session.execute(select(FlareEpisode.started_at, FlareEpisode.ended_at).where(
        FlareEpisode.patient_id == exercise.patient_id, FlareEpisode.started_at < now)))
    own = logs(session, [exercise.id])
    current, start = base, exercise.prescribed_at
    while start + period <= now and current < base * MAX_FACTOR:
        end = start + period
        first, last = local_date(start, zone), local_date(end, zone)
        done = {log.local_date for log in own if log.outcome == "done" and first <= log.local_date < last}
        flared = any(started < end and (ended or started + flare_window) >= start for started, ended in flares)
        if len(done) >= wanted and not flared and not rising_by(own, last):
            current = min(current + step, base * MAX_FACTOR)
        start = end
    return current


def exercise_patient(session: Session, exercise: Exercise) -> Patient:
    return session.get(Patient, exercise.patient_id)


# -- the pain-rise rule ------------------------------------------------------------------------

def pain_rose(log: ExerciseLog) -> bool:
    return log.pain_before is not None and log.pain_after is not None and log.pain_after - log.pain_before >= PAIN_RISE


def rising_twice(session: Session, exercise_id: int) -> bool:
    """Pain rose by PAIN_RISE or more after this exercise in each of its last RISES_RUNNING logs
    with both ratings (skipped days are no exercise and do not break the run)."""
    return rising_by(logs(session, [exercise_id]), None)


def rising_by(exercise_logs: list[ExerciseLog], before: date | None) -> bool:
    """The pain-rise rule on these logs of one exercise (oldest first), as it stood before the day
    `before` (or now, when None)."""
    rated = [log for log in exercise_logs if log.outcome in COUNTED and log.pain_before is not None and log.pain_after is not None
             and (before is None or log.local_date < before)]
    last = rated[-RISES_RUNNING:]
    return len(last) == RISES_RUNNING and all(pain_rose(log) for log in last)


# -- adherence ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Week:
    monday: date
    exercise_id: int
    sessions: int  # logged done or part, one a day at most
    prescribed: int  # days_per_week, in proportion to the days it was prescribed that week

    @property
    def share(self) -> float | None:
        return self.sessions / self.prescribed if self.prescribed else None


def prescribed_in(exercise: Exercise, monday: date, first: date, last: date | None) -> int:
    """Sessions prescribed in the week starting `monday`: days_per_week, or for a week the exercise
    started or stopped in, its share of the days it ran (rounded, at least one)."""
    days = sum(1 for n in range(7) if first <= monday + timedelta(days=n) and (last is None or monday + timedelta(days=n) <= last))
    if days == 0:
        return 0
    return max(1, math.floor(exercise.days_per_week * days / 7 + 0.5))


def adherence(exercises: list[Exercise], exercise_logs: list[ExerciseLog], zone: ZoneInfo, until: date,
              since: date | None = None) -> list[Week]:
    """Per exercise and per calendar week (Monday first) on the patient's calendar (`zone`), from the
    week it was prescribed (or the week of `since`) to the week of `until`. The first week is counted
    whole: give the logs from its Monday (`monday_of(since)`), not from `since`."""
    weeks = []
    for exercise in exercises:
        first = local_date(exercise.prescribed_at, zone)
        last = local_date(exercise.stopped_at, zone) if exercise.stopped_at else None
        days = {log.local_date for log in exercise_logs if log.exercise_id == exercise.id and log.outcome in COUNTED}
        monday = max(first, since or first)
        monday -= timedelta(days=monday.weekday())
        end = min(until, last) if last else until
        while monday <= end:
            prescribed = prescribed_in(exercise, monday, first, last)
            sessions = sum(1 for day in days if monday <= day < monday + timedelta(days=7))
            weeks.append(Week(monday, exercise.id, sessions, prescribed))
            monday += timedelta(days=7)
    return weeks


def weekly_totals(weeks: list[Week]) -> list[tuple[date, int, int]]:
    """(monday, sessions, prescribed) over all exercises, week by week."""
    totals: dict[date, list[int]] = {}
    for week in weeks:
        total = totals.setdefault(week.monday, [0, 0])
        total[0] += week.sessions
        total[1] += week.prescribed
    return [(monday, sessions, prescribed) for monday, (sessions, prescribed) in sorted(totals.items())]
