"""Every time a clinician reads is in their own time zone, set in Telegram (/timezone) or on the
dashboard (My time zone), their clinic's until they choose one: the desk, each clinician's copy of
an alert and its acknowledgement, the visit report, the dashboard's pages."""
from __future__ import annotations

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from clinic.alerts import ACK
from clinic.desk import Desk
from conftest import NOW
from dialogs.io import Command, Edit, Press
from storage.models import AuditEntry, Clinic, Clinician
from test_alert_episodes import CRISIS, FALLBACK, Telegram, alerts, patient
from test_clinic import DOCTOR_A, DOCTOR_B, make_clinic, phq4_history, say, texts, verified
from test_web import URL, csrf_of, sign_in, web_link
from web.server import create_app


@pytest.fixture(autouse=True)
def command_line_uses_the_test_database(database_url, monkeypatch):
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)


@pytest.fixture
def clock():
    return [NOW]


@pytest.fixture
def desk(database, clock) -> Desk:
    return Desk(database, clock=lambda: clock[0], web_url=URL)


def zone_of(database, telegram_id: str = DOCTOR_A) -> str | None:
    with database.transaction() as session:
        return session.scalars(select(Clinician.timezone).where(Clinician.telegram_id == telegram_id)).one()


def test_a_clinician_sets_their_zone_in_telegram_and_the_desk_shows_times_in_it(database, desk):
    clinic = make_clinic(database, "A", timezone="Europe/Berlin")
    verified(database, desk, clinic, DOCTOR_A)
    phq4_history(database, clinic)
    assert "/timezone [Europe/Berlin | a city | clinic]" in texts(say(desk, DOCTOR_A, Command("help")))
    assert "Your time zone is your clinic's: Europe/Berlin." in texts(say(desk, DOCTOR_A, Command("timezone")))
    assert "last check-in Nov 27, 2026, 2:05\u202fPM CET" in texts(say(desk, DOCTOR_A, Command("patients")))

    saved = texts(say(desk, DOCTOR_A, Command("timezone", "america/new_york")))
    assert saved == "Saved: your time zone is America/New_York. It is now Nov 28, 2026, 8:05\u202fAM EST."
    assert zone_of(database) == "America/New_York"
    assert "last check-in Nov 27, 2026, 8:05\u202fAM EST" in texts(say(desk, DOCTOR_A, Command("patients")))
    one = texts(say(desk, DOCTOR_A, Command("patient", "PC-7K3Q")))
    assert "Latest PHQ-4: Nov 27, 2026, 8:05\u202fAM EST" in one and "CET" not in one
    assert "Your time zone: America/New_York." in texts(say(desk, DOCTOR_A, Command("timezone")))

    # Read as a patient's typed place is read: a city with one zone is that zone.
    assert "Saved: your time zone is Asia/Tokyo." in texts(say(desk, DOCTOR_A, Command("timezone", "Tokyo")))
    for typed, refusal in (("Mars/Olympus_Mons", "I don't know the time zone “Mars/Olympus_Mons”."),
                           ("+05:30", "I don't know the time zone “+05:30”."),
                           ("Australia", "“Australia” has more than one time zone: ")):
        assert refusal in texts(say(desk, DOCTOR_A, Command("timezone", typed)))
        assert zone_of(database) == "Asia/Tokyo"  # nothing changed
    assert texts(say(desk, DOCTOR_A, Command("timezone", "clinic"))).startswith(
        "Saved: you read times in your clinic's time zone, Europe/Berlin.")
    assert zone_of(database) is None
    with database.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "set_timezone").order_by(AuditEntry.id)).all()
        assert [e.detail["timezone"] for e in entries] == ["America/New_York", "Asia/Tokyo", None]


def test_a_clinician_sets_their_zone_on_the_dashboard_and_a_bad_one_changes_nothing(database, desk):
    clinic = make_clinic(database, "A", timezone="Europe/Berlin")
    verified(database, desk, clinic, DOCTOR_A)
    phq4_history(database, clinic)
    with TestClient(create_app(database, URL, clock=lambda: NOW), follow_redirects=False) as client:
        sign_in(client, web_link(desk))
        assert 'href="/me"' in client.get("/patients").text
        page = client.get("/me")
        assert page.status_code == 200 and "Your time zone is your clinic" in html.unescape(page.text)
        assert "It is now Nov 28, 2026, 2:05\u202fPM CET." in page.text and '<option value="America/New_York">' in page.text
        token = csrf_of(page)
        assert client.post("/me", data={"timezone": "America/New_York"}).status_code == 403  # no form token
        refused = client.post("/me", data={"timezone": "Europe/Atlantis", "csrf": token})
        assert refused.status_code == 400 and "I don't know the time zone “Europe/Atlantis”." in html.unescape(refused.text)
        assert 'value="Europe/Atlantis"' in refused.text  # as typed, to correct
        assert zone_of(database) is None
        done = client.post("/me", data={"timezone": "America/New_York", "csrf": token})
        assert done.status_code == 303 and done.headers["location"] == "/me?saved=1"
        assert zone_of(database) == "America/New_York"
        assert "Your time zone: America/New_York." in client.get("/me?saved=1").text
        assert "Nov 27, 2026, 8:05\u202fAM EST" in client.get("/patients").text
        assert "Latest PHQ-4: Nov 27, 2026, 8:05\u202fAM EST" in client.get("/patients/PC-7K3Q").text
        assert client.post("/me", data={"timezone": "", "csrf": token}).status_code == 303  # empty: the clinic's again
        assert zone_of(database) is None
    # And Telegram reads the same setting.
    say(desk, DOCTOR_A, Command("timezone", "Asia/Tokyo"))
    assert "last check-in Nov 27, 2026, 10:05\u202fPM JST" in texts(say(desk, DOCTOR_A, Command("patients")))
    with database.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "set_timezone").order_by(AuditEntry.id)).all()
        assert [(e.detail["timezone"], e.detail.get("via")) for e in entries] == [
            ("America/New_York", "web"), (None, "web"), ("Asia/Tokyo", None)]


def test_two_clinicians_of_one_clinic_read_the_same_alert_each_at_their_own_time(database, desk, clock):
    import asyncio

    from clinic.alerts import AlertDispatcher

    telegram = Telegram()
    dispatcher = AlertDispatcher(database, telegram.send, telegram.edit, clock=lambda: clock[0])
    tick = lambda: asyncio.run(dispatcher.tick())  # noqa: E731
    alice = patient(database, desk, clock, alert_escalate_minutes=10, timezone="UTC")
    with database.transaction() as session:
        session.scalars(select(Clinic).where(Clinic.name == "Riverside")).one().fallback_chat_id = FALLBACK
    say(desk, DOCTOR_A, Command("timezone", "Europe/Berlin"))
    say(desk, DOCTOR_B, Command("timezone", "America/New_York"))
    alice.say(CRISIS)
    assert tick() == 2
    copies = {chat: message.text for chat, message in telegram.sent}
    assert "At Nov 28, 2026, 2:05\u202fPM CET" in copies[int(DOCTOR_A)]
    assert "At Nov 28, 2026, 8:05\u202fAM EST" in copies[int(DOCTOR_B)]
    clock[0] = NOW + timedelta(minutes=10)
    tick()  # escalated: the fallback chat reads the clinic's zone
    [fallback] = [message.text for chat, message in telegram.sent if chat == FALLBACK]
    assert "At Nov 28, 2026, 1:05\u202fPM UTC" in fallback
    [alert] = alerts(database)
    clock[0] = NOW + timedelta(minutes=12)
    first = next(i for i, (chat, _m) in enumerate(telegram.sent, 1) if chat == int(DOCTOR_A))
    reply = say(desk, DOCTOR_A, Press(f"{ACK}{alert.id}", first, telegram.sent[first - 1][1].text))
    [edit] = [o for o in reply if isinstance(o, Edit)]
    assert "✓ Acknowledged by Dr A at Nov 28, 2026, 2:17\u202fPM CET" in edit.text
    tick()
    by_chat = {chat: message.text for chat, _id, message in telegram.edits}
    assert "✓ Acknowledged by Dr A at Nov 28, 2026, 8:17\u202fAM EST" in by_chat[int(DOCTOR_B)]
    assert "At Nov 28, 2026, 8:05\u202fAM EST" in by_chat[int(DOCTOR_B)]
    assert "✓ Acknowledged by Dr A at Nov 28, 2026, 2:17\u202fPM CET" in by_chat[int(DOCTOR_A)]
    assert "✓ Acknowledged by Dr A at Nov 28, 2026, 1:17\u202fPM UTC" in by_chat[FALLBACK]
    stale = texts(say(desk, DOCTOR_B, Press(f"{ACK}{alert.id}", None, None)))
    assert stale == "Already acknowledged by Dr A at Nov 28, 2026, 8:17\u202fAM EST."


def test_the_dashboards_alerts_and_the_visit_report_are_in_the_clinicians_zone(database, desk, monkeypatch):
    from exports import report
    from storage.alerts import raise_alert
    from storage.models import Patient

    clinic = make_clinic(database, "A", timezone="Europe/Berlin")
    verified(database, desk, clinic, DOCTOR_A)
    verified(database, desk, clinic, DOCTOR_B, name="Dr B")
    phq4_history(database, clinic)
    with database.transaction() as session:
        raise_alert(session, session.scalars(select(Patient)).one(), "crisis", NOW)
    say(desk, DOCTOR_A, Command("timezone", "America/New_York"))
    with TestClient(create_app(database, URL, clock=lambda: NOW), follow_redirects=False) as client:
        sign_in(client, web_link(desk))
        assert "At Nov 28, 2026, 8:05\u202fAM EST" in client.get("/alerts").text
    made = []
    real = report.render
    monkeypatch.setattr(report, "render", lambda *args, **kw: made.append(kw["reader_zone"]) or real(*args, **kw))
    for doctor in (DOCTOR_A, DOCTOR_B):
        say(desk, doctor, Command("report", "PC-7K3Q"))
    assert made == [ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")]
    with database.transaction() as session:
        facts = report.gather(session, session.scalars(select(Patient)).one(), NOW, ZoneInfo("America/New_York"))
    assert facts.produced == "Nov 28, 2026, 8:05\u202fAM EST"
