"""REDCap: a data dictionary and a records CSV that a REDCap project imports as they are.

One record per patient (record_id = study code) with an `enrollment` form, and each instrument
as a repeating instrument (one instance per completed response). Follows REDCap's import rules:
lower-case variable names of letters, digits and underscores starting with a letter; radio
choices as "code, label | …"; datetimes as `YYYY-MM-DD HH:MM:SS` (validation
datetime_seconds_ymd); a form's `<form>_complete` is 2 (Complete). A skipped item stays blank.
"""
from __future__ import annotations

from typing import TextIO

from sqlalchemy.orm import Session

from content.instruments import Instrument
from exports import cells
from exports.long import number
from exports.source import Filters, people, sittings
from exports.wide import SCORES, selected

DICTIONARY_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]
ENROLLMENT = "enrollment"
SOURCES = {"scheduled": "1", "self": "2"}
DATETIME = "datetime_seconds_ymd"


def _field(name, form, kind, label, *, choices="", note="", validation="", low="", high="", required=""):
    return {"name": name, "form": form, "kind": kind, "label": label, "choices": choices, "note": note,
            "validation": validation, "min": low, "max": high, "required": required}


def fields(measures: list[Instrument]) -> list[dict]:
    found = [
        _field("record_id", ENROLLMENT, "text", "Study code"),
        _field("language", ENROLLMENT, "text", "Language the patient uses (en, es, de)"),
        _field("timezone", ENROLLMENT, "text", "The patient's IANA time zone"),
    ]
    for m in measures:
        form, prefix = m.id, m.redcap_prefix or m.id
        found += [
            _field(f"{prefix}_completed_utc", form, "text", "Completed at (UTC)", validation=DATETIME),
            _field(f"{prefix}_completed_local", form, "text", "Completed at (patient's local time)", validation=DATETIME),
            _field(f"{prefix}_scheduled_utc", form, "text", "Scheduled for (UTC); blank when self-started", validation=DATETIME),
            _field(f"{prefix}_source", form, "radio", "Source", choices="1, Scheduled prompt | 2, Started by the patient"),
            _field(f"{prefix}_language", form, "text", "Language answered in"),
            _field(f"{prefix}_skipped", form, "text", "Items skipped (ids)"),
        ]
        for item in m.items:
            label = f"{m.stem} {item.text}" if m.stem else item.text
            note = f"{item.minimum:g} = {item.low}; {item.maximum:g} = {item.high}" if item.low and item.high else ""
            note = "Minutes after midnight, local time (1350 = 22:30)" if item.clock else note
            if item.options:
                choices = " | ".join(f"{o.value}, {o.label}" for o in item.options)
                found.append(_field(item.id, form, "radio", label, choices=choices, required="" if item.optional else "y"))
            else:
                found.append(_field(item.id, form, "text", label, note=note, validation="number" if item.decimals else "integer",
                                    low=f"{item.minimum:g}", high=f"{item.maximum:g}", required="" if item.optional else "y"))
        for name in SCORES.get(m.scoring, []):
            if name.endswith("_positive"):
                found.append(_field(f"{prefix}_{name}", form, "yesno", f"{m.name}: {name.replace('_', ' ')}"))
            elif name == "band":
                found.append(_field(f"{prefix}_{name}", form, "text", f"{m.name}: severity band"))
            else:
                found.append(_field(f"{prefix}_{name}", form, "text", f"{m.name}: {name}", validation="number"))
    return found


def write_dictionary(filters: Filters, out: TextIO) -> int:
    writer = cells.writer(out)
    writer.writerow(DICTIONARY_HEADER)
    rows = fields(selected(filters))
    for f in rows:
        writer.writerow([f["name"], f["form"], "", f["kind"], f["label"], f["choices"], f["note"], f["validation"],
                         f["min"], f["max"], "", "", f["required"], "", "", "", "", ""])
    return len(rows)


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def write_records(session: Session, filters: Filters, out: TextIO) -> int:
    """The records CSV; returns the number of instrument instances."""
    measures = selected(filters)
    names = [f["name"] for f in fields(measures)]
    forms = [ENROLLMENT] + [m.id for m in measures]
    prefixes = {m.id: m.redcap_prefix or m.id for m in measures}
    header = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", *names[1:], *(f"{form}_complete" for form in forms)]
    position = {name: i for i, name in enumerate(header)}
    writer = cells.writer(out)
    writer.writerow(header)
    persons = people(session, filters)
    for person_id in sorted(persons, key=lambda i: persons[i].study_code):
        row = [""] * len(header)
        row[0] = persons[person_id].study_code
        row[position["language"]], row[position["timezone"]] = persons[person_id].language, persons[person_id].zone.key
        row[position[f"{ENROLLMENT}_complete"]] = "2"
        writer.writerow(row)
    count = 0
    for sitting in sittings(session, filters, persons.keys()):
        person = persons[sitting.patient_id]
        form = sitting.instrument
        if f"{form}_complete" not in position:
            continue
        row = [""] * len(header)
        # The response's id, not a count: a filtered or later export must not renumber (and so
        # overwrite, on import) instances already in the project.
        row[:3] = [person.study_code, form, sitting.response_id]
        prefix = prefixes[form]
        values = {
            f"{prefix}_completed_utc": _when(sitting.completed_at),
            f"{prefix}_completed_local": _when(sitting.completed_at.astimezone(person.zone)),
            f"{prefix}_scheduled_utc": _when(sitting.scheduled_for),
            f"{prefix}_source": SOURCES.get(sitting.source, ""),
            f"{prefix}_language": sitting.language,
            f"{prefix}_skipped": " ".join(item for item, (_v, skipped, _at) in sitting.answers.items() if skipped),
            f"{form}_complete": "2",  # REDCap's own name for it
        }
        values |= {item: number(value) for item, (value, skipped, _at) in sitting.answers.items() if not skipped}
        for name, value in (sitting.score or {}).items():
            values[f"{prefix}_{name}"] = value if isinstance(value, str) else number(value)
        for name, value in values.items():
            if name in position:
                row[position[name]] = value
        writer.writerow(row)
        count += 1
    return count
