"""One patient's page on the dashboard over a chosen range: PEG-3, PHQ-4 with its subscales and
bands, the daily check-in (pain, sleep, activity, pacing followed), pacing logs, breathing drills
before and after, and what the patient shared for their visits; never another clinic's patient,
every view audited with its range, every time in the clinician's zone."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from clinic.desk import Desk
from conftest import NOW
from content.instruments import instrument, score
from storage.models import (Answer, AuditEntry, BreathingSession, Clinician, NotedQuestion, PacingActivity, PacingLog, Patient, Response,
                            VisitPrep)
from test_clinic import DOCTOR_A, make_clinic, verified
from test_web import URL, sign_in, web_link
from web.server import create_app

CODE = "PC-7K3Q"


@pytest.fixture
def desk(database) -> Desk:
    return Desk(database, clock=lambda: NOW, bot_username="paincoach_bot", web_url=URL)


@pytest.fixture
def client(database):
    with TestClient(create_app(database, URL, clock=lambda: NOW), follow_redirects=False) as client:
        yield client


def response(session, patient_id: int, instrument_id: str, days_ago: float, answers: dict, scored: dict | None = None) -> None:
    at = NOW - timedelta(days=days_ago)
    row = Response(patient_id=patient_id, instrument=instrument_id, source="scheduled", language="en", started_at=at, completed_at=at,
                   score=scored)
    session.add(row)
    session.flush()
    session.add_all(Answer(response_id=row.id, item_id=item, value=value, skipped=value is None, answered_at=at)
                    for item, value in answers.items())


def seeded(database, clinic_id: int) -> None:
    """Something of every kind 3 days ago; a PEG-3 and a visit's notes 40 days ago (past four weeks,
    within three months); a PHQ-4 200 days ago (only in "all")."""
    phq4 = instrument("phq4")
    with database.transaction() as session:
        patient = Patient(clinic_id=clinic_id, channel="telegram", external_id="1001", study_code=CODE, consent="given",
                          timezone="Europe/Madrid", enrolled_at=NOW - timedelta(days=300), clinic_reference="MRN 8")
        session.add(patient)
        session.flush()
        pid = patient.id
        response(session, pid, "peg3", 3, {"peg_pain": 7, "peg_enjoyment": 6, "peg_activity": 5}, {"score": 6.0})
        response(session, pid, "peg3", 40, {"peg_pain": 8, "peg_enjoyment": 8, "peg_activity": 8}, {"score": 8.0})
        for days, values in ((3, (2, 2, 1, 1)), (200, (3, 3, 3, 3))):
            answers = dict(zip([item.id for item in phq4.items], values))
            response(session, pid, "phq4", days, answers, score(phq4, answers))
        response(session, pid, "daily", 3, {"pain_now": 6, "sleep_hours": 6.5, "active_minutes": 45, "steps": 4200, "pacing_followed": 1})
        response(session, pid, "daily", 2, {"pain_now": 4, "sleep_hours": None})  # sleep skipped: blank, never zero
        walking = PacingActivity(patient_id=pid, name="Walking the dog", baseline_minutes=10, quota_minutes=8, created_at=NOW - timedelta(days=10))
        session.add(walking)
        session.flush()
        session.add_all([
            PacingLog(activity_id=walking.id, kind="baseline", minutes=10, local_date=(NOW - timedelta(days=9)).date(),
                      logged_at=NOW - timedelta(days=9)),
            PacingLog(activity_id=walking.id, kind="done", minutes=12, quota_minutes=8.0, local_date=(NOW - timedelta(days=3)).date(),
                      logged_at=NOW - timedelta(days=3)),
            BreathingSession(patient_id=pid, pattern="box", planned_seconds=180, actual_seconds=95, completed=False, tension_before=7,
                             tension_after=4, started_at=NOW - timedelta(days=3), created_at=NOW - timedelta(days=3)),
            VisitPrep(patient_id=pid, goals="Walk to the market again", questions="Is <script>alert(1)</script> a safe dose?",
                      created_at=NOW - timedelta(days=3)),
            VisitPrep(patient_id=pid, changes="Slept worse in October", created_at=NOW - timedelta(days=40)),
            NotedQuestion(patient_id=pid, text="Can I take ibuprofen with it?", noted=True, created_at=NOW - timedelta(days=50)),
            NotedQuestion(patient_id=pid, text="Should I double my tramadol?", noted=False, created_at=NOW - timedelta(days=1)),
        ])


@pytest.fixture
def signed_in(database, desk, client):
    a = make_clinic(database, "A", timezone="Europe/Berlin")
    verified(database, desk, a, DOCTOR_A)
    seeded(database, a)
    sign_in(client, web_link(desk))
    return a


def views(database) -> list[dict]:
    with database.transaction() as session:
        return [{"subject": e.subject, **e.detail} for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "view_patient").order_by(AuditEntry.id))]


def test_the_page_shows_the_last_four_weeks_of_every_kind_by_default_in_the_clinicians_zone(database, client, signed_in):
    page = client.get(f"/patients/{CODE}")
    assert page.status_code == 200
    text = page.text
    assert "From Nov 1, 2026 to Nov 28, 2026, both included; times in Europe/Berlin." in text
    assert '<a href="?range=4w" aria-current="page">' in text and 'name="from" type="date" value="2026-11-01"' in text
    # PEG-3, its items and score; the one 40 days ago is outside four weeks.
    assert "<td>Nov 25, 2026, 2:05\u202fPM CET</td><td>7</td><td>6</td><td>5</td><td>6.0</td>" in text and "<td>8.0</td>" not in text
    # PHQ-4 with its band, its subscales (positive at 3 or more), and the published bands.
    assert "<td>6 moderate</td><td>GAD-2 4 positive</td><td>PHQ-2 2</td>" in text
    assert "normal 0–2, mild 3–5, moderate 6–8, severe 9–12; a subscale of 3 or more screens positive" in text
    # The daily check-in: pain, sleep, activity, steps, pacing followed; a skipped sleep stays blank.
    assert "<td>6</td><td>6.5</td><td>45</td><td>4,200</td><td>Partly</td>" in text
    assert "<td>Nov 26, 2026, 2:05\u202fPM CET</td><td>4</td><td></td>" in text
    # Pacing: a baseline day, then a spell done against its quota.
    assert "<td>Nov 19, 2026</td><td>Walking the dog</td><td>baseline day</td><td>10</td><td></td>" in text
    assert "<td>Walking the dog</td><td>done</td><td>12</td><td>8</td>" in text
    # A drill, stopped early, with tension before and after.
    assert "<td>Box breathing (4-4-4-4)</td><td>3:00</td><td>1:35</td><td>stopped</td><td>7</td><td>4</td>" in text
    # Drawn on the server: pain and PEG, then hours slept; no script, no image fetched.
    assert text.count("<svg ") == 2 and 'aria-label="Hours slept"' in text and "<polyline" in text
    assert "<script" not in text and "<img" not in text
    assert views(database) == [{"subject": CODE, "via": "web", "range": "4w", "since": "2026-11-01", "until": "2026-11-28"}]


def test_shared_visit_notes_and_noted_questions_show_as_text_and_unshared_questions_do_not(client, signed_in):
    text = client.get(f"/patients/{CODE}").text
    assert "Visit notes prepared Nov 25, 2026, 2:05\u202fPM CET" in text and "Walk to the market again" in text
    assert "Is &lt;script&gt;alert(1)&lt;/script&gt; a safe dose?" in text and "<script>alert" not in text
    # Asked to keep for the next visit 50 days ago: shown whatever the range, until it goes into visit notes.
    assert "Questions noted for the next visit" in text and "Can I take ibuprofen with it?" in text
    assert "Should I double my tramadol?" not in text  # declined by the coach, never noted by the patient
    assert "Slept worse in October" not in text  # notes of 40 days ago: outside four weeks
    assert "Slept worse in October" in client.get(f"/patients/{CODE}?range=3m").text


@pytest.mark.parametrize("query, first, shown, hidden", [
    ("range=3m", "2026-08-30", ["<td>8.0</td>", "Slept worse in October"], ["<td>12 severe</td>"]),
    ("range=all", None, ["<td>8.0</td>", "<td>12 severe</td>"], []),
    ("from=2026-10-15&to=2026-10-20", "2026-10-15", ["<td>8.0</td>"], ["<td>6.0</td>", "<td>6 moderate</td>", "Walking the dog"]),
    ("from=2026-11-25", "2026-11-25", ["<td>6.0</td>", "Walking the dog"], ["<td>8.0</td>", "baseline day"]),
])
def test_a_chosen_range_shows_what_lies_in_it(database, client, signed_in, query, first, shown, hidden):
    page = client.get(f"/patients/{CODE}?{query}")
    assert page.status_code == 200
    for part in shown:
        assert part in page.text, part
    for part in hidden:
        assert part not in page.text, part
    [view] = views(database)
    assert view["since"] == first and view["until"] == ("2026-10-20" if "to=" in query else "2026-11-28")
    if first is None:
        assert "Everything up to Nov 28, 2026; times in Europe/Berlin." in page.text


@pytest.mark.parametrize("query, message", [
    ("from=28.11.2026", "I couldn't read those dates. Write them as YYYY-MM-DD."),
    ("from=2026-02-30", "I couldn't read those dates. Write them as YYYY-MM-DD."),
    ("to=0001-01-01", "I couldn't read those dates. Write them as YYYY-MM-DD."),
    ("from=2026-11-20&to=2026-11-01", "The first date is after the last one."),
    ("range=forever", "There is no such range."),
])
def test_a_range_that_cannot_be_read_is_said_plainly_not_a_server_error(database, client, signed_in, query, message):
    page = client.get(f"/patients/{CODE}?{query}")
    assert page.status_code == 400 and message in html.unescape(page.text)
    assert "<td>6.0</td>" not in page.text and "PC-7K3Q" in page.text  # the summary, and the form to try again
    if "28.11.2026" in query:
        assert 'value="28.11.2026"' in page.text  # as typed
    assert views(database) == [{"subject": CODE, "via": "web", "range": "unread"}]


def test_another_clinics_patient_is_no_patient_here_whatever_the_range(database, desk, client, signed_in):
    b = make_clinic(database, "B")
    seeded_elsewhere = "PC-BBBB"
    with database.transaction() as session:
        session.add(Patient(clinic_id=b, channel="telegram", external_id="2002", study_code=seeded_elsewhere, consent="given"))
    for query in ("", "?range=all", "?from=2026-01-01&to=2026-12-31", "?from=nonsense"):
        refused = client.get(f"/patients/{seeded_elsewhere}{query}")
        assert refused.status_code == 404 and "No patient PC-BBBB in your clinic." in refused.text
    assert views(database) == []


def test_the_range_and_its_times_follow_the_clinicians_own_zone(database, client, signed_in):
    with database.transaction() as session:
        session.scalars(select(Clinician)).one().timezone = "America/New_York"
    text = client.get(f"/patients/{CODE}").text
    assert "times in America/New_York" in text and "Nov 25, 2026, 8:05\u202fAM EST" in text and "CET" not in text
