"""Home exercise adherence: `exercises.csv`, one row per prescribed exercise and calendar week
(Monday first, on the patient's calendar, counted whole even when the range starts mid-week):
sessions logged against those prescribed, and how often pain rose by 3 or more points after it.
The dashboard's patient page reads the same weeks (`gather`). Numbers and codes only: the exercise's name and the physio's note stay out of the CSV."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from exports import cells
from exports.long import IDENTIFYING, number
from exports.source import Filters, as_utc, iso, people
from storage import exercises as stored
from storage.models import Exercise, Patient

COLUMNS = ["study_code", "exercise_id", "week_start", "days_per_week", "progression", "sessions_logged", "sessions_prescribed",
           "adherence", "skipped", "pain_rises", "prescribed_at_utc", "stopped_at_utc"]
NOTES = {
    "exercise_id": ("Id of the prescribed exercise (its record_id in activity.csv)", "integer"),
    "week_start": ("The Monday the week starts on, the patient's local date", "YYYY-MM-DD"),
    "days_per_week": ("Sessions a week the clinician prescribed", "integer"),
    "progression": ("none: always as prescribed; pacing: the clinic's pacing rule (one planned rise after each period with the "
                    "prescribed sessions done, none in a period with a flare or while pain rose by 3 or more twice running, "
                    "at most double the prescribed dose)", "none|pacing"),
    "sessions_logged": ("Days the patient logged it done or partly done that week (one a day at most)", "integer"),
    "sessions_prescribed": ("days_per_week; in the week it started or stopped, its share of the days it ran (rounded, at least 1)",
                            "integer"),
    "adherence": ("sessions_logged / sessions_prescribed (may exceed 1)", "number"),
    "skipped": ("Days the patient logged it as skipped that week", "integer"),
    "pain_rises": ("Logs that week with pain after 3 or more points above pain before (0-10 scales)", "integer"),
    "prescribed_at_utc": ("When the clinician added it, UTC", "ISO 8601 with offset"),
    "stopped_at_utc": ("When the clinician stopped it, UTC; empty while it runs", "ISO 8601 with offset"),
}


@dataclass(frozen=True)
class WeekRow:
    exercise: Exercise
    week: stored.Week
    skipped: int
    pain_rises: int


@dataclass
class Exercises:
    """A patient's exercises (all, stopped ones too) and their weeks over a range, oldest first."""

    prescribed: list[Exercise] = field(default_factory=list)
    weeks: list[WeekRow] = field(default_factory=list)
    twice: set[int] = field(default_factory=set)  # exercises whose pain rose twice running, as the patient was told


def gather(session: Session, patient_id: int, zone: ZoneInfo, until: date, since: date | None = None) -> Exercises:
    rows = stored.every(session, patient_id)
    logs = stored.logs(session, [row.id for row in rows], since=stored.monday_of(since) if since else None, until=until)  # whole weeks
    by_id = {row.id: row for row in rows}
    found = Exercises(prescribed=rows, twice={row.id for row in rows if row.stopped_at is None and stored.rising_twice(session, row.id)})
    for week in stored.adherence(rows, logs, zone, until, since=since):
        mine = [log for log in logs if log.exercise_id == week.exercise_id and 0 <= (log.local_date - week.monday).days < 7]
        found.weeks.append(WeekRow(by_id[week.exercise_id], week, sum(log.outcome == "skipped" for log in mine),
                                   sum(stored.pain_rose(log) for log in mine)))
    found.weeks.sort(key=lambda row: (row.week.monday, row.exercise.id))
    return found


def write(session: Session, filters: Filters, out: TextIO, now: datetime) -> int:
    writer = cells.writer(out)
    writer.writerow(COLUMNS + (IDENTIFYING if filters.identify else []))
    count = 0
    for person in people(session, filters).values():
        patient = session.get(Patient, person.id)
        until = ((filters.until if filters.until and filters.until < now else now)).astimezone(person.zone).date()
        since = filters.since.astimezone(person.zone).date() if filters.since else None
        for row in gather(session, patient.id, person.zone, until, since).weeks:
            share = row.week.share
            line = [person.study_code, row.exercise.id, row.week.monday.isoformat(), row.exercise.days_per_week, row.exercise.progression,
                    row.week.sessions, row.week.prescribed, "" if share is None else number(round(share, 3)), row.skipped, row.pain_rises,
                    iso(as_utc(row.exercise.prescribed_at)), iso(as_utc(row.exercise.stopped_at)) if row.exercise.stopped_at else ""]
            if filters.identify:
                line += [person.clinic_reference or "", person.telegram_id or "", person.name or ""]
            writer.writerow(line)
            count += 1
    return count
