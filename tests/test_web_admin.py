"""The dashboard's clinic management: invitations and discharge for the clinic's clinicians, the
clinic's settings and audit for its admins only; every view and change in the audit, the rules
the command line's."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from conftest import NOW, Chat
from dialogs.helplines import crisis_text
from onboard import onboard
from storage import enrollment
from storage.models import AuditEntry, Clinic, Clinician, Invite, Patient, Prompt
from test_clinic import DOCTOR_B, make_clinic, patient_invite
from test_web import URL, clinic_a, client, clock, command_line_uses_the_test_database, csrf_of, desk, sign_in, web_link  # noqa: F401
from web.server import create_app


def admin(database, clinician_id: int = 1) -> None:
    with database.transaction() as session:
        session.get(Clinician, clinician_id).is_admin = True


def audited(database, action: str) -> list[AuditEntry]:
    with database.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def add_patient(database, clinic_id: int, code: str, external_id: str, **fields) -> None:
    with database.transaction() as session:
        session.add(Patient(clinic_id=clinic_id, channel="telegram", external_id=external_id, study_code=code, consent="given", **fields))


# -- invitations -------------------------------------------------------------------------------


def test_a_clinician_makes_an_invitation_shown_once_and_sees_the_clinics_open_ones(database, desk, client, clinic_a):
    b = make_clinic(database, "B")
    patient_invite(database, b, reference="B's own")
    sign_in(client, web_link(desk))
    page = client.get("/invitations")
    assert page.status_code == 200 and "No open invitations." in page.text and 'href="/invitations"' in page.text
    assert client.post("/invitations", data={"reference": "MRN 42"}).status_code == 403  # no CSRF token
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Invite).where(Invite.kind == "patient")) == 1  # B's only
    made = client.post("/invitations", data={"reference": "MRN 42", "csrf": csrf_of(page)})
    assert made.status_code == 200
    code = made.text.split('id="invite-link" class="link" type="text" readonly value="/start ')[1].split('"')[0]
    assert "sends this to the bot" in made.text and "Invitation for MRN 42" in made.text
    with database.transaction() as session:
        invite = session.scalars(select(Invite).where(Invite.clinic_id == clinic_a, Invite.kind == "patient")).one()
        assert (invite.kind, invite.reference, invite.created_by) == ("patient", "MRN 42", "clinician:1")
        assert invite.expires_at == NOW + timedelta(days=14) and enrollment.usable(session, code, "patient", NOW)
        assert code not in invite.code_hash
    [entry] = audited(database, "invite")
    assert (entry.actor, entry.clinic_id, entry.detail) == ("clinician:1", clinic_a, {"via": "web"})
    listed = client.get("/invitations")
    assert "Nov 28, 2026, 2:05\u202fPM CET" in listed.text and "Dec 12, 2026, 2:05\u202fPM CET" in listed.text  # the clinic's zone
    assert "MRN 42" in listed.text and "Dr Lee (clinician:1)" in listed.text and "B&#39;s own" not in listed.text
    assert code not in listed.text  # shown once: only its hash is kept
    assert [e.rows for e in audited(database, "view_invitations")] == [0, 1]


def test_with_the_bots_username_an_invitation_is_a_telegram_link(database, desk, clinic_a):
    with TestClient(create_app(database, URL, clock=lambda: NOW, bot_username="paincoach_bot"), follow_redirects=False) as client:
        sign_in(client, web_link(desk))
        made = client.post("/invitations", data={"csrf": csrf_of(client.get("/invitations"))})
    assert 'readonly value="https://t.me/paincoach_bot?start=' in made.text and "opens this link in Telegram" in made.text


# -- discharge ---------------------------------------------------------------------------------


def test_a_clinician_discharges_their_patient_after_confirming_and_check_ins_stop(engine, database, desk, client, clinic_a):
    alice = Chat(engine, "1001")
    alice.command("start", patient_invite(database, clinic_a, reference="MRN 7"))
    onboard(alice)
    with database.transaction() as session:
        code = session.scalars(select(Patient.study_code)).one()
        assert session.scalar(select(func.count()).select_from(Prompt).where(Prompt.status == "scheduled")) > 0
    sign_in(client, web_link(desk))
    assert f'href="/patients/{code}/discharge"' in client.get(f"/patients/{code}").text
    confirm = client.get(f"/patients/{code}/discharge")
    assert confirm.status_code == 200 and "MRN 7" in confirm.text
    assert "no more check-ins or reminders" in confirm.text and "Their data is kept for 3,650 days" in confirm.text
    assert client.post(f"/patients/{code}/discharge", data={}).status_code == 403  # no CSRF token
    assert client.post(f"/patients/{code}/discharge", data={"csrf": csrf_of(confirm)},
                       headers={"origin": "https://evil.example"}).status_code == 403
    with database.transaction() as session:
        assert session.scalars(select(Patient)).one().discharged_at is None
    done = client.post(f"/patients/{code}/discharge", data={"csrf": csrf_of(confirm)})
    assert done.status_code == 200 and f"{code} is discharged" in done.text and "Nov 25, 2036" in done.text
    with database.transaction() as session:
        assert session.scalars(select(Patient)).one().discharged_at == NOW
        assert session.scalar(select(func.count()).select_from(Prompt).where(Prompt.status == "scheduled")) == 0  # as the CLI's
    [entry] = audited(database, "discharge")
    assert (entry.actor, entry.subject, entry.detail) == ("clinician:1", code, {"via": "web"})
    assert [e.subject for e in audited(database, "view_discharge")] == [code]
    again = client.post(f"/patients/{code}/discharge", data={"csrf": csrf_of(confirm)})
    assert f"{code} was discharged on Nov 28, 2026" in again.text and len(audited(database, "discharge")) == 1
    assert "was discharged on" in client.get(f"/patients/{code}/discharge").text
    assert client.get(f"/patients/{code}").status_code == 404  # off the list, as `/patient` in Telegram


def test_another_clinics_patient_cannot_be_discharged(database, desk, client, clinic_a):
    add_patient(database, make_clinic(database, "B"), "PC-BBBB", "2002")
    sign_in(client, web_link(desk))
    token = csrf_of(client.get("/invitations"))
    assert client.get("/patients/PC-BBBB/discharge").status_code == 404
    refused = client.post("/patients/PC-BBBB/discharge", data={"csrf": token})
    assert refused.status_code == 404 and "No patient PC-BBBB in your clinic." in refused.text
    assert client.post("/patients/nonsense/discharge", data={"csrf": token}).status_code == 404
    with database.transaction() as session:
        assert session.scalars(select(Patient)).one().discharged_at is None
    assert audited(database, "discharge") == []


# -- settings and audit: admins only -----------------------------------------------------------


def test_settings_and_the_audit_are_for_admins_only(database, desk, client, clinic_a):
    sign_in(client, web_link(desk))
    page = client.get("/patients")
    assert 'href="/invitations"' in page.text and 'href="/settings"' not in page.text and 'href="/audit"' not in page.text
    for path in ("/settings", "/audit"):
        refused = client.get(path)
        assert refused.status_code == 403 and "Only a clinic admin can open this page." in refused.text, path
    changed = client.post("/settings/alerts", data={"csrf": csrf_of(page), "alert_escalate_minutes": "5", "alert_escalate_times": "3",
                                                    "fallback_chat_id": ""})
    assert changed.status_code == 403
    assert client.post("/settings/crisis", data={"csrf": csrf_of(page), "country": "DE", "reset": "yes"}).status_code == 403
    with database.transaction() as session:
        assert session.get(Clinic, clinic_a).settings == {"timezone": "Europe/Berlin", "alert_include_words": True}
    admin(database)
    page = client.get("/patients")
    assert 'href="/settings"' in page.text and 'href="/audit"' in page.text
    assert client.get("/settings").status_code == 200 and client.get("/audit").status_code == 200


def test_an_admin_changes_escalation_and_the_fallback_chat_audited_old_to_new(database, desk, client, clinic_a):
    admin(database)
    sign_in(client, web_link(desk))
    page = client.get("/settings")
    assert 'name="alert_escalate_minutes" value="15"' in page.text and 'name="fallback_chat_id" value=""' in page.text
    assert "<td>retention_days</td><td>3650</td><td>default</td>" in page.text
    assert "<td>timezone</td><td>Europe/Berlin</td><td>your clinic&#39;s</td>" in page.text
    assert client.post("/settings/alerts", data={"alert_escalate_minutes": "10"}).status_code == 403  # no CSRF token
    saved = client.post("/settings/alerts", data={"csrf": csrf_of(page), "alert_escalate_minutes": "10", "alert_escalate_times": "3",
                                                  "fallback_chat_id": "-100123"})
    assert saved.status_code == 303 and saved.headers["location"] == "/settings?saved=1"
    assert "Saved." in client.get(saved.headers["location"]).text
    with database.transaction() as session:
        clinic = session.get(Clinic, clinic_a)
        assert clinic.settings["alert_escalate_minutes"] == 10 and clinic.fallback_chat_id == -100123
        assert "alert_escalate_times" not in clinic.settings  # untouched: still the default
    changes = [(e.detail["setting"], e.detail["old"], e.detail["new"], e.actor) for e in audited(database, "change_setting")]
    assert changes == [("alert_escalate_minutes", 15, 10, "clinician:1"), ("fallback_chat_id", None, -100123, "clinician:1")]
    assert audited(database, "view_settings")


@pytest.mark.parametrize("field, value, message", [
    ("alert_escalate_times", "99", "Escalate at most (times) must be from 1 to 20"),
    ("alert_escalate_minutes", "soon", "Escalate an unacknowledged alert after (minutes) must be a whole number, like 15"),
    ("alert_escalate_minutes", "0", "must be more than 0"),
    ("fallback_chat_id", "my phone", "must be a Telegram chat id"),
])
def test_a_bad_setting_is_explained_and_changes_nothing(database, desk, client, clinic_a, field, value, message):
    admin(database)
    sign_in(client, web_link(desk))
    form = {"csrf": csrf_of(client.get("/settings")), "alert_escalate_minutes": "10", "alert_escalate_times": "3", "fallback_chat_id": "42"}
    refused = client.post("/settings/alerts", data={**form, field: value})
    assert refused.status_code == 400 and message in refused.text
    assert f'name="{field}" value="{value}"' in refused.text  # what they typed, to correct
    with database.transaction() as session:
        clinic = session.get(Clinic, clinic_a)
        assert "alert_escalate_minutes" not in clinic.settings and clinic.fallback_chat_id is None
    assert audited(database, "change_setting") == []


def test_an_admin_sets_the_clinics_crisis_and_support_lines_for_a_country(database, desk, client, clinic_a):
    admin(database)
    sign_in(client, web_link(desk))
    page = client.get("/settings")  # the clinic's zone's country first
    assert 'value="TelefonSeelsorge"' in page.text and 'value="0800 111 0 111"' in page.text and "the shipped lines" in page.text
    lines = {"csrf": csrf_of(page), "country": "DE", "emergency": "112",
             "line-0-name": "Our on-call nurse", "line-0-phone": "+49 30 1234", "line-0-text": "yes",
             "line-1-name": "", "line-1-phone": "",
             "support-0-name": "Hilfetelefon", "support-0-phone": "116 016", "poison": ""}
    refused = client.post("/settings/crisis", data={**lines, "line-1-name": "Night line", "line-1-phone": "call me"})
    assert refused.status_code == 400 and "“call me” is not a phone number" in refused.text
    assert client.post("/settings/crisis", data={**lines, "line-1-phone": "0800 1"}).status_code == 400  # a number without a name
    assert client.post("/settings/crisis", data={**lines, "emergency": ""}).status_code == 400
    with database.transaction() as session:
        assert "crisis_resources" not in session.get(Clinic, clinic_a).settings
    saved = client.post("/settings/crisis", data=lines)
    assert saved.status_code == 303 and saved.headers["location"] == "/settings?country=DE&saved=1"
    shown = client.get(saved.headers["location"])
    assert "your clinic&#39;s own lines" in shown.text and 'value="Our on-call nurse"' in shown.text
    with database.transaction() as session:
        own = session.get(Clinic, clinic_a).settings
    assert own["crisis_resources"]["DE"]["lines"] == [{"name": "Our on-call nurse", "phone": "+49 30 1234", "text_ok": True}]
    with __import__("locales").use("en"):
        reply = crisis_text("DE", own)
    assert "Our on-call nurse: call or text +49 30 1234" in reply and "TelefonSeelsorge" not in reply  # what a patient in crisis gets
    [change] = audited(database, "change_setting")
    assert change.detail["country"] == "DE" and change.detail["old"] is None and change.detail["new"]["emergency"] == "112"
    back = client.post("/settings/crisis", data={"csrf": lines["csrf"], "country": "DE", "reset": "yes"})
    assert back.status_code == 303
    with database.transaction() as session:
        assert "crisis_resources" not in session.get(Clinic, clinic_a).settings
    assert audited(database, "change_setting")[-1].detail["new"] is None


def test_the_audit_shows_the_admins_own_clinic_newest_first_paged_and_filtered(database, desk, client, clinic_a):
    admin(database)
    b = make_clinic(database, "B")
    with database.transaction() as session:
        for minute in range(150):
            session.add(AuditEntry(at=NOW - timedelta(hours=5, minutes=minute), actor="cli:ops", action="report", clinic_id=clinic_a,
                                   subject=f"PC-{minute:04d}"[:7], detail={"format": "png"}))
        session.add(AuditEntry(at=NOW, actor="cli:ops", action="report", clinic_id=b, subject="PC-BBBB", detail={}))
    sign_in(client, web_link(desk))
    first = client.get("/audit")
    assert first.status_code == 200 and "PC-BBBB" not in first.text
    assert "Page 1 of 2 (153 entries, newest first)" in first.text  # and the verification, the sign-in link, the sign-in
    assert first.text.index("web_signin") < first.text.index("PC-0000") < first.text.index("PC-0001")
    assert "Nov 28, 2026, 9:05\u202fAM CET" in first.text and "format: png" in first.text
    assert first.text.count("<tr>") == 101 and 'href="/audit?page=2"' in first.text
    second = client.get("/audit?page=2")
    assert "Page 2 of 2" in second.text and "PC-0149" in second.text and 'href="/audit?page=1"' in second.text
    only = client.get("/audit?action=web_signin")
    assert "Page 1 of 1 (1 entries" in only.text and "PC-0000" not in only.text
    assert '<option value="view_audit">' in only.text  # looking is itself recorded
    views = audited(database, "view_audit")
    assert [(v.rows, v.detail.get("page"), v.detail.get("filter")) for v in views] == [(100, 1, None), (54, 2, None), (1, 1, "web_signin")]
    assert all(v.clinic_id == clinic_a and v.actor == "clinician:1" for v in views)
    for odd in ("²", "99999999999", "-1", "x"):  # a page that is no number, or none we have: the first, or an empty one
        assert client.get("/audit", params={"page": odd}).status_code == 200


@pytest.mark.parametrize("language, words", [("de", ("Einladungen", "Offene Einladungen")), ("es", ("Invitaciones", "Invitaciones abiertas"))])
def test_the_new_pages_speak_the_clinicians_language(database, desk, client, language, words):
    a = make_clinic(database, "A")
    with database.transaction() as session:
        _clinician, code = enrollment.invite_clinician(session, session.get(Clinic, a), NOW, name="Dr Ruiz", created_by="test",
                                                       admin=True)
    from dialogs.io import Command, Inbound, Who

    desk.handle(Inbound(Who("telegram", DOCTOR_B, language), Command("start", code)))
    sign_in(client, web_link(desk, DOCTOR_B))
    page = client.get("/invitations")
    assert all(word in page.text for word in words)
    assert client.get("/settings").status_code == 200 and client.get("/audit").status_code == 200
