"""Coaching activity in the long CSV style: one row per measure of each drill, guided practice, thought-check,
pacing quota and log, flare episode, sprint review, small win, home exercise and its log, and lesson (exports/lessons.py).
Numbers and choices only: what patients
wrote in their own words stays out (it is not a measure, and it could name them)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from exports import cells, lessons
from exports.long import IDENTIFYING, number
from exports.source import STREAM, Filters, Person, iso, people
from storage.models import (BreathingSession, Exercise, ExerciseLog, FlareEpisode, PacingActivity, PacingLog, PracticeRun, SmallWin,
                            Sprint, ThoughtRecord)

COLUMNS = ["study_code", "activity", "record_id", "measure", "value", "at_utc", "at_local", "timezone"]

# activity → (model, time column, measures); a measure is a column name
MEASURES = {
    "breathing": (BreathingSession, "created_at", ["pattern", "planned_seconds", "actual_seconds", "completed", "tension_before", "tension_after"]),
    "practice": (PracticeRun, "created_at", ["family", "kind", "planned_seconds", "actual_seconds", "completed", "ended_at",
                                             "tension_before", "tension_after", "in_charge_before", "in_charge_after"]),
    "thought_check": (ThoughtRecord, "created_at", ["kind", "trap", "emotion_before", "emotion_after", "belief_before", "belief_after", "completed_at"]),
    "pacing_activity": (PacingActivity, "created_at", ["baseline_minutes", "quota_minutes", "next_raise_on"]),
    "flare": (FlareEpisode, "started_at", ["started_at", "ended_at", "peak_pain"]),
    "exercise": (Exercise, "prescribed_at", ["sets", "reps", "minutes", "days_per_week", "progression", "stopped_at"]),  # not its name or note
}


def _value(value) -> str:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (int, float)):
        return number(value)
    return "" if value is None else str(value)


def rows(session: Session, filters: Filters, persons: dict[int, Person]) -> Iterator[tuple[Person, list[str]]]:
    ids = list(persons)
    in_range = lambda column: [c for c in (  # noqa: E731
        column >= filters.since if filters.since else None, column < filters.until if filters.until else None) if c is not None]

    def stamp(person: Person, at: datetime) -> list[str]:
        return [iso(at), iso(at.astimezone(person.zone)), person.zone.key]

    for activity, (model, when, measures) in MEASURES.items():
        time = getattr(model, when)
        # The measure columns only: never the patient's own words (nor decrypting them to skip them).
        columns = [model.id, model.patient_id, time, *(getattr(model, m) for m in measures)]
        query = select(*columns).where(model.patient_id.in_(ids), *in_range(time)).order_by(model.patient_id, time)
        for record_id, patient_id, at, *values in session.execute(query.execution_options(yield_per=STREAM)):
            person = persons[patient_id]
            for measure, value in zip(measures, values):
                yield person, [person.study_code, activity, record_id, measure, _value(value), *stamp(person, at)]
    logs = (
        select(PacingLog, PacingActivity.patient_id)  # no free text in a log
        .join(PacingActivity, PacingActivity.id == PacingLog.activity_id)
        .where(PacingActivity.patient_id.in_(ids), *in_range(PacingLog.logged_at))
        .order_by(PacingActivity.patient_id, PacingLog.logged_at)
    )
    for log, patient_id in session.execute(logs.execution_options(yield_per=STREAM)):
        person = persons[patient_id]
        for measure in ("activity_id", "kind", "minutes", "quota_minutes", "local_date"):
            yield person, [person.study_code, "pacing_log", log.id, measure, _value(getattr(log, measure)), *stamp(person, log.logged_at)]
    exercise_logs = (
        select(ExerciseLog, Exercise.patient_id)  # no free text in a log
        .join(Exercise, Exercise.id == ExerciseLog.exercise_id)
        .where(Exercise.patient_id.in_(ids), *in_range(ExerciseLog.logged_at))
        .order_by(Exercise.patient_id, ExerciseLog.logged_at)
    )
    for log, patient_id in session.execute(exercise_logs.execution_options(yield_per=STREAM)):
        person = persons[patient_id]
        for measure in ("exercise_id", "local_date", "outcome", "dose", "pain_before", "pain_after"):
            yield person, [person.study_code, "exercise_log", log.id, measure, _value(getattr(log, measure)), *stamp(person, log.logged_at)]
    sprints = select(Sprint).where(Sprint.patient_id.in_(ids), Sprint.reviewed_at.is_not(None), *in_range(Sprint.reviewed_at))
    for sprint in session.scalars(sprints.order_by(Sprint.patient_id, Sprint.reviewed_at)):
        person = persons[sprint.patient_id]
        yield person, [person.study_code, "sprint", sprint.id, "weeks", str(sprint.weeks), *stamp(person, sprint.reviewed_at)]
        for metric, values in sorted((sprint.review or {}).items()):
            for end in ("first", "last"):
                yield person, [person.study_code, "sprint", sprint.id, f"{metric}_{end}_week", _value(values.get(end)), *stamp(person, sprint.reviewed_at)]
    won = select(SmallWin).where(SmallWin.patient_id.in_(ids), *in_range(SmallWin.said_at))  # numbers and codes only
    for win in session.scalars(won.order_by(SmallWin.patient_id, SmallWin.said_at).execution_options(yield_per=STREAM)):
        person = persons[win.patient_id]
        facts = {"kind": win.kind, "activity_id": win.activity_id, **(win.facts or {})}
        for measure, value in facts.items():
            if value is not None:
                yield person, [person.study_code, "small_win", win.id, measure, _value(value), *stamp(person, win.said_at)]
    yield from lessons.rows(session, filters, persons, _value, stamp)


def write(session: Session, filters: Filters, out: TextIO) -> int:
    persons = people(session, filters)
    writer = cells.writer(out)
    writer.writerow(COLUMNS + (IDENTIFYING if filters.identify else []))
    count = 0
    for person, row in rows(session, filters, persons):
        if filters.identify:
            row += [person.clinic_reference or "", person.telegram_id or "", person.name or ""]
        writer.writerow(row)
        count += 1
    return count
