"""The wide CSV: one row per completed check-in (one instrument answered in one sitting), one
column per item and per score. A skipped item is an empty cell, named in `skipped_items`."""
from __future__ import annotations

from typing import TextIO

from sqlalchemy.orm import Session

from content.instruments import Instrument, instruments
from exports import cells
from exports.long import IDENTIFYING, number
from exports.source import Filters, iso, people, sittings

FIRST = [
    "study_code", "response_id", "instrument", "completed_at_utc", "completed_at_local", "timezone",
    "scheduled_for_utc", "delay_minutes", "source", "language", "skipped_items",
]
SCORES = {"mean": ["score"], "phq4": ["total", "band", "anxiety", "anxiety_positive", "depression", "depression_positive"]}


def selected(filters: Filters) -> list[Instrument]:
    return [m for m in instruments().values() if not filters.instruments or m.id in filters.instruments]


def score_columns(measure: Instrument) -> list[str]:
    return [f"{measure.id}_{name}" for name in SCORES.get(measure.scoring, [])]


# The instruments of the first layout: their items, then their scores. An instrument added since
# (the sleep diary) appends its own columns after them, so no column a reader relies on ever moves.
FIRST_LAYOUT = ("daily", "peg3", "phq4")


def columns(filters: Filters) -> list[str]:
    measures = selected(filters)
    first = [m for m in measures if m.id in FIRST_LAYOUT]
    later = [m for m in measures if m.id not in FIRST_LAYOUT]
    blocks = [[item.id for m in first for item in m.items], [column for m in first for column in score_columns(m)]]
    blocks += [[item.id for item in m.items] + score_columns(m) for m in later]
    return FIRST + [column for block in blocks for column in block] + (IDENTIFYING if filters.identify else [])


def write(session: Session, filters: Filters, out: TextIO) -> int:
    """Write the wide CSV; returns the number of rows (completed responses)."""
    persons = people(session, filters)
    header = columns(filters)
    position = {name: i for i, name in enumerate(header)}
    writer = cells.writer(out)
    writer.writerow(header)
    count = 0
    for sitting in sittings(session, filters, persons.keys()):
        person = persons[sitting.patient_id]
        row = [""] * len(header)
        last_answer = max(at for _value, _skipped, at in sitting.answers.values())
        delay = f"{(last_answer - sitting.scheduled_for).total_seconds() / 60:.1f}" if sitting.scheduled_for else ""
        row[: len(FIRST)] = [
            person.study_code, sitting.response_id, sitting.instrument, iso(sitting.completed_at),
            iso(sitting.completed_at.astimezone(person.zone)), person.zone.key,
            iso(sitting.scheduled_for) if sitting.scheduled_for else "", delay, sitting.source, sitting.language,
            " ".join(item for item, (_value, skipped, _at) in sitting.answers.items() if skipped),
        ]
        for item, (value, skipped, _at) in sitting.answers.items():
            if item in position and not skipped:
                row[position[item]] = number(value)
        for name, value in (sitting.score or {}).items():
            if (column := f"{sitting.instrument}_{name}") in position:
                row[position[column]] = value if isinstance(value, str) else number(value)
        if filters.identify:
            row[-3:] = [person.clinic_reference or "", person.telegram_id or "", person.name or ""]
        writer.writerow(row)
        count += 1
    return count
