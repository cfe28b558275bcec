"""The clinicians' web dashboard, through Starlette's TestClient on the test database: sign-in by a
one-time link from /web in Telegram, the clinic's own patients and alerts only, the headers and
forms that keep it so."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.cli import main
from clinic.desk import Desk
from conftest import NOW
from dialogs.io import Command, Inbound, Message, Who
from storage import enrollment
from storage.alerts import raise_alert
from storage.models import Alert, AuditEntry, Clinic, Patient, WebLink, WebSession
from test_clinic import DOCTOR_A, DOCTOR_B, make_clinic, phq4_history, verified
from web.server import create_app

URL = "http://testserver"
LINK = re.compile(r"http://testserver/signin/(\S+)")


@pytest.fixture(autouse=True)
def command_line_uses_the_test_database(database_url, monkeypatch):
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)


@pytest.fixture
def clock():
    return [NOW]


@pytest.fixture
def desk(database, clock) -> Desk:
    return Desk(database, clock=lambda: clock[0], bot_username="paincoach_bot", web_url=URL)


@pytest.fixture
def client(database, clock):
    with TestClient(create_app(database, URL, clock=lambda: clock[0]), follow_redirects=False) as client:
        yield client


def web_link(desk: Desk, telegram_id: str = DOCTOR_A) -> str:
    [reply] = desk.handle(Inbound(Who("telegram", telegram_id, "en"), Command("web")))
    assert isinstance(reply, Message) and reply.no_preview
    return LINK.search(reply.text).group(1)


def sign_in(client: TestClient, token: str):
    return client.post(f"/signin/{token}")


def csrf_of(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def clinic_a(database, desk) -> int:
    a = make_clinic(database, "A", timezone="Europe/Berlin", alert_include_words=True)
    verified(database, desk, a, DOCTOR_A)
    return a


def test_web_in_telegram_gives_a_verified_clinician_a_one_time_link_kept_hashed(database, desk, clinic_a):
    token = web_link(desk)
    with database.transaction() as session:
        [link] = session.scalars(select(WebLink)).all()
        assert link.token_hash == enrollment.hash_code(token) and link.expires_at == NOW + timedelta(minutes=10)
        assert token not in link.token_hash
    assert desk.handle(Inbound(Who("telegram", "5555", "en"), Command("web"))) is None  # not a clinician: the patient's engine
    [unset] = Desk(database, clock=lambda: NOW).handle(Inbound(Who("telegram", DOCTOR_A, "en"), Command("web")))
    assert "not set up" in unset.text
    from bot.config import Settings

    assert Settings.from_env({"PAINCOACH_WEB_URL": URL}).web_url == URL  # what `paincoach run` hands the desk


def test_opening_the_link_shows_a_button_and_only_the_button_signs_in_once(database, desk, client, clinic_a):
    token = web_link(desk)
    for _ in range(2):  # a link preview's fetch spends nothing
        page = client.get(f"/signin/{token}")
        assert page.status_code == 200 and f'action="/signin/{token}"' in page.text and "Sign in" in page.text
    signed = sign_in(client, token)
    assert signed.status_code == 303 and signed.headers["location"] == "/patients"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie and "Path=/" in cookie
    assert client.get("/patients").status_code == 200
    again = TestClient(client.app, follow_redirects=False)
    assert sign_in(again, token).status_code == 404  # used
    assert again.get(f"/signin/{token}").status_code == 404
    assert again.get("/patients").status_code == 401
    assert sign_in(again, "forged" + token[6:]).status_code == 404
    with database.transaction() as session:
        assert session.scalars(select(WebSession)).one().clinician_id == 1
        assert "web_signin" in [entry.action for entry in session.scalars(select(AuditEntry))]


def test_an_expired_link_or_an_idle_session_is_refused(database, desk, client, clock, clinic_a):
    token = web_link(desk)
    clock[0] = NOW + timedelta(minutes=10, seconds=1)
    assert client.get(f"/signin/{token}").status_code == 404
    assert sign_in(client, token).status_code == 404
    fresh = web_link(desk)
    assert sign_in(client, fresh).status_code == 303
    clock[0] += timedelta(minutes=29)
    assert client.get("/patients").status_code == 200  # in use: the idle time starts again
    clock[0] += timedelta(minutes=31)
    assert client.get("/patients").status_code == 401
    assert sign_in(client, web_link(desk)).status_code == 303
    for _ in range(25):  # in constant use, a session still ends after 12 hours
        clock[0] += timedelta(minutes=29, seconds=59)
        client.get("/patients")
    assert client.get("/patients").status_code == 401


def test_a_secure_cookie_behind_https(database, desk, clinic_a):
    with TestClient(create_app(database, "https://Dashboard.example.org:443", clock=lambda: NOW), base_url="https://dashboard.example.org",
                    follow_redirects=False) as client:
        signed = client.post(f"/signin/{web_link(desk)}", headers={"origin": "https://dashboard.example.org"})  # as a browser writes it
        assert signed.status_code == 303 and "Secure" in signed.headers["set-cookie"]


def test_the_patients_page_shows_the_clinics_patients_with_phq4_and_not_another_clinics(database, desk, client, clinic_a):
    phq4_history(database, clinic_a)
    b = make_clinic(database, "B")
    with database.transaction() as session:
        session.add(Patient(clinic_id=b, channel="telegram", external_id="2002", study_code="PC-BBBB", consent="given"))
    sign_in(client, web_link(desk))
    page = client.get("/patients")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "PC-7K3Q" in page.text and "MRN 8" in page.text and "PC-BBBB" not in page.text
    assert "PHQ-4 10 severe (+6 since baseline): GAD-2 6 positive, PHQ-2 4 positive" in page.text
    assert "Nov 27, 2026, 2:05\u202fPM CET" in page.text  # the clinic's zone
    one = client.get("/patients/PC-7K3Q")
    assert "Latest PHQ-4: Nov 27, 2026" in one.text and "<svg" not in one.text  # no daily check-ins or PEG: nothing to draw
    assert client.get("/patients/PC-BBBB").status_code == 404
    with database.transaction() as session:
        actions = [(e.action, e.subject) for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == "clinician:1"))]
    assert ("view_patients", None) in actions and ("view_patient", "PC-7K3Q") in actions


def test_the_chart_is_drawn_on_the_server_as_svg(database, desk, client, clinic_a):
    from test_progress import six_weeks

    with database.transaction() as session:
        session.add(Patient(clinic_id=clinic_a, channel="telegram", external_id="1001", study_code="PC-CHRT", consent="given"))
    six_weeks(database)
    sign_in(client, web_link(desk))
    page = client.get("/patients/PC-CHRT")
    assert page.status_code == 200 and page.text.count("<svg ") == 2 and page.text.count("<circle ") > 20
    assert 'aria-label="Pain, 0 to 10 (lower is better)"' in page.text and "<img" not in page.text
    assert client.get("/patients/PC-CHRT/chart.png").status_code == 404  # nothing fetched beside the page


def test_every_response_says_default_src_self_and_text_stays_text(database, desk, client, clinic_a):
    with database.transaction() as session:
        patient = Patient(clinic_id=clinic_a, channel="telegram", external_id="1001", study_code="PC-XSS2", consent="given",
                          clinic_reference="<script>alert(1)</script>")
        session.add(patient)
        session.flush()
        raise_alert(session, patient, "crisis", NOW, words="<img src=x onerror=alert(2)>")
    assert "default-src 'self'" in client.get("/signin/nothing").headers["content-security-policy"]
    sign_in(client, web_link(desk))
    for path in ("/patients", "/patients/PC-XSS2", "/alerts"):
        page = client.get(path)
        assert "default-src 'self'" in page.headers["content-security-policy"], path
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/patients").text
    assert "&lt;img src=x onerror=alert(2)&gt;" in client.get("/alerts").text


def test_acknowledging_an_alert_on_the_web_is_recorded_once_and_needs_the_forms_token(database, desk, client, clinic_a):
    with database.transaction() as session:
        patient = Patient(clinic_id=clinic_a, channel="telegram", external_id="1001", study_code="PC-ALRT", consent="given")
        session.add(patient)
        session.flush()
        alert_id = raise_alert(session, patient, "crisis", NOW, words="help").id
    sign_in(client, web_link(desk))
    page = client.get("/alerts")
    assert "Alert: crisis message" in page.text and "Acknowledge" in page.text and "Their message: help" in page.text
    assert "At Nov 28, 2026, 2:05\u202fPM CET" in page.text  # in the clinic's zone, as the Telegram copies
    assert client.post(f"/alerts/{alert_id}/acknowledge", data={"note": "called"}).status_code == 403  # no CSRF token
    assert client.post(f"/alerts/{alert_id}/acknowledge", data={"note": "called", "csrf": "güess"}).status_code == 403
    token = csrf_of(page)
    assert client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf": token}, headers={"origin": "https://evil.example"}).status_code == 403
    with database.transaction() as session:
        assert session.get(Alert, alert_id).acknowledged_at is None
    done = client.post(f"/alerts/{alert_id}/acknowledge", data={"note": "Called her, safe at home", "csrf": token})
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "Acknowledged by Dr Lee" in after.text and "No open alerts." in after.text
    with database.transaction() as session:
        alert = session.get(Alert, alert_id)
        assert alert.acknowledged_by == 1 and alert.acknowledged_actor == "clinician:1"
        assert alert.acknowledged_note == "Called her, safe at home" and alert.escalation_due_at is None
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "acknowledge")).one().subject == "PC-ALRT"
    assert client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf": token}).status_code == 303  # once: nothing changes
    with database.transaction() as session:
        assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "acknowledge")).all()) == 1


def test_another_clinics_alert_cannot_be_acknowledged(database, desk, client, clinic_a):
    b = make_clinic(database, "B")
    with database.transaction() as session:
        patient = Patient(clinic_id=b, channel="telegram", external_id="2002", study_code="PC-BBBB", consent="given")
        session.add(patient)
        session.flush()
        alert_id = raise_alert(session, patient, "crisis", NOW).id
    sign_in(client, web_link(desk))
    page = client.get("/alerts")
    assert "PC-BBBB" not in page.text
    assert client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf": csrf_of(page)}).status_code == 404
    with database.transaction() as session:
        assert session.get(Alert, alert_id).acknowledged_at is None


def test_a_revoked_clinician_is_signed_out_at_once(database, desk, client, clinic_a, monkeypatch):
    sign_in(client, web_link(desk))
    assert client.get("/patients").status_code == 200
    assert main(["clinician", "revoke", "1"]) == 0
    assert client.get("/patients").status_code == 401
    assert client.get("/alerts").status_code == 401


def test_signing_out_ends_the_session(database, desk, client, clinic_a):
    sign_in(client, web_link(desk))
    page = client.get("/patients")
    assert client.post("/signout", data={}).status_code == 403  # a form without its token
    out = client.post("/signout", data={"csrf": csrf_of(page)})
    assert out.status_code == 303 and out.headers["location"] == "/signed-out"
    client.cookies.clear()
    with database.transaction() as session:
        assert session.scalars(select(WebSession)).one().ended_at is not None


@pytest.mark.parametrize("language, heading", [("de", "Patienten"), ("es", "Pacientes")])
def test_pages_speak_the_clinicians_language_and_the_sign_in_page_the_browsers(database, desk, client, language, heading):
    a = make_clinic(database, "A")
    with database.transaction() as session:
        _clinician, code = enrollment.invite_clinician(session, session.get(Clinic, a), NOW, name="Dr Lee", created_by="test")
    desk.handle(Inbound(Who("telegram", DOCTOR_B, language), Command("start", code)))
    token = web_link(desk, DOCTOR_B)
    button = client.get(f"/signin/{token}", headers={"accept-language": f"fr;q=1, {language}-XX;q=0.8, en;q=0.5"})
    assert f'lang="{language}"' in button.text
    sign_in(client, token)
    page = client.get("/patients")
    assert f'lang="{language}"' in page.text and f"<h1>{heading}</h1>" in page.text


def test_a_sign_in_link_goes_out_without_a_link_preview():
    import asyncio

    from bot.delivery import deliver
    from dialogs.io import decode, encode

    class Bot:
        def __init__(self):
            self.calls = []

        async def send_message(self, chat_id, text, **kw):
            self.calls.append((text, kw))
            return type("Sent", (), {"message_id": len(self.calls)})()

    bot = Bot()
    link = Message("Your sign-in link: http://testserver/signin/x", no_preview=True)
    assert decode(encode(link)) == link  # kept so while it waits in the outbox
    asyncio.run(deliver(bot, None, 1, [Message("Hello"), link]))
    [(hello, plain), (text, kw)] = bot.calls  # not merged into the text before it
    assert plain["link_preview_options"] is None and kw["link_preview_options"].is_disabled and "signin" in text


def test_links_and_sessions_are_pruned_a_day_after_their_last_use(database, desk, client, clinic_a, clock):
    from storage import retention

    spent = web_link(desk)
    web_link(desk)  # never used
    assert sign_in(client, spent).status_code == 303
    with database.transaction() as session:
        assert retention.prune(session, NOW + timedelta(hours=2))["web"] == 0  # a session can still be resumed in the day
    with database.transaction() as session:
        assert retention.prune(session, NOW + timedelta(days=1, hours=1))["web"] == 3  # both links and the idle session
        assert session.scalars(select(WebLink)).all() == [] and session.scalars(select(WebSession)).all() == []


def answered(database, clinic_id: int, study_code: str, external_id: str) -> None:
    """A patient with one answered PEG item, a day ago."""
    from storage.models import Answer, Response

    at = NOW - timedelta(days=1)
    with database.transaction() as session:
        patient = Patient(clinic_id=clinic_id, channel="telegram", external_id=external_id, study_code=study_code, consent="given",
                          enrolled_at=NOW - timedelta(days=10))
        session.add(patient)
        session.flush()
        response = Response(patient_id=patient.id, instrument="peg3", source="scheduled", language="en", started_at=at, completed_at=at)
        session.add(response)
        session.flush()
        session.add(Answer(response_id=response.id, item_id="pain", value=6, answered_at=at))


def test_the_exports_page_downloads_the_desks_zip_of_the_clinics_own_patients(database, desk, client, clinic_a):
    import io
    import zipfile

    answered(database, clinic_a, "PC-AAAA", "1001")
    answered(database, make_clinic(database, "B"), "PC-BBBB", "2002")
    assert client.get("/exports").status_code == 401
    sign_in(client, web_link(desk))
    page = client.get("/exports")
    assert page.status_code == 200 and 'href="/exports"' in page.text and 'type="date"' in page.text
    assert 'value="redcap"' in page.text and 'value="peg3"' in page.text and 'name="identify"' not in page.text  # not an admin
    form = {"format": "long", "study_code": "", "since": "2026-11-01", "until": "", "instrument": "", "csrf": csrf_of(page)}
    assert client.post("/exports", data={**form, "csrf": ""}).status_code == 403
    download = client.post("/exports", data=form)
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"] == f'attachment; filename="paincoach-export-long-{NOW:%Y-%m-%d}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert sorted(archive.namelist()) == ["data_dictionary.csv", "long.csv"]
    long_csv = archive.read("long.csv").decode()
    assert "PC-AAAA" in long_csv and "PC-BBBB" not in long_csv
    with database.transaction() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert entry.actor == "clinician:1" and entry.clinic_id == clinic_a and entry.rows == 1
        assert entry.detail["via"] == "web" and entry.detail["formats"] == ["long"] and entry.detail["filters"]["since"].startswith("2026-11-01")


@pytest.mark.parametrize("code", ["PC-ZZZZ", "PC-BBBB"])
def test_an_export_of_an_unknown_or_another_clinics_patient_is_refused_as_the_desk_refuses_it(database, desk, client, clinic_a, code):
    answered(database, make_clinic(database, "B"), "PC-BBBB", "2002")
    sign_in(client, web_link(desk))
    token = csrf_of(client.get("/exports"))
    refused = client.post("/exports", data={"format": "long", "study_code": code.lower(), "csrf": token})
    assert refused.status_code == 400 and refused.headers["content-type"].startswith("text/html")
    assert f"No patient {code} in your clinic." in refused.text and "content-disposition" not in refused.headers
    with database.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("export%"))).all()
        assert [(e.action, e.subject, e.detail["reason"], e.detail["via"]) for e in entries] == [
            ("export_refused", code, "unknown_study_code", "web")]


def test_an_identified_export_needs_an_admin_and_dates_must_be_dates(database, desk, client, clinic_a):
    sign_in(client, web_link(desk))
    token = csrf_of(client.get("/exports"))
    refused = client.post("/exports", data={"format": "long", "identify": "yes", "csrf": token})
    assert refused.status_code == 400 and "Only a clinic admin can export identified data." in refused.text
    unread = client.post("/exports", data={"format": "wide", "since": "28.11.2026", "csrf": token})
    assert unread.status_code == 400 and "Write them as YYYY-MM-DD" in unread.text and 'value="28.11.2026"' in unread.text
    assert client.post("/exports", data={"format": "everything", "csrf": token}).status_code == 400
    with database.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("export%"))).all()
        assert [(e.action, e.detail["reason"], e.detail["via"]) for e in entries] == [("export_refused", "identify_not_admin", "web")]
