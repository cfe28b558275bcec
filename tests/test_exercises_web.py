"""Home exercises on the dashboard: a clinician of the patient's clinic prescribes and stops them
by a CSRF-protected form, on the command line's limits (0 or 10,000 repetitions refused with the
reason, nothing kept), audited; the patient page shows adherence week by week."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from conftest import NOW
from storage.models import Exercise, ExerciseLog
from test_clinic import make_clinic
from test_web import clinic_a, client, clock, command_line_uses_the_test_database, csrf_of, desk, sign_in, web_link  # noqa: F401
from test_web_admin import add_patient, audited

CODE = "PC-WEB1"


def exercises(database) -> list[Exercise]:
    with database.transaction() as session:
        return list(session.scalars(select(Exercise).order_by(Exercise.id)))


def test_a_clinician_prescribes_and_stops_an_exercise_on_the_dashboard(database, desk, client, clinic_a):
    add_patient(database, clinic_a, CODE, "2001", timezone="Europe/Berlin")
    sign_in(client, web_link(desk))
    assert f'href="/patients/{CODE}/exercises"' in client.get(f"/patients/{CODE}").text
    page = client.get(f"/patients/{CODE}/exercises")
    assert page.status_code == 200 and "No home exercises yet." in page.text
    form = {"name": "Sit to stand", "sets": "3", "reps": "10", "days": "4", "note": "Hands on the table", "progression": "none"}
    assert client.post(f"/patients/{CODE}/exercises", data=form).status_code == 403  # no CSRF token
    assert exercises(database) == []

    refused = client.post(f"/patients/{CODE}/exercises", data={**form, "reps": "10000", "csrf": csrf_of(page)})
    assert refused.status_code == 400
    assert "Repetitions per set: from 1 to 200, please (not 10,000)." in refused.text
    assert 'value="Sit to stand"' in refused.text and 'value="10000"' in refused.text  # what was typed stays in the form
    refused = client.post(f"/patients/{CODE}/exercises", data={**form, "reps": "0", "csrf": csrf_of(page)})
    assert refused.status_code == 400 and "(not 0)" in refused.text
    assert exercises(database) == [] and audited(database, "exercise_add") == []

    added = client.post(f"/patients/{CODE}/exercises", data={**form, "csrf": csrf_of(page)})
    assert added.status_code == 303 and added.headers["location"] == f"/patients/{CODE}/exercises?saved=added"
    [row] = exercises(database)
    assert (row.name, row.sets, row.reps, row.minutes, row.days_per_week, row.note, row.progression, row.prescribed_by) == (
        "Sit to stand", 3, 10, None, 4, "Hands on the table", "none", "clinician:1")
    listed = client.get(added.headers["location"])
    assert "The exercise is added" in listed.text and "3 × 10 repetitions" in listed.text and "Hands on the table" in listed.text
    [entry] = audited(database, "exercise_add")
    assert (entry.actor, entry.subject, entry.detail) == ("clinician:1", CODE, {"exercise": row.id, "progression": "none", "via": "web"})

    assert client.post(f"/patients/{CODE}/exercises/{row.id}/stop", data={}).status_code == 403
    stopped = client.post(f"/patients/{CODE}/exercises/{row.id}/stop", data={"csrf": csrf_of(listed)})
    assert stopped.status_code == 303
    assert exercises(database)[0].stopped_at == NOW
    assert [e.subject for e in audited(database, "exercise_stop")] == [CODE]
    assert len(audited(database, "view_exercises")) == 2


def test_another_clinics_patient_has_no_exercise_page_here(database, desk, client, clinic_a):
    b = make_clinic(database, "B")
    add_patient(database, b, "PC-OTHR", "2002")
    sign_in(client, web_link(desk))
    page = client.get(f"/patients/{CODE}/exercises")
    assert page.status_code == 404
    assert client.get("/patients/PC-OTHR/exercises").status_code == 404
    form = {"name": "Walk", "minutes": "10", "days": "3", "csrf": csrf_of(client.get("/invitations"))}
    assert client.post("/patients/PC-OTHR/exercises", data=form).status_code == 404
    assert exercises(database) == []


def test_the_patient_page_shows_adherence_week_by_week(database, desk, client, clinic_a):
    add_patient(database, clinic_a, CODE, "2001", timezone="Europe/Berlin")
    with database.transaction() as session:
        from storage.models import Patient

        patient = session.scalars(select(Patient).where(Patient.study_code == CODE)).one()
        row = Exercise(patient_id=patient.id, name="Bridge", sets=2, reps=8, days_per_week=3, progression="none", prescribed_by="test",
                       prescribed_at=NOW - timedelta(days=14))
        session.add(row)
        session.flush()
        for day, before, after in [(date(2026, 11, 23), 2, 5), (date(2026, 11, 25), 3, 6)]:
            session.add(ExerciseLog(exercise_id=row.id, local_date=day, outcome="done", pain_before=before, pain_after=after, logged_at=NOW))
    sign_in(client, web_link(desk))
    page = client.get(f"/patients/{CODE}").text
    assert "Home exercises, week by week" in page
    assert "<td>Nov 23, 2026</td><td>Bridge</td><td>2 of 3</td><td>67%</td><td>0</td><td>2</td>" in page
    assert "Pain rose by 3 or more after Bridge, twice running" in page


def test_this_week_counts_the_sessions_logged_since_monday(database, desk, client, clinic_a):
    add_patient(database, clinic_a, CODE, "2001", timezone="Europe/Berlin")
    with database.transaction() as session:
        from storage.models import Patient

        patient = session.scalars(select(Patient).where(Patient.study_code == CODE)).one()
        row = Exercise(patient_id=patient.id, name="Bridge", sets=2, reps=8, days_per_week=3, progression="none", prescribed_by="test",
                       prescribed_at=NOW - timedelta(days=14))
        session.add(row)
        session.flush()
        for day in (date(2026, 11, 24), date(2026, 11, 26)):  # Tuesday and Thursday; today is Saturday the 28th
            session.add(ExerciseLog(exercise_id=row.id, local_date=day, outcome="done", logged_at=NOW))
    sign_in(client, web_link(desk))
    page = client.get(f"/patients/{CODE}/exercises").text
    assert "<td>2 of 3</td>" in page  # was 0 of 3: only today's logs were read


def test_no_exercise_is_prescribed_to_a_patient_who_withdrew(database, desk, client, clinic_a):
    from storage.models import Patient

    add_patient(database, clinic_a, CODE, "2001", timezone="Europe/Berlin")
    with database.transaction() as session:
        session.scalars(select(Patient).where(Patient.study_code == CODE)).one().consent = "withdrawn"
    sign_in(client, web_link(desk))
    page = client.get(f"/patients/{CODE}/exercises")
    message = f"{CODE} has not given consent, or has withdrawn it: no new exercises."
    assert page.status_code == 200 and message in page.text and "Add the exercise" not in page.text
    form = {"name": "Walk", "minutes": "10", "days": "3", "progression": "none", "csrf": csrf_of(page)}
    refused = client.post(f"/patients/{CODE}/exercises", data=form)
    assert refused.status_code == 400 and message in refused.text
    assert exercises(database) == [] and audited(database, "exercise_add") == []
