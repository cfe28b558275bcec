"""The long CSV: one row per answered (or skipped) item, then one row per score of the response.

What the patient answered, exactly: the stored value, the label of the option they pressed, the
time they answered in UTC and in their own time zone, and when the check-in was scheduled.
"""
from __future__ import annotations

import csv
from typing import Callable, TextIO

from sqlalchemy.orm import Session

from content.instruments import instruments
from exports.source import Filters, Person, answer_rows, parse_score, people

COLUMNS = [
    "study_code", "record_type", "instrument", "item_id", "item_text", "loinc", "value", "label", "score",
    "answered_at_utc", "answered_at_local", "timezone", "scheduled_for_utc", "delay_minutes", "source",
    "skipped", "response_id", "language", "translation_validated",
]
IDENTIFYING = ["clinic_reference", "telegram_id", "name"]  # only with Filters.identify


def columns(filters: Filters) -> list[str]:
    return COLUMNS + (IDENTIFYING if filters.identify else [])


def number(value: float | int | None) -> str:
    """7.0 → "7", 6.5 → "6.5": whole numbers without a decimal point, as they were answered."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def item_meta() -> dict[tuple[str, str], tuple[str, str, dict[int, str]]]:
    """(instrument, item) → (English text, LOINC code, option labels by value)."""
    return {
        (m.id, item.id): (item.text, item.loinc or "", {o.value: o.label for o in item.options})
        for m in instruments().values()
        for item in m.items
    }


def score_rows(instrument: str, score: dict) -> list[tuple[str, str, str, str]]:
    """A response's scores as (item_id, LOINC, value, label) rows: the PHQ-4 band is a label."""
    measure = instruments().get(instrument)
    rows = []
    for name, value in score.items():
        if name == "band":
            continue
        loinc = (measure.score_loinc or "") if name in ("score", "total") and measure else ""
        label = score.get("band", "") if name == "total" else ""
        rows.append((f"{instrument}_{name}", loinc, number(value), label))
    return rows


def write(session: Session, filters: Filters, out: TextIO, *, progress: Callable[[int], None] | None = None) -> int:
    """Write the long CSV; returns the number of item rows."""
    persons = people(session, filters)
    meta = item_meta()
    validated = {m.id: m.validated for m in instruments().values()}
    writer = csv.writer(out)
    writer.writerow(columns(filters))
    count = 0
    last_response, score, main = None, None, ""
    pending_scores: list[list[str]] = []
    person: Person | None = None
    for (patient_id, response_id, instrument, source, language, completed, raw_score, scheduled,
         item_id, value, skipped, answered) in answer_rows(session, filters, persons.keys()):
        if response_id != last_response:  # rows arrive grouped by response: parse its score once
            writer.writerows(pending_scores)
            last_response = response_id
            person = persons[patient_id]
            score = parse_score(raw_score)
            main = number(score.get("score", score.get("total"))) if score else ""
            tail = [person.clinic_reference or "", person.telegram_id or "", person.name or ""] if filters.identify else []
            completed_local = completed.astimezone(person.zone).isoformat()
            scheduled_text = scheduled.isoformat() if scheduled else ""
            translation = "1" if validated.get(instrument, {}).get(language, False) else "0"
            pending_scores = [
                [person.study_code, "score", instrument, name, "", loinc, val, label, val,
                 completed.isoformat(), completed_local, person.zone.key, scheduled_text, "", source, "0",
                 response_id, language, translation, *tail]
                for name, loinc, val, label in (score_rows(instrument, score) if score else [])
            ]
        text, loinc, labels = meta.get((instrument, item_id), ("", "", {}))
        delay = number(round((answered - scheduled).total_seconds() / 60, 1)) if scheduled else ""
        writer.writerow([
            person.study_code, "item", instrument, item_id, text, loinc,
            "" if skipped else number(value), "" if value is None else labels.get(int(value), ""), main,
            answered.isoformat(), answered.astimezone(person.zone).isoformat(), person.zone.key, scheduled_text,
            delay, source, "1" if skipped else "0", response_id, language, translation, *tail,
        ])
        count += 1
        if progress is not None and count % 100_000 == 0:
            progress(count)
    writer.writerows(pending_scores)
    return count
