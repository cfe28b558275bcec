"""Relaxation and mindfulness runs, lesson answers and home exercise logs as FHIR R4 Observations
under the one local code system the sleep diary uses, valid R4, codes and numbers only."""
from __future__ import annotations

from datetime import timedelta

import pytest

from exports.fhir_activity import CODES, LOCAL
from exports.source import Filters
from storage.models import Exercise, ExerciseLog, LessonProgress, PracticeRun
from test_export_fhir import T0, add_patient, add_response, export


@pytest.fixture
def activity(database):
    """PC-AAAA: a relaxation run stopped early, a mindfulness run played out, a lesson answered right and
    one wrong and one only read, a bridge exercise logged done and skipped; PC-BBBB: one run a week later."""
    with database.transaction() as session:
        a, b = add_patient(session, "PC-AAAA", "5550001"), add_patient(session, "PC-BBBB", "5550002")
        add_response(session, a, "sleep_diary", T0, {"bedtime": 1410, "wake_time": 420, "sleep_quality": 6})
        session.add_all([
            PracticeRun(patient_id=a.id, family="relaxation", kind="pmr", planned_seconds=181, actual_seconds=40, completed=False,
                        tension_before=7, started_at=T0, ended_at=T0 + timedelta(seconds=40), created_at=T0),
            PracticeRun(patient_id=a.id, family="mindfulness", kind="leaves", planned_seconds=110, actual_seconds=110, completed=True,
                        tension_before=6, tension_after=4, in_charge_before=8, in_charge_after=5, started_at=T0 + timedelta(days=1),
                        ended_at=T0 + timedelta(days=1, seconds=110), created_at=T0 + timedelta(days=1)),
            PracticeRun(patient_id=b.id, family="relaxation", kind="pmr", planned_seconds=181, started_at=T0 + timedelta(days=7),
                        created_at=T0 + timedelta(days=7)),  # still playing
            LessonProgress(patient_id=a.id, lesson="protector", source="asked", language="de", sent_at=T0, opened_at=T0,
                           answered_at=T0 + timedelta(minutes=3), answer="a", correct=True),
            LessonProgress(patient_id=a.id, lesson="hurt_not_harm", source="asked", language="de", sent_at=T0 + timedelta(days=2),
                           opened_at=T0 + timedelta(days=2), answered_at=T0 + timedelta(days=2, minutes=2), answer="c", correct=False),
            LessonProgress(patient_id=a.id, lesson="volume", source="asked", sent_at=T0 + timedelta(days=3), opened_at=T0 + timedelta(days=3)),
        ])
        bridge = Exercise(patient_id=a.id, name="Bridge with a secret", sets=2, reps=8, days_per_week=3, note="Slowly, Robin",
                          prescribed_by="test", prescribed_at=T0 - timedelta(days=5))
        session.add(bridge)
        session.flush()
        session.add_all([
            ExerciseLog(exercise_id=bridge.id, local_date=T0.date(), outcome="done", dose=8, pain_before=3, pain_after=4,
                        logged_at=T0 + timedelta(hours=9)),
            ExerciseLog(exercise_id=bridge.id, local_date=(T0 + timedelta(days=1)).date(), outcome="skipped",
                        logged_at=T0 + timedelta(days=1, hours=9)),
        ])
        return {"exercise": bridge.id}


def local(resource) -> list[str]:
    return [c["code"] for c in resource["code"]["coding"] if c["system"] == LOCAL]


def parts(resource) -> dict[str, object]:
    return {c["code"]["coding"][0]["code"]: next(v for k, v in c.items() if k.startswith("value")) for c in resource.get("component", [])}


def test_runs_answers_and_logs_are_valid_r4_observations_under_the_local_code_system(database, tmp_path, activity):
    counts, resources = export(database, tmp_path)  # every line validated against the R4 models
    by_id = {o["id"]: o for o in resources["Observation"]}
    stopped, played, playing = by_id["practice-1"], by_id["practice-2"], by_id["practice-3"]
    assert local(stopped) == ["relaxation_run"] and local(played) == ["mindfulness_run"]
    assert stopped["category"][0]["coding"][0]["code"] == "therapy" and stopped["method"]["coding"][0]["code"] == "pmr"
    assert parts(stopped) == {"practice_completed": False, "practice_seconds": {"value": 40, "unit": "s", "system":
                              "http://unitsofmeasure.org", "code": "s"}, "tension_before": 7}
    assert parts(played)["tension_after"] == 4 and parts(played)["in_charge_before"] == 8 and parts(played)["in_charge_after"] == 5
    assert playing["status"] == "preliminary" and stopped["status"] == "final"
    right, wrong = by_id["lesson-1"], by_id["lesson-2"]
    assert local(right) == ["lesson_answer"] and right["valueBoolean"] is True and wrong["valueBoolean"] is False
    assert parts(right) == {"lesson": "protector", "lesson_number": 1, "lesson_choice": "a"} and parts(wrong)["lesson_number"] == 2
    assert "lesson-3" not in by_id  # read, not answered
    done, skipped = by_id["exercise-log-1"], by_id["exercise-log-2"]
    assert local(done) == ["exercise_log"] and done["valueCodeableConcept"]["coding"][0]["code"] == "exercise_done"
    assert done["effectiveDateTime"] == "2026-03-02" and done["category"][0]["coding"][0]["code"] == "activity"
    assert parts(done) == {"exercise_id": activity["exercise"], "exercise_dose": {"value": 8.0, "unit": "{repetitions}", "system":
                           "http://unitsofmeasure.org", "code": "{repetitions}"}, "pain_before": 3, "pain_after": 4}
    assert skipped["valueCodeableConcept"]["coding"][0]["code"] == "exercise_skipped" and parts(skipped) == {"exercise_id": activity["exercise"]}
    # One system for every local code, the sleep diary's answers too, and each code is one the README lists.
    diary = [o for o in resources["Observation"] if o["id"].startswith("obs-")]
    assert {c["system"] for o in diary for c in o["code"]["coding"]} == {LOCAL}
    used = {c["code"] for o in by_id.values() if not o["id"].startswith("obs-")
            for concept in [o["code"], o.get("valueCodeableConcept", {"coding": []}), *(c["code"] for c in o.get("component", []))]
            for c in concept["coding"] if c["system"] == LOCAL} - {"pmr", "leaves"}
    assert used <= set(CODES)
    readme = open("README.md", encoding="utf-8").read()
    assert all(f"`{code}`" in readme for code in CODES)
    written = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.ndjson"))
    assert "secret" not in written and "Robin" not in written and "Slowly" not in written  # never the words


def test_filters_choose_dates_patients_and_leave_them_out_of_an_instrument_export(database, tmp_path, activity):
    _, one_day = export(database, tmp_path / "day", Filters(since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)))
    assert {o["id"] for o in one_day["Observation"]} == {"practice-2", "exercise-log-2"}
    _, b = export(database, tmp_path / "b", Filters(study_codes=("PC-BBBB",)))
    assert [o["id"] for o in b["Observation"]] == ["practice-3"] and b["Observation"][0]["subject"]["identifier"]["value"] == "PC-BBBB"
    _, peg = export(database, tmp_path / "peg", Filters(instruments=("peg3",)))
    assert peg.get("Observation", []) == []


def test_an_identified_export_names_a_patient_who_only_practised(database, tmp_path, activity):
    _, identified = export(database, tmp_path, Filters(study_codes=("PC-BBBB",), identify=True))
    [patient] = identified["Patient"]
    [run] = identified["Observation"]
    assert run["subject"]["reference"] == f"Patient/{patient['id']}"


def test_redcap_carries_the_sleep_diary_and_leaves_activity_to_the_other_files():
    import csv
    import io

    from exports import redcap

    out = io.StringIO()
    redcap.write_dictionary(Filters(), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    forms = {row["Form Name"] for row in rows}
    assert forms == {"enrollment", "peg3", "phq4", "daily", "sleep_diary"}  # no form invented for runs, lessons or exercise logs
    diary = {row["Variable / Field Name"]: row for row in rows if row["Form Name"] == "sleep_diary"}
    assert {"bedtime", "wake_time", "sleep_quality"} <= set(diary)
    assert diary["bedtime"]["Text Validation Max"] == "1439" and "Minutes after midnight" in diary["bedtime"]["Field Note"]
    assert "not in the REDCap export" in " ".join(open("README.md", encoding="utf-8").read().split())  # and the README says so
