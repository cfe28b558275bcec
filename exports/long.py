"""The long CSV: one row per answered (or skipped) item, then one row per score of the response.

What the patient answered, exactly: the stored value, the label of the option they pressed, the
time they answered in UTC and in their own time zone, and when the check-in was scheduled.
"""
from __future__ import annotations

import csv
from functools import cache
from typing import Callable, TextIO

from sqlalchemy.orm import Session

from content.instruments import MAIN_SCORE, instruments
from exports.cells import neutral
from exports.source import Filters, SittingClock, iso, parse_score, people, responses

COLUMNS = [
    "study_code", "record_type", "instrument", "item_id", "item_text", "loinc", "value", "label", "score",
    "answered_at_utc", "answered_at_local", "timezone", "scheduled_for_utc", "delay_minutes", "source",
    "skipped", "response_id", "language", "translation_validated",
]
IDENTIFYING = ["clinic_reference", "telegram_id", "name"]  # only with Filters.identify
PROGRESS_EVERY = 100_000  # rows between progress reports on the terminal


def columns(filters: Filters) -> list[str]:
    return COLUMNS + (IDENTIFYING if filters.identify else [])


def number(value: float | int | None) -> str:
    """7.0 → "7", 6.5 → "6.5": whole numbers without a decimal point, as they were answered."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


NO_ITEM = ("", "", {})


def item_meta() -> dict[str, tuple[str, str, dict[int, str]]]:
    """item id (unique across instruments) → (English text, LOINC code, option labels by value)."""
    return {
        item.id: (neutral(item.text), neutral(item.loinc or ""), {o.value: neutral(o.label) for o in item.options})
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
        loinc = (measure.score_loinc or "") if measure and name == MAIN_SCORE.get(measure.scoring) else ""
        label = score.get("band", "") if name == "total" else ""
        rows.append((f"{instrument}_{name}", loinc, number(value), label))
    return rows


def write(session: Session, filters: Filters, out: TextIO, *, progress: Callable[[int], None] | None = None) -> int:
    """Write the long CSV; returns the number of item rows. (The inner loop runs once per
    answered item, a million times for a large export: keep it lean.)"""
    persons = people(session, filters)
    meta = item_meta()
    validated = {m.id: m.validated for m in instruments().values()}
    main_keys = {m.id: MAIN_SCORE.get(m.scoring) for m in instruments().values()}  # the score every item row carries
    numbers: dict[float, str] = {}  # answers repeat a few values: format each once
    # Text cells are made safe for a spreadsheet (exports.cells) where they come from, once per
    # patient, response or item id, not cell by cell: this loop runs a million times.
    text = cache(neutral)
    writer = csv.writer(out)
    writer.writerow(columns(filters))
    count = 0
    for (patient_id, response_id, instrument, source, language, started, completed, raw_score, scheduled), answers in responses(
        session, filters, persons.keys()
    ):
        person = persons[patient_id]
        code, zone, key = text(person.study_code), person.zone, text(person.zone.key)
        score = parse_score(raw_score)
        main = number(score.get(main_keys.get(instrument))) if score else ""
        clock = SittingClock(zone, started, completed, scheduled)
        translation = "1" if validated.get(instrument, {}).get(language, False) else "0"
        scores = score_rows(instrument, score) if score else []
        instrument, source, language = text(instrument), text(source), text(language)
        tail = [text(person.clinic_reference or ""), text(person.telegram_id or ""), text(person.name or "")] if filters.identify else []
        rows = []
        for _response, item_id, value, skipped, answered in answers:
            item_text, loinc, labels = meta.get(item_id, NO_ITEM)
            item_id = text(item_id)
            answered_utc, answered_local, delay = clock.times(answered)
            if value is None or skipped:
                shown, label = "", ""
            else:
                shown = numbers.get(value) or numbers.setdefault(value, number(value))
                label = labels.get(value, "") if labels else ""
            rows.append([code, "item", instrument, item_id, item_text, loinc, shown, label, main, answered_utc, answered_local, key,
                         clock.scheduled_text, delay, source, "1" if skipped else "0", response_id, language, translation, *tail])
        if scores:
            at_utc, at_local = iso(clock.completed), iso(clock.completed.astimezone(zone))
            rows += [
                [code, "score", instrument, name, "", loinc, val, label, val, at_utc, at_local, key, clock.scheduled_text, "",
                 source, "0", response_id, language, translation, *tail]
                for name, loinc, val, label in scores
            ]
        writer.writerows(rows)
        count += len(answers)
        if progress is not None and count // PROGRESS_EVERY != (count - len(answers)) // PROGRESS_EVERY:
            progress(count)
    return count
