"""FHIR R4 as NDJSON, laid out like a Bulk Data export: one file per resource type, one resource a line.

Why: a clinic loads FHIR into its record or research platform without a mapping of ours, and the
LOINC codes say what each item and score is. Each instrument is a Questionnaire, each completed
response a QuestionnaireResponse, each score an Observation derived from that response. An
instrument kept to be charted over time (`observed`, the sleep diary) also has an Observation per
answer, coded by LOINC where the item has a code and otherwise under our one local code system,
LOCAL (the item's id as the code); a time of day is a `valueTime`. Relaxation and mindfulness runs,
lesson answers and home exercise logs are Observations under LOCAL too (exports/fhir_activity.py).
Pseudonymous: the subject is the study code (a logical reference by identifier). Only an identified
export (an admin's choice) adds Patient resources carrying the Telegram id, name and clinic reference.
Responses are streamed from exports.source and written as they are read, one at a time.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from content.instruments import MAIN_SCORE, Instrument, Item, Option, instruments
from content.instruments import instrument as instrument_named
from exports import fhir_activity
from exports.fhir_activity import CATEGORY, LOCAL, UCUM  # LOCAL: the one local code system (measures with no LOINC code)
from exports.files import owner_only, private_dir
from exports.source import Filters, Person, Sitting, people, sittings

LOINC = "http://loinc.org"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"  # an answer's score weight
STUDY_CODE = "urn:paincoach:study-code"
TELEGRAM = "urn:paincoach:telegram-user"
CLINIC_REFERENCE = "urn:paincoach:clinic-reference"
SOURCE = "urn:paincoach:source"  # meta.tag: scheduled | self
TRANSLATION = "urn:paincoach:translation"  # meta.tag: validated | not-validated (the language answered in)
TYPES = ("Questionnaire", "QuestionnaireResponse", "Observation")


def canonical(instrument_id: str) -> str:
    return f"urn:paincoach:questionnaire:{instrument_id}"


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a Questionnaire: English texts, LOINC codes where it has them."""
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire", "id": instrument.id.replace("_", "-"), "url": canonical(instrument.id),  # ids: no "_"
        "name": instrument.id.upper(), "title": instrument.name, "status": "active",
        "subjectType": ["Patient"], "copyright": instrument.licence,
    }
    if instrument.stem:
        resource["description"] = instrument.stem
    if instrument.loinc_panel:
        resource["code"] = [{"system": LOINC, "code": instrument.loinc_panel}]
    resource["item"] = [_question(instrument, item) for item in instrument.items]
    return resource


def _question(instrument: Instrument, item: Item) -> dict[str, Any]:
    question: dict[str, Any] = {"linkId": item.id, "text": item.text, "type": _type(item), "required": not item.optional}
    if item.loinc:
        question["code"] = [{"system": LOINC, "code": item.loinc}]
    elif instrument.observed:  # coded as its Observations are
        question["code"] = [{"system": LOCAL, "code": item.id}]
    if item.kind == "choice":
        question["answerOption"] = [
            {"extension": [{"url": ORDINAL, "valueDecimal": option.value}], "valueCoding": _coding(instrument, option)}
            for option in item.options
        ]
    else:
        bound = "valueDecimal" if item.decimals else "valueInteger"
        convert = float if item.decimals else int
        question["extension"] = [{"url": MIN_VALUE, bound: convert(item.minimum)}, {"url": MAX_VALUE, bound: convert(item.maximum)}]
    return question


def _type(item: Item) -> str:
    return "choice" if item.kind == "choice" else "decimal" if item.decimals else "integer"


def _coding(instrument: Instrument, option: Option) -> dict[str, str]:
    if option.loinc:
        return {"system": LOINC, "code": option.loinc, "display": option.label}
    return {"system": f"urn:paincoach:answers:{instrument.id}", "code": str(option.value), "display": option.label}


def _answer(instrument: Instrument, item: Item, value: float) -> dict[str, Any]:
    if item.kind == "choice":
        option = next((o for o in item.options if o.value == int(value)), Option(int(value), str(int(value))))
        return {"valueCoding": _coding(instrument, option)}
    return {"valueDecimal": value} if item.decimals else {"valueInteger": int(value)}


def _time(at: datetime) -> str:
    return at.isoformat()  # aware UTC from exports.source: "2026-11-28T13:05:00+00:00"


def _subject(person: Person, identify: bool) -> dict[str, Any]:
    subject: dict[str, Any] = {"identifier": {"system": STUDY_CODE, "value": person.study_code}, "display": person.study_code}
    if identify:
        subject["reference"] = f"Patient/{_patient_id(person)}"
    return subject


def _patient_id(person: Person) -> str:
    return f"patient-{person.id}"


def _patient(person: Person) -> dict[str, Any]:
    """Only in an identified export: a Reference holds one identifier, a Patient several."""
    identifiers = [{"system": STUDY_CODE, "value": person.study_code}]
    if person.telegram_id:
        identifiers.append({"system": TELEGRAM, "value": person.telegram_id})
    if person.clinic_reference:
        identifiers.append({"system": CLINIC_REFERENCE, "value": person.clinic_reference})
    resource: dict[str, Any] = {"resourceType": "Patient", "id": _patient_id(person), "identifier": identifiers}
    if person.name:
        resource["name"] = [{"text": person.name}]
    return resource


def _response(sitting: Sitting, instrument: Instrument, subject: dict[str, Any]) -> dict[str, Any]:
    translation = "validated" if instrument.validated.get(sitting.language) else "not-validated"
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "id": f"qr-{sitting.response_id}",
        "meta": {"tag": [{"system": SOURCE, "code": sitting.source}, {"system": TRANSLATION, "code": translation}]},
        "language": sitting.language, "questionnaire": canonical(instrument.id), "status": "completed",
        "subject": subject, "authored": _time(sitting.completed_at),
    }
    items = []
    for item in instrument.items:  # the Questionnaire's order; a skipped item is left out
        value, skipped, _at = sitting.answers.get(item.id, (None, True, None))
        if not skipped and value is not None:
            items.append({"linkId": item.id, "answer": [_answer(instrument, item, value)]})
    if items:
        resource["item"] = items
    return resource


def _score_code(instrument: Instrument, name: str) -> dict[str, Any]:
    if name == MAIN_SCORE[instrument.scoring]:
        loinc, text = instrument.score_loinc, instrument.score_name or instrument.name
    else:
        loinc, text = instrument.subscales[name].loinc, instrument.subscales[name].name
    coding = {"system": LOINC, "code": loinc} if loinc else {"system": f"urn:paincoach:scores:{instrument.id}", "code": name}
    return {"coding": [coding], "text": text}


def _observations(sitting: Sitting, instrument: Instrument, subject: dict[str, Any]) -> Iterator[dict[str, Any]]:
    score = sitting.score or {}
    for name in (MAIN_SCORE.get(instrument.scoring), *instrument.subscales):
        if name not in score:
            continue
        observation: dict[str, Any] = {
            "resourceType": "Observation", "id": f"obs-{sitting.response_id}-{name}", "status": "final",
            "category": [{"coding": [{"system": CATEGORY, "code": "survey", "display": "Survey"}]}],
            "code": _score_code(instrument, name), "subject": subject,
            "effectiveDateTime": _time(sitting.completed_at),
            "valueQuantity": {"value": score[name], "unit": "{score}", "system": UCUM, "code": "{score}"},
            "derivedFrom": [{"reference": f"QuestionnaireResponse/qr-{sitting.response_id}"}],
        }
        if name == MAIN_SCORE[instrument.scoring] and "band" in score:
            observation["interpretation"] = [{"text": score["band"]}]
        elif f"{name}_positive" in score:
            observation["interpretation"] = [{"text": "positive screen" if score[f"{name}_positive"] else "negative screen"}]
        yield observation


def _answer_observations(sitting: Sitting, instrument: Instrument, subject: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """An observed instrument's answers, one Observation each (a skipped item has none)."""
    if not instrument.observed:
        return
    for item in instrument.items:
        value, skipped, _at = sitting.answers.get(item.id, (None, True, None))
        if skipped or value is None:
            continue
        coding = {"system": LOINC, "code": item.loinc} if item.loinc else {"system": LOCAL, "code": item.id, "display": item.text}
        observation: dict[str, Any] = {
            "resourceType": "Observation", "id": f"obs-{sitting.response_id}-{item.id.replace('_', '-')}", "status": "final",
            "category": [{"coding": [{"system": CATEGORY, "code": "survey", "display": "Survey"}]}],
            "code": {"coding": [coding], "text": item.text}, "subject": subject,
            "effectiveDateTime": _time(sitting.completed_at),
            "derivedFrom": [{"reference": f"QuestionnaireResponse/qr-{sitting.response_id}"}],
        }
        if item.clock:
            observation["valueTime"] = f"{int(value) // 60:02d}:{int(value) % 60:02d}:00"
        else:
            observation |= _answer(instrument, item, value)
        yield observation


def _line(fp: IO[str], resource: dict[str, Any]) -> None:
    fp.write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")


def write(session: Session, filters: Filters, directory: Path) -> dict[str, int]:
    """Questionnaire.ndjson, QuestionnaireResponse.ndjson and Observation.ndjson (and Patient.ndjson
    when identified) into `directory`; returns how many resources of each type were written."""
    private_dir(directory)
    types = TYPES + (("Patient",) if filters.identify else ())
    counts = dict.fromkeys(types, 0)
    people_by_id = people(session, filters)
    seen: set[int] = set()
    with ExitStack() as stack:
        files = {t: stack.enter_context(open(directory / f"{t}.ndjson", "w", encoding="utf-8", newline="\n", opener=owner_only)) for t in types}

        def emit(resource: dict[str, Any]) -> None:
            _line(files[resource["resourceType"]], resource)
            counts[resource["resourceType"]] += 1

        for instrument in instruments().values():
            if not filters.instruments or instrument.id in filters.instruments:
                emit(questionnaire(instrument))
        for sitting in sittings(session, filters, people_by_id.keys()):
            instrument = instrument_named(sitting.instrument)
            subject = _subject(people_by_id[sitting.patient_id], filters.identify)
            emit(_response(sitting, instrument, subject))
            for observation in (*_observations(sitting, instrument, subject), *_answer_observations(sitting, instrument, subject)):
                emit(observation)
            seen.add(sitting.patient_id)
        for patient_id, observation in fhir_activity.observations(session, filters, people_by_id,
                                                                   lambda person: _subject(person, filters.identify)):
            emit(observation)
            seen.add(patient_id)
        if filters.identify:
            for patient_id in sorted(seen):
                emit(_patient(people_by_id[patient_id]))
    return counts
