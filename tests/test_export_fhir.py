"""The FHIR NDJSON export: every resource validates as R4, and reads back to what was answered."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from onboard import onboard
from sqlalchemy import select

from content.instruments import instrument, instruments, score
from exports import fhir
from exports.source import Filters
from storage.models import Answer, Clinic, Patient, Response

MODELS = {"Questionnaire": Questionnaire, "QuestionnaireResponse": QuestionnaireResponse,
          "Observation": Observation, "Patient": FhirPatient}
TELEGRAM_ID = "735318642"
NAME = "Quentin"
T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def export(database, tmp_path, filters: Filters | None = None) -> tuple[dict[str, int], dict[str, list[dict]]]:
    """Write the export, then read every line back and validate it with the R4 models."""
    with database.transaction() as session:
        counts = fhir.write(session, filters or Filters(), tmp_path)
    resources = {}
    for path in sorted(tmp_path.glob("*.ndjson")):
        lines = path.read_text(encoding="utf-8").splitlines()
        resources[path.stem] = [json.loads(line) for line in lines]
        for resource in resources[path.stem]:
            assert resource["resourceType"] == path.stem
            MODELS[path.stem].model_validate(resource)
    assert counts == {kind: len(found) for kind, found in resources.items()}
    return counts, resources


def read_back(resources: dict[str, list[dict]]) -> dict[int, dict[str, float]]:
    """Each response's answers as numbers again, decoded through the exported Questionnaires only."""
    questions = {q["url"]: {item["linkId"]: item for item in q["item"]} for q in resources["Questionnaire"]}
    found = {}
    for qr in resources["QuestionnaireResponse"]:
        values = {}
        for item in qr.get("item", []):
            question = questions[qr["questionnaire"]][item["linkId"]]
            [answer] = item["answer"]
            if question["type"] == "choice":
                [option] = [o for o in question["answerOption"] if o["valueCoding"] == answer["valueCoding"]]
                values[item["linkId"]] = option["extension"][0]["valueDecimal"]
            else:
                values[item["linkId"]] = answer["valueInteger" if question["type"] == "integer" else "valueDecimal"]
        found[int(qr["id"].removeprefix("qr-"))] = values
    return found


def stored(database) -> dict[int, tuple[Response, dict[str, tuple[float | None, bool]]]]:
    with database.transaction() as session:
        found = {}
        for response in session.scalars(select(Response).where(Response.completed_at.is_not(None))):
            answers = {a.item_id: (a.value, a.skipped) for a in session.scalars(select(Answer).where(Answer.response_id == response.id))}
            found[response.id] = (response, answers)
        return found


def check_in(chat, which: str, steps: list[tuple[str, str]]) -> None:
    chat.open("Check in now")
    chat.press(which)
    for how, what in steps:
        chat.press(what) if how == "press" else chat.say(what)


def test_check_ins_from_the_engine_round_trip_through_valid_r4(new_chat, database, tmp_path):
    chat = new_chat(TELEGRAM_ID)
    onboard(chat, name=NAME)
    check_in(chat, "Pain this week (PEG)", [("press", "6"), ("press", "5"), ("press", "5")])
    check_in(chat, "Mood (PHQ-4)", [("press", label) for label in
                                    ["More than half the days", "Several days", "Nearly every day", "Nearly every day"]])
    check_in(chat, "Daily check-in", [("say", "7"), ("say", "6,5"), ("press", "Skip"), ("say", "4,500 steps"), ("press", "Partly")])
    with database.transaction() as session:
        study_code = session.scalars(select(Patient.study_code)).one()
    assert study_code

    counts, resources = export(database, tmp_path)
    assert counts == {"Questionnaire": len(instruments()), "QuestionnaireResponse": 3, "Observation": 4}  # every instrument described

    rows = stored(database)
    assert len(rows) == 3
    answered = read_back(resources)
    for qr in resources["QuestionnaireResponse"]:
        response, answers = rows[int(qr["id"].removeprefix("qr-"))]
        assert qr["questionnaire"] == f"urn:paincoach:questionnaire:{response.instrument}"
        assert qr["status"] == "completed" and qr["language"] == "en"
        assert {"system": "urn:paincoach:source", "code": "self"} in qr["meta"]["tag"]
        assert datetime.fromisoformat(qr["authored"]) == response.completed_at
        assert qr["authored"].endswith("+00:00")
        assert qr["subject"] == {"identifier": {"system": "urn:paincoach:study-code", "value": study_code}, "display": study_code}
        assert answered[response.id] == {item: value for item, (value, skipped) in answers.items() if not skipped}
    daily = next(qr for qr in resources["QuestionnaireResponse"] if qr["questionnaire"].endswith(":daily"))
    assert [item["linkId"] for item in daily["item"]] == ["pain_now", "sleep_hours", "steps", "pacing_followed"]  # skipped: absent
    assert daily["item"][1]["answer"] == [{"valueDecimal": 6.5}]
    assert daily["item"][3]["answer"] == [{"valueCoding": {"system": "urn:paincoach:answers:daily", "code": "1", "display": "Partly"}}]
    phq = next(qr for qr in resources["QuestionnaireResponse"] if qr["questionnaire"].endswith(":phq4"))
    assert phq["item"][0]["answer"] == [{"valueCoding": {"system": "http://loinc.org", "code": "LA6570-1", "display": "More than half the days"}}]

    responses = {qr["id"] for qr in resources["QuestionnaireResponse"]}
    scores = {}
    for observation in resources["Observation"]:
        [derived] = observation["derivedFrom"]
        assert derived["reference"].removeprefix("QuestionnaireResponse/") in responses
        response, _ = rows[int(derived["reference"].removeprefix("QuestionnaireResponse/qr-"))]
        assert datetime.fromisoformat(observation["effectiveDateTime"]) == response.completed_at
        assert observation["status"] == "final" and observation["subject"]["identifier"]["value"] == study_code
        assert observation["category"][0]["coding"][0]["code"] == "survey"
        assert observation["valueQuantity"]["code"] == "{score}"
        name = observation["id"].rsplit("-", 1)[1]
        assert observation["valueQuantity"]["value"] == response.score[name]
        scores[(response.instrument, name)] = (observation["code"]["coding"][0], observation["valueQuantity"]["value"])
    loinc = "http://loinc.org"
    assert scores == {
        ("peg3", "score"): ({"system": loinc, "code": "91147-9"}, 5.33),
        ("phq4", "total"): ({"system": loinc, "code": "70272-0"}, 9),
        ("phq4", "depression"): ({"system": loinc, "code": "55758-7"}, 6),
        ("phq4", "anxiety"): ({"system": "urn:paincoach:scores:phq4", "code": "anxiety"}, 3),  # no verified GAD-2 LOINC
    }
    total = next(o for o in resources["Observation"] if o["id"].endswith("-total"))
    assert total["interpretation"] == [{"text": "severe"}]

    everything = "".join(path.read_text(encoding="utf-8") for path in tmp_path.glob("*.ndjson"))
    assert TELEGRAM_ID not in everything and NAME not in everything and "telegram-user" not in everything
    assert not (tmp_path / "Patient.ndjson").exists()


def test_questionnaires_carry_types_codes_and_answer_codes():
    built = {i.id: fhir.questionnaire(i) for i in instruments().values()}
    for resource in built.values():
        Questionnaire.model_validate(resource)
    peg, phq, daily = built["peg3"], built["phq4"], built["daily"]
    assert peg["url"] == "urn:paincoach:questionnaire:peg3" and peg["code"] == [{"system": "http://loinc.org", "code": "91148-7"}]
    assert [(i["linkId"], i["type"], i["code"][0]["code"], i["required"]) for i in peg["item"]] == [
        ("peg_pain", "integer", "75893-8", True), ("peg_enjoyment", "integer", "91145-3", True), ("peg_activity", "integer", "91146-1", True)]
    assert phq["description"].startswith("Over the last 2 weeks")
    assert [o["valueCoding"]["code"] for o in phq["item"][0]["answerOption"]] == ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    types = {i["linkId"]: (i["type"], i["required"]) for i in daily["item"]}
    assert types == {"pain_now": ("integer", True), "sleep_hours": ("decimal", False), "active_minutes": ("integer", False),
                     "steps": ("integer", False), "pacing_followed": ("choice", False)}
    assert "code" not in daily


def add_patient(session, study_code: str, external_id: str) -> Patient:
    patient = Patient(clinic_id=session.scalars(select(Clinic.id)).first(), channel="telegram", external_id=external_id, study_code=study_code, consent="given",
                      timezone="UTC", preferred_name="Robin", clinic_reference="MRN-55")
    session.add(patient)
    session.flush()
    return patient


def add_response(session, patient: Patient, instrument_id: str, at: datetime, values: dict[str, float | None]) -> int:
    """A completed response; a None value is a skipped item. Scored as the dialogs score it."""
    measure = instrument(instrument_id)
    answered = {k: v for k, v in values.items() if v is not None}
    response = Response(patient_id=patient.id, instrument=instrument_id, source="scheduled", language="de", started_at=at,
                        completed_at=at, score=score(measure, answered))
    session.add(response)
    session.flush()
    session.add_all(Answer(response_id=response.id, item_id=k, value=v, skipped=v is None, answered_at=at) for k, v in values.items())
    return response.id


@pytest.fixture
def two_patients(database):
    """PC-AAAA and PC-BBBB, each with a PEG, a PHQ-4 and a daily check-in on three days."""
    ids: dict[tuple[str, str, int], int] = {}
    with database.transaction() as session:
        for code, external in (("PC-AAAA", "5550001"), ("PC-BBBB", "5550002")):
            patient = add_patient(session, code, external)
            for day in range(3):
                at = T0 + timedelta(days=day)
                ids[(code, "peg3", day)] = add_response(session, patient, "peg3", at, {"peg_pain": 7, "peg_enjoyment": day, "peg_activity": 4})
                ids[(code, "phq4", day)] = add_response(session, patient, "phq4", at + timedelta(hours=1),
                                                        {"phq4_nervous": 0, "phq4_worry": 1, "phq4_interest": day, "phq4_down": 3})
                ids[(code, "daily", day)] = add_response(session, patient, "daily", at + timedelta(hours=2),
                                                         {"pain_now": 5, "sleep_hours": 7.25, "active_minutes": None, "steps": None, "pacing_followed": 2})
    return ids


def exported_ids(resources, kind: str = "QuestionnaireResponse") -> set[int]:
    return {int(r["id"].split("-")[1]) for r in resources.get(kind, [])}


def test_filters_choose_instruments_dates_and_study_codes(database, tmp_path, two_patients):
    ids = two_patients
    _, everything = export(database, tmp_path / "all")
    assert exported_ids(everything) == set(ids.values())
    assert read_back(everything)[ids[("PC-AAAA", "daily", 0)]] == {"pain_now": 5, "sleep_hours": 7.25, "pacing_followed": 2}
    peg = next(o for o in everything["Observation"] if o["id"] == f"obs-{ids[('PC-BBBB', 'peg3', 2)]}-score")
    assert peg["valueQuantity"]["value"] == 4.33
    qr = next(r for r in everything["QuestionnaireResponse"] if r["id"] == f"qr-{ids[('PC-AAAA', 'phq4', 1)]}")
    assert qr["language"] == "de" and {"system": "urn:paincoach:translation", "code": "not-validated"} in qr["meta"]["tag"]
    assert {"system": "urn:paincoach:source", "code": "scheduled"} in qr["meta"]["tag"]

    counts, phq_only = export(database, tmp_path / "phq4", Filters(instruments=("phq4",)))
    assert [q["id"] for q in phq_only["Questionnaire"]] == ["phq4"]
    assert exported_ids(phq_only) == {v for (_, name, _), v in ids.items() if name == "phq4"}
    assert exported_ids(phq_only, "Observation") == exported_ids(phq_only) and counts["Observation"] == 6 * 3

    since, until = T0 + timedelta(days=1), T0 + timedelta(days=2)  # day 1 only: since inclusive, until exclusive
    _, one_day = export(database, tmp_path / "day", Filters(since=since, until=until))
    assert exported_ids(one_day) == {v for (_, _, day), v in ids.items() if day == 1}
    assert all(since <= datetime.fromisoformat(r["authored"]) < until for r in one_day["QuestionnaireResponse"])

    _, one_patient = export(database, tmp_path / "b", Filters(study_codes=("PC-BBBB",)))
    assert exported_ids(one_patient) == {v for (code, _, _), v in ids.items() if code == "PC-BBBB"}
    assert {r["subject"]["identifier"]["value"] for r in one_patient["QuestionnaireResponse"] + one_patient["Observation"]} == {"PC-BBBB"}


def test_only_an_identified_export_names_the_patient(database, tmp_path, two_patients):
    export(database, tmp_path / "plain")
    plain = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "plain").glob("*.ndjson"))
    for secret in ("5550001", "5550002", "Robin", "MRN-55", "urn:paincoach:telegram-user"):
        assert secret not in plain

    _, identified = export(database, tmp_path / "admin", Filters(study_codes=("PC-AAAA",), identify=True))
    [patient] = identified["Patient"]
    assert {"system": "urn:paincoach:telegram-user", "value": "5550001"} in patient["identifier"]
    assert {"system": "urn:paincoach:study-code", "value": "PC-AAAA"} in patient["identifier"]
    assert patient["name"] == [{"text": "Robin"}]
    for resource in identified["QuestionnaireResponse"] + identified["Observation"]:
        assert resource["subject"]["reference"] == f"Patient/{patient['id']}"
        assert resource["subject"]["identifier"]["value"] == "PC-AAAA"
