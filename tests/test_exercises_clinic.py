"""Home exercises on the clinic's side: prescribed by command line, with slips of the keyboard
(0 or 10,000 repetitions) refused and nothing stored; stopped; audited; the progression the
prescriber chose; the pain-rise rule; adherence per week; erased with the patient."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from conftest import NOW
from storage import exercises as stored
from storage.erase import erase_patient
from storage.models import AuditEntry, DialogState, Exercise, ExerciseLog, FlareEpisode, Patient

CODE = "PC-EX12"


@pytest.fixture(autouse=True)
def command_line_uses_the_test_database(database_url, monkeypatch):
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)


def a_patient(database, code: str = CODE, telegram_id: int = 7001, language: str = "en") -> int:
    with database.transaction() as session:
        patient = Patient(clinic_id=database.default_clinic(session).id, channel="telegram", external_id=str(telegram_id), consent="given",
                          timezone="Europe/Madrid", language=language, onboarded_at=NOW - timedelta(days=30), preferred_name="P",
                          adult=True, study_code=code)
        session.add(patient)
        session.flush()
        session.add(DialogState(patient_id=patient.id, dialog="menu", state="main", data={}, stack=[], step=1))
        return patient.id


def rows(database, model):
    with database.transaction() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def test_an_exercise_is_added_listed_and_stopped_by_command_line_and_audited(database, capsys):
    a_patient(database)
    assert main(["exercises", "add", CODE, "Sit to stand", "--sets", "3", "--reps", "10", "--days", "4",
                 "--note", "Slowly, hands on the table if needed"]) == 0
    assert main(["exercises", "add", CODE.lower(), "Walk", "--minutes", "15", "--days", "5", "--progression", "pacing"]) == 0
    out = capsys.readouterr().out
    assert "exercise 1 added: Sit to stand, 3 × 10 repetitions, 4 days a week, progression none" in out
    assert "exercise 2 added: Walk, 15 minutes, 5 days a week, progression pacing" in out
    first, second = rows(database, Exercise)
    assert (first.sets, first.reps, first.minutes, first.days_per_week, first.progression) == (3, 10, None, 4, "none")
    assert first.note == "Slowly, hands on the table if needed" and first.prescribed_by.startswith("cli")
    assert (second.sets, second.reps, second.minutes, second.progression) == (None, None, 15, "pacing")

    assert main(["exercises", "list", CODE]) == 0
    listing = capsys.readouterr().out
    assert "1  Sit to stand  3 × 10 repetitions  4/week  progression none  this week 0/" in listing
    assert "2  Walk  15 minutes  5/week  progression pacing" in listing

    assert main(["exercises", "stop", CODE, "1"]) == 0
    assert "exercise 1 (Sit to stand) stopped" in capsys.readouterr().out
    assert main(["exercises", "list", CODE]) == 0
    assert "Sit to stand" not in capsys.readouterr().out
    assert main(["exercises", "list", CODE, "--all"]) == 0
    assert "stopped 2026-11-28" in capsys.readouterr().out

    actions = [(e.action, e.subject, (e.detail or {}).get("exercise")) for e in rows(database, AuditEntry)]
    assert ("exercise_add", CODE, 1) in actions and ("exercise_add", CODE, 2) in actions and ("exercise_stop", CODE, 1) in actions
    assert all("Sit to stand" not in str(e.detail) for e in rows(database, AuditEntry))  # the exercise by number only


@pytest.mark.parametrize("args, message", [
    (["--sets", "3", "--reps", "0", "--days", "4"], "Repetitions per set: from 1 to 200, please (not 0)."),
    (["--sets", "3", "--reps", "10000", "--days", "4"], "Repetitions per set: from 1 to 200, please (not 10,000). For a long hold"),
    (["--sets", "3", "--reps", "10,000", "--days", "4"], "(not 10,000)"),
    (["--sets", "0", "--reps", "10", "--days", "4"], "Sets: from 1 to 20, please (not 0)."),
    (["--sets", "3", "--reps", "ten", "--days", "4"], "Repetitions per set: a whole number from 1 to 200, please (not “ten”)."),
    (["--minutes", "0", "--days", "4"], "Minutes: from 1 to 180, please (not 0)."),
    (["--reps", "10", "--minutes", "5", "--days", "4"], "Give repetitions or minutes, not both."),
    (["--sets", "3", "--days", "4"], "Give repetitions per set (with the sets), or minutes."),
    (["--reps", "10", "--days", "8"], "Days a week: from 1 to 7, please (not 8)."),
    (["--reps", "10", "--days", "3", "--progression", "faster"], "Progression is “none” or “pacing”, not “faster”."),
])
def test_values_that_cannot_be_meant_are_refused_with_a_clear_message_and_nothing_is_stored(database, capsys, args, message):
    a_patient(database)
    assert main(["exercises", "add", CODE, "Sit to stand", *args]) == 2
    assert message in capsys.readouterr().err
    assert rows(database, Exercise) == []
    assert [e for e in rows(database, AuditEntry) if e.action == "exercise_add"] == []


def test_an_unknown_patient_or_exercise_is_refused(database, capsys):
    a_patient(database)
    assert main(["exercises", "add", "PC-ZZZZ", "Walk", "--minutes", "10", "--days", "3"]) == 2
    assert "no patient" in capsys.readouterr().err
    assert main(["exercises", "stop", CODE, "9"]) == 2
    assert f"{CODE} has no exercise 9." in capsys.readouterr().err
    assert main(["exercises", "add", CODE, "  ", "--minutes", "10", "--days", "3"]) == 2
    assert "The exercise needs a name" in capsys.readouterr().err


def prescribe(database, patient_id: int, **fields) -> int:
    values = {"name": "Bridge", "sets": 2, "reps": 10, "days_per_week": 3, "prescribed_by": "test", "prescribed_at": NOW - timedelta(days=21),
              "progression": "none", **fields}
    with database.transaction() as session:
        row = Exercise(patient_id=patient_id, **values)
        session.add(row)
        session.flush()
        return row.id


def done_every_week(database, exercise_id: int, weeks: int, start: date, per_week: int = 3, outcome: str = "done") -> None:
    with database.transaction() as session:
        for week in range(weeks):
            for n in range(per_week):
                session.add(ExerciseLog(exercise_id=exercise_id, local_date=start + timedelta(days=7 * week + 2 * n), outcome=outcome,
                                        dose=10, logged_at=NOW))


def dose_of(database, exercise_id: int, now=NOW) -> float:
    with database.transaction() as session:
        return stored.dose(session, session.get(Exercise, exercise_id), now)


def test_progression_is_only_what_the_prescriber_chose_and_only_a_period_done_earns_a_step(database):
    patient_id = a_patient(database)
    steady = prescribe(database, patient_id)
    paced = prescribe(database, patient_id, progression="pacing")
    assert dose_of(database, steady) == 10  # none: as prescribed, three weeks on
    assert dose_of(database, paced) == 10  # pacing, but nothing logged: no step for the calendar alone
    first = (NOW - timedelta(days=21)).date()
    done_every_week(database, steady, 3, first)
    assert dose_of(database, steady) == 10  # none stays none, however much is done
    done_every_week(database, paced, 3, first)
    assert dose_of(database, paced) == 13  # three weeks each done as prescribed: +10 % of 10, three times
    with database.transaction() as session:
        session.add(FlareEpisode(patient_id=patient_id, started_at=NOW - timedelta(days=10), ended_at=NOW - timedelta(days=9)))
    assert dose_of(database, paced) == 12  # held in the week with a flare


@pytest.mark.parametrize("ended, expected", [(timedelta(hours=1), 12), (None, 11)])
def test_a_flare_holds_the_dose_for_every_period_it_lasts(database, ended, expected):
    patient_id = a_patient(database)
    paced = prescribe(database, patient_id, progression="pacing")
    done_every_week(database, paced, 3, (NOW - timedelta(days=21)).date())
    started = NOW - timedelta(days=15)  # the first week's last day
    with database.transaction() as session:
        session.add(FlareEpisode(patient_id=patient_id, started_at=started, ended_at=started + ended if ended else None))
    assert dose_of(database, paced) == expected  # over in an hour: one week held; not marked over: it reaches into the second


def test_a_year_away_earns_one_step_at_most_per_period_done(database):
    patient_id = a_patient(database)
    paced = prescribe(database, patient_id, progression="pacing", prescribed_at=NOW - timedelta(days=365))
    assert dose_of(database, paced) == 10  # was 62: a raise for each week on the calendar
    first = (NOW - timedelta(days=365)).date()
    done_every_week(database, paced, 2, first)  # two weeks done, then nothing for most of a year
    assert dose_of(database, paced) == 12
    done_every_week(database, paced, 1, first + timedelta(days=7 * 10), per_week=2)  # two of three: not the prescribed sessions
    done_every_week(database, paced, 1, first + timedelta(days=7 * 11), outcome="part")  # part of it: not done
    assert dose_of(database, paced) == 12


def test_pacing_never_goes_above_double_the_prescribed_dose(database):
    paced = prescribe(database, a_patient(database), progression="pacing", prescribed_at=NOW - timedelta(days=7 * 40))
    done_every_week(database, paced, 40, (NOW - timedelta(days=7 * 40)).date())
    assert dose_of(database, paced) == 10 * stored.MAX_FACTOR == 20


def test_no_step_while_pain_rose_by_three_twice_running(database):
    paced = prescribe(database, a_patient(database), progression="pacing")
    first = (NOW - timedelta(days=21)).date()
    with database.transaction() as session:
        for n, (before, after) in enumerate([(2, 3), (2, 3), (2, 3), (2, 6), (2, 6), (2, 6), (2, 3), (2, 3), (2, 3)]):
            session.add(ExerciseLog(exercise_id=paced, local_date=first + timedelta(days=7 * (n // 3) + 2 * (n % 3)), outcome="done",
                                    pain_before=before, pain_after=after, dose=10, logged_at=NOW))
    assert dose_of(database, paced) == 12  # week 1 earns its step; week 2 ends with pain up by 4 twice running: none;
    #                                        week 3 done without a rise: the rule no longer holds, one step


def log(database, exercise_id: int, day: date, outcome: str, before=None, after=None) -> None:
    with database.transaction() as session:
        session.add(ExerciseLog(exercise_id=exercise_id, local_date=day, outcome=outcome, pain_before=before, pain_after=after, dose=10,
                                logged_at=NOW))


def test_pain_rising_by_three_twice_running_is_noticed_and_a_skip_between_does_not_break_the_run(database):
    exercise = prescribe(database, a_patient(database))
    day = date(2026, 11, 20)
    log(database, exercise, day, "done", 3, 6)
    with database.transaction() as session:
        assert not stored.rising_twice(session, exercise)  # once
    log(database, exercise, day + timedelta(days=1), "skipped")
    log(database, exercise, day + timedelta(days=2), "part", 4, 7)
    with database.transaction() as session:
        assert stored.rising_twice(session, exercise)
    log(database, exercise, day + timedelta(days=3), "done", 4, 6)  # a rise of 2: the run ends
    with database.transaction() as session:
        assert not stored.rising_twice(session, exercise)


def test_adherence_counts_sessions_logged_against_those_prescribed_per_week(database):
    patient_id = a_patient(database)
    # Prescribed on Wednesday 2026-11-11 (local), 3 days a week: that week 5 of its 7 days, so 2 sessions.
    exercise = prescribe(database, patient_id, prescribed_at=NOW.replace(day=11, hour=9))
    for day, outcome in [(11, "done"), (13, "part"), (14, "skipped"),  # week of the 9th: 2 of 2
                         (16, "done"), (16, "done"), (18, "skipped"),  # week of the 16th: one day counted once: 1 of 3
                         (23, "done"), (24, "done"), (25, "done"), (26, "done")]:  # week of the 23rd: 4 of 3
        log(database, exercise, date(2026, 11, day), outcome)
    with database.transaction() as session:
        patient = session.get(Patient, patient_id)
        exercises = stored.every(session, patient_id)
        weeks = stored.adherence(exercises, stored.logs(session, [exercise]), stored.zone_of(patient), date(2026, 11, 28))
    assert [(w.monday.day, w.sessions, w.prescribed) for w in weeks] == [(9, 2, 2), (16, 1, 3), (23, 4, 3)]
    assert [round(w.share, 2) for w in weeks] == [1.0, 0.33, 1.33]
    assert stored.weekly_totals(weeks) == [(date(2026, 11, 9), 2, 2), (date(2026, 11, 16), 1, 3), (date(2026, 11, 23), 4, 3)]


def test_erasing_the_patient_erases_their_exercises_and_logs(database):
    patient_id = a_patient(database)
    exercise = prescribe(database, patient_id, note="Knees soft")
    log(database, exercise, date(2026, 11, 27), "done", 2, 3)
    with database.transaction() as session:
        counts = erase_patient(session, session.get(Patient, patient_id))
    assert counts["exercises"] == 1 and counts["exercise_logs"] == 1
    assert rows(database, Exercise) == [] and rows(database, ExerciseLog) == []


def test_adherence_and_logs_are_exported_with_their_data_dictionary_and_no_words(database, tmp_path):
    import csv

    from exports import bundle
    from exports.source import Filters

    patient_id = a_patient(database)
    with database.transaction() as session:
        session.get(Patient, patient_id).consent = "given"
    exercise = prescribe(database, patient_id, name="Secret name", note="Secret note", prescribed_at=NOW.replace(day=11, hour=9))
    for day, outcome, before, after in [(11, "done", 2, 5), (13, "part", 3, 6), (14, "skipped", None, None), (23, "done", 2, 3)]:
        log(database, exercise, date(2026, 11, day), outcome, before, after)
    counts = bundle.export(database, Filters(), ("activity", "exercises"), tmp_path, actor="cli:test", now=NOW)
    assert counts["exercises.csv"] == 3
    weeks = list(csv.DictReader(open(tmp_path / "exercises.csv")))
    assert [(w["week_start"], w["sessions_logged"], w["sessions_prescribed"], w["adherence"], w["skipped"], w["pain_rises"])
            for w in weeks] == [("2026-11-09", "2", "2", "1", "1", "2"), ("2026-11-16", "0", "3", "0", "0", "0"),
                                ("2026-11-23", "1", "3", "0.333", "0", "0")]
    assert {w["study_code"] for w in weeks} == {CODE} and weeks[0]["progression"] == "none" and weeks[0]["days_per_week"] == "3"
    activity = list(csv.DictReader(open(tmp_path / "activity.csv")))
    logged = [(r["measure"], r["value"]) for r in activity if r["activity"] == "exercise_log" and r["record_id"] == "1"]
    assert logged == [("exercise_id", str(exercise)), ("local_date", "2026-11-11"), ("outcome", "done"), ("dose", "10"),
                      ("pain_before", "2"), ("pain_after", "5")]
    assert {r["measure"] for r in activity if r["activity"] == "exercise"} == {"sets", "reps", "minutes", "days_per_week", "progression",
                                                                             "stopped_at"}
    for name in ("exercises.csv", "activity.csv"):
        assert "Secret" not in open(tmp_path / name).read()
    described = {(r["file"], r["name"]) for r in csv.DictReader(open(tmp_path / "data_dictionary.csv"))}
    for column in next(csv.reader(open(tmp_path / "exercises.csv"))):
        assert ("exercises.csv", column) in described
    assert ("activity.csv", "exercise") in described and ("activity.csv", "exercise_log") in described


def test_the_exercise_and_the_physios_note_are_sealed_with_the_patients_own_key(database, monkeypatch):
    from cryptography.fernet import Fernet
    from sqlalchemy import text

    from storage import crypto
    from test_shredding import key_id_of

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("PAINCOACH_DATA_KEY", key)  # for the command line, which reads it
    crypto.configure(key)
    try:
        a_patient(database)
        assert main(["exercises", "add", CODE, "Sit to stand", "--reps", "10", "--days", "3", "--note", "Knees soft"]) == 0
        with database.engine.connect() as connection:
            name, note = connection.execute(text("SELECT name, note FROM exercises")).one()
            own = key_id_of(connection, "7001")
        assert "Sit to stand" not in name and "Knees soft" not in note
        assert name.split(":")[1] == own and note.split(":")[1] == own
        with database.transaction() as session:
            assert [(e.name, e.note) for e in session.scalars(select(Exercise))] == [("Sit to stand", "Knees soft")]
    finally:
        crypto.configure(None)


def test_a_discharged_patient_gets_no_new_exercises(database, capsys):
    patient_id = a_patient(database)
    with database.transaction() as session:
        session.get(Patient, patient_id).discharged_at = NOW
    assert main(["exercises", "add", CODE, "Walk", "--minutes", "10", "--days", "3"]) == 2
    assert f"{CODE} is discharged: no new exercises." in capsys.readouterr().err
    assert rows(database, Exercise) == []


def test_an_export_from_mid_week_counts_its_first_week_whole(database, tmp_path):
    import csv
    from datetime import datetime, timezone

    from exports import bundle
    from exports.source import Filters

    exercise = prescribe(database, a_patient(database), prescribed_at=NOW.replace(day=16, hour=9))
    for day, outcome in [(23, "done"), (24, "part"), (25, "skipped"), (26, "done")]:
        log(database, exercise, date(2026, 11, day), outcome)
    since = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)  # a Wednesday: its week starts on Monday the 23rd
    bundle.export(database, Filters(since=since), ("exercises",), tmp_path, actor="cli:test", now=NOW)
    weeks = list(csv.DictReader(open(tmp_path / "exercises.csv")))
    assert [(w["week_start"], w["sessions_logged"], w["sessions_prescribed"], w["skipped"]) for w in weeks] == [
        ("2026-11-23", "3", "3", "1")]  # was 1 of 3: the Monday and Tuesday were dropped


@pytest.mark.parametrize("consent", ["withdrawn", "refused", "pending"])
def test_no_exercise_for_a_patient_without_consent(database, capsys, consent):
    patient_id = a_patient(database)
    with database.transaction() as session:
        session.get(Patient, patient_id).consent = consent
    assert main(["exercises", "add", CODE, "Walk", "--minutes", "10", "--days", "3"]) == 2
    assert f"{CODE} has not given consent, or has withdrawn it: no new exercises." in capsys.readouterr().err
    assert rows(database, Exercise) == [] and all(e.action != "exercise_add" for e in rows(database, AuditEntry))
