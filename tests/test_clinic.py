"""The clinic's side: invitations and study codes, verified clinicians who see only their own
clinic, alerts that are delivered, acknowledged and escalated, and the command line."""
from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.cli import main
from storage import enrollment
from clinic.alerts import ACK, AlertDispatcher
from clinic.desk import Desk
from conftest import NOW, Chat
from dialogs.io import Command, File, Inbound, Message, Press, Who
from onboard import onboard
from storage.models import Alert, AlertDelivery, AuditEntry, Clinic, Clinician, Invite, Patient

DOCTOR_A, DOCTOR_B = "9001", "9002"


def make_clinic(database, name: str, **settings) -> int:
    with database.transaction() as session:
        clinic = Clinic(name=name, settings=settings)
        session.add(clinic)
        session.flush()
        return clinic.id


def patient_invite(database, clinic_id: int, *, reference: str | None = None, hours: float | None = None, now=NOW) -> str:
    with database.transaction() as session:
        return enrollment.invite(session, "patient", session.get(Clinic, clinic_id), now, created_by="test", reference=reference, hours=hours)


def verified(database, desk: Desk, clinic_id: int, telegram_id: str, name: str = "Dr Lee") -> list:
    with database.transaction() as session:
        _clinician, code = enrollment.invite_clinician(session, session.get(Clinic, clinic_id), NOW, name=name, created_by="test")
    return desk.handle(Inbound(Who("telegram", telegram_id, "en"), Command("start", code)))


def patient_row(database, external_id: str = "1001") -> Patient:
    with database.transaction() as session:
        return session.scalars(select(Patient).where(Patient.external_id == external_id)).one()


def say(desk: Desk, telegram_id: str, event) -> list:
    return desk.handle(Inbound(Who("telegram", telegram_id, "en"), event))


def texts(outputs) -> str:
    return "\n".join(o.text for o in outputs if isinstance(o, Message))


@pytest.fixture(autouse=True)
def command_line_uses_the_test_database(database_url, monkeypatch):
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)


@pytest.fixture
def desk(database) -> Desk:
    return Desk(database, clock=lambda: NOW, bot_username="paincoach_bot")


# -- enrollment --------------------------------------------------------------------------------


def test_an_invitation_link_enrolls_the_patient_with_a_study_code_and_the_clinics_reference(chat, database):
    riverside = make_clinic(database, "Riverside")
    code = patient_invite(database, riverside, reference="MRN 4711")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code)  # a valid deep-link payload
    chat.command("start", code)
    assert "Welcome! You are now connected to Riverside." in chat.text
    assert "Which language" in chat.text  # and onboarding starts as usual
    patient = patient_row(database)
    assert patient.clinic_id == riverside and patient.clinic_reference == "MRN 4711"
    assert re.fullmatch(r"PC-[2-9A-HJKMNP-Z]{4}", patient.study_code)
    with database.transaction() as session:
        assert session.scalars(select(Invite)).one().used_at == NOW
        assert code not in str(session.execute(select(Invite.code_hash)).all())  # only its hash is kept


def test_a_used_or_expired_invitation_does_nothing(engine, database):
    riverside = make_clinic(database, "Riverside")
    code = patient_invite(database, riverside)
    first, second = Chat(engine, "1001"), Chat(engine, "1002")
    first.command("start", code)
    second.command("start", code)
    assert "expired or was already used" in second.text
    assert patient_row(database, "1002").clinic_id != riverside
    old = patient_invite(database, riverside, hours=1, now=NOW - timedelta(hours=2))
    third = Chat(engine, "1003")
    third.command("start", old)
    assert "expired or was already used" in third.text
    assert patient_row(database, "1003").clinic_id != riverside and patient_row(database, "1003").enrolled_at is None
    forged = Chat(engine, "1004")
    forged.command("start", "x" * 500)
    assert "expired or was already used" in forged.text


def test_an_enrolled_patient_is_not_moved_by_another_link(chat, database):
    a, b = make_clinic(database, "A"), make_clinic(database, "B")
    chat.command("start", patient_invite(database, a))
    code_b = patient_invite(database, b)
    chat.command("start", code_b)
    assert "already connected" in chat.text
    assert patient_row(database).clinic_id == a
    with database.transaction() as session:
        assert session.get(Invite, enrollment.hash_code(code_b)).used_at is None  # still usable by its patient


def test_a_clinic_that_takes_invited_patients_only_asks_for_the_link_and_keeps_nothing(engine, database):
    with database.transaction() as session:
        database.default_clinic(session).settings = {"join_without_invite": False}
    stranger = Chat(engine, "1001")
    stranger.say("hello")
    assert "ask your clinic for your link" in stranger.text
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0
    invited = Chat(engine, "1002")
    with database.transaction() as session:
        code = enrollment.invite(session, "patient", database.default_clinic(session), NOW, created_by="test")
    invited.command("start", code)
    assert "Which language" in invited.text


# -- clinicians --------------------------------------------------------------------------------


def test_a_clinician_is_verified_once_and_sees_only_their_own_clinics_patients(engine, database, desk):
    a, b = make_clinic(database, "A"), make_clinic(database, "B")
    assert "verified as a clinician of A" in texts(verified(database, desk, a, DOCTOR_A))
    verified(database, desk, b, DOCTOR_B, name="Dr Other")
    alice, bob = Chat(engine, "1001"), Chat(engine, "1002")
    alice.command("start", patient_invite(database, a, reference="Alice's chart"))
    onboard(alice)
    bob.command("start", patient_invite(database, b))
    onboard(bob)
    code_a, code_b = patient_row(database, "1001").study_code, patient_row(database, "1002").study_code

    listing = texts(say(desk, DOCTOR_A, Command("patients")))
    assert code_a in listing and "Alice's chart" in listing and code_b not in listing
    assert "No patient" in texts(say(desk, DOCTOR_A, Command("patient", code_b)))
    assert "No patient" in texts(say(desk, DOCTOR_A, Command("report", code_b)))
    assert code_a in texts(say(desk, DOCTOR_A, Command("patient", code_a.lower())))
    with database.transaction() as session:
        actions = [(e.actor, e.action, e.subject) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("clinician:1", "view_patients", None) in actions and ("clinician:1", "view_patient", code_a) in actions


def test_patients_and_strangers_get_no_clinician_commands(chat, database, desk):
    onboard(chat)
    assert say(desk, "1001", Command("export")) is None  # the desk leaves them to the dialogs
    chat.command("export")
    assert "I don't know that command" in chat.text
    assert say(desk, "1001", Command("patients")) is None


def test_a_revoked_clinician_loses_access_at_once(database, desk):
    a = make_clinic(database, "A")
    verified(database, desk, a, DOCTOR_A)
    assert say(desk, DOCTOR_A, Command("patients")) is not None
    assert main(["clinician", "revoke", "1"]) == 0
    assert say(desk, DOCTOR_A, Command("patients")) is None


def test_a_patient_who_opens_a_clinician_link_is_refused_kindly_and_nothing_changes(chat, database, desk):
    a = make_clinic(database, "A")
    chat.command("start", patient_invite(database, a, reference="MRN 3"))
    onboard(chat)
    with database.transaction() as session:
        clinician, code = enrollment.invite_clinician(session, session.get(Clinic, a), NOW, name="Dr Lee", created_by="test")
        audited = session.scalar(select(func.count()).select_from(AuditEntry))
    reply = texts(say(desk, "1001", Command("start", code)))
    assert "enrolled as a patient, so it cannot also be a clinician's account" in reply
    assert "your own coaching goes on as before" in reply and "verified" not in reply
    with database.transaction() as session:
        assert session.get(Invite, enrollment.hash_code(code)).used_at is None
        doctor = session.get(Clinician, clinician.id)
        assert doctor.telegram_id is None and doctor.verified_at is None
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audited
        patient = session.scalars(select(Patient)).one()
        assert (patient.clinic_id, patient.clinic_reference, patient.consent) == (a, "MRN 3", "given")
    assert say(desk, "1001", Command("patients")) is None  # still a patient: the desk leaves them be
    chat.command("help")
    assert "/mydata" in chat.text
    assert "verified as a clinician of A" in texts(say(desk, DOCTOR_A, Command("start", code)))  # the link still works


def test_a_clinician_invitation_works_once(database, desk):
    a = make_clinic(database, "A")
    with database.transaction() as session:
        _clinician, code = enrollment.invite_clinician(session, session.get(Clinic, a), NOW, name="Dr Lee", created_by="test")
    assert say(desk, DOCTOR_A, Command("start", code))
    assert say(desk, "9999", Command("start", code)) is None  # someone else with the same link: a patient
    with database.transaction() as session:
        assert session.scalars(select(Clinician.telegram_id)).all() == [DOCTOR_A]


def test_clinician_export_from_telegram_is_a_zip_of_their_clinic_only(engine, database, desk):
    import io
    import zipfile

    a, b = make_clinic(database, "A"), make_clinic(database, "B")
    verified(database, desk, a, DOCTOR_A)
    for external_id, clinic in (("1001", a), ("1002", b)):
        patient = Chat(engine, external_id)
        patient.command("start", patient_invite(database, clinic))
        onboard(patient)
        patient.open("Check in now")
        patient.press("Pain this week (PEG)")
        for value in ("6", "5", "4"):
            patient.press(value)
    [file] = say(desk, DOCTOR_A, Command("export", "long peg3"))
    assert isinstance(file, File) and file.filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(file.data))
    assert sorted(archive.namelist()) == ["data_dictionary.csv", "long.csv"]
    long_csv = archive.read("long.csv").decode()
    assert patient_row(database, "1001").study_code in long_csv
    assert patient_row(database, "1002").study_code not in long_csv


def test_an_export_of_an_unknown_or_another_clinics_patient_is_refused_and_audited(engine, database, desk, tmp_path, capsys):
    a, b = make_clinic(database, "A"), make_clinic(database, "B")
    make_clinic(database, "C")
    verified(database, desk, a, DOCTOR_A)
    theirs = Chat(engine, "1002")
    theirs.command("start", patient_invite(database, b))
    onboard(theirs)
    other_clinics = patient_row(database, "1002").study_code
    for code in ("PC-ZZZZ", other_clinics):
        outputs = say(desk, DOCTOR_A, Command("export", f"long {code.lower()}"))
        assert not any(isinstance(o, File) for o in outputs)
        assert texts(outputs) == f"No patient {code} in your clinic."
    # The command line: an error, exit code 2, and no folder made.
    out = tmp_path / "export"
    assert main(["export", "--out", str(out), "--clinic", "C", "--patient", other_clinics]) == 2
    assert main(["export", "--out", str(out), "--patient", "PC-ZZZZ", "--patient", other_clinics]) == 2
    assert capsys.readouterr().err.splitlines() == [f"no patient {other_clinics}: nothing exported", "no patient PC-ZZZZ: nothing exported"]
    assert not out.exists()
    assert main(["export", "--out", str(out), "--patient", other_clinics.lower(), "--format", "long"]) == 0  # no clinic named: any
    assert (out / "long.csv").read_text().startswith("study_code,")
    with database.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("export%")).order_by(AuditEntry.id)).all()
        assert [(e.action, e.subject, e.actor.split(":")[0]) for e in entries] == [
            ("export_refused", "PC-ZZZZ", "clinician"), ("export_refused", other_clinics, "clinician"),
            ("export_refused", other_clinics, "cli"), ("export_refused", "PC-ZZZZ", "cli"), ("export", other_clinics, "cli")]
        assert entries[1].clinic_id == a and entries[1].detail["reason"] == "unknown_study_code" and entries[1].rows is None


def test_a_discharged_patients_report_is_still_the_clinics_and_says_so(engine, database, desk, monkeypatch):
    from datetime import timedelta

    import dialogs.charts
    from factories import daily_answers

    a = make_clinic(database, "A")
    verified(database, desk, a, DOCTOR_A)
    patient = Chat(engine, "1001")
    patient.command("start", patient_invite(database, a))
    onboard(patient)
    daily_answers(database, [(NOW - timedelta(days=n), {"pain_now": 5.0}) for n in range(3)])
    code = patient_row(database).study_code
    titles = []
    real_drawn = dialogs.charts.drawn
    monkeypatch.setattr(dialogs.charts, "drawn", lambda files: titles.extend(f.recipe["labels"]["title"] for f in files) or real_drawn(files))
    say(desk, DOCTOR_A, Command("patient", code))
    assert titles == [f"{code}: last 4 weeks"]  # the clinician's chart, not "Your last 4 weeks"
    with database.transaction() as session:
        session.scalars(select(Patient)).one().discharged_at = NOW - timedelta(days=1)
    [report] = say(desk, DOCTOR_A, Command("report", code))
    assert isinstance(report, File) and report.data.startswith(b"\x89PNG")
    with database.transaction() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "report")).one().subject == code


# -- alerts ------------------------------------------------------------------------------------


class Outbox:
    """Stands in for Telegram: records what was sent; fails while `down`."""

    def __init__(self):
        self.sent: list[tuple[int, Message]] = []
        self.down = False

    async def send(self, chat_id: int, message: Message) -> int:
        if self.down:
            raise ConnectionError("Telegram unreachable")
        self.sent.append((chat_id, message))
        return len(self.sent)


def test_a_crisis_message_alerts_the_clinician_who_acknowledges_it(engine, database, desk):
    a = make_clinic(database, "A")
    verified(database, desk, a, DOCTOR_A)
    alice = Chat(engine, "1001")
    alice.command("start", patient_invite(database, a, reference="R-1"))
    onboard(alice)
    alice.say("I want to kill myself")
    clock = [NOW]
    outbox = Outbox()
    dispatcher = AlertDispatcher(database, outbox.send, clock=lambda: clock[0])

    outbox.down = True  # Telegram fails: retried, nothing lost
    assert asyncio.run(dispatcher.tick()) == 0
    outbox.down = False
    assert asyncio.run(dispatcher.tick()) == 0  # backing off
    clock[0] = NOW + timedelta(seconds=30)
    assert asyncio.run(dispatcher.tick()) == 1
    [(chat_id, message)] = outbox.sent
    code = patient_row(database).study_code
    assert chat_id == int(DOCTOR_A) and "Alert: crisis message" in message.text and code in message.text and "R-1" in message.text
    assert "kill" not in message.text  # the patient's words only if the clinic opts in
    assert asyncio.run(dispatcher.tick()) == 0  # confirmed: never sent twice

    button = message.buttons[0][0]
    reply = say(desk, DOCTOR_A, Press(button.id, 77, message.text))
    assert "Acknowledged" in texts(reply)
    with database.transaction() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.acknowledged_by == 1 and alert.category == "crisis"
    clock[0] = NOW + timedelta(hours=1)
    asyncio.run(dispatcher.tick())
    assert len(outbox.sent) == 1  # acknowledged: no escalation


def test_an_unacknowledged_alert_repeats_and_goes_to_the_fallback_contact(engine, database, desk):
    a = make_clinic(database, "A", alert_escalate_minutes=15, alert_include_words=True)
    with database.transaction() as session:
        session.get(Clinic, a).fallback_chat_id = 4242
    verified(database, desk, a, DOCTOR_A)
    alice = Chat(engine, "1001")
    alice.command("start", patient_invite(database, a))
    onboard(alice)
    alice.say("I have numbness in my saddle area since this morning")
    clock = [NOW]
    outbox = Outbox()
    dispatcher = AlertDispatcher(database, outbox.send, clock=lambda: clock[0])
    asyncio.run(dispatcher.tick())
    assert [chat for chat, _m in outbox.sent] == [int(DOCTOR_A)]
    assert "red-flag symptom" in outbox.sent[0][1].text and "numbness in my saddle area" in outbox.sent[0][1].text
    clock[0] = NOW + timedelta(minutes=14)
    asyncio.run(dispatcher.tick())
    assert len(outbox.sent) == 1
    clock[0] = NOW + timedelta(minutes=16)
    asyncio.run(dispatcher.tick())
    assert sorted(chat for chat, _m in outbox.sent[1:]) == [4242, int(DOCTOR_A)]
    assert all("Not acknowledged yet" in m.text for _c, m in outbox.sent[1:])
    # Someone outside the clinic cannot acknowledge it with a forged button.
    b = make_clinic(database, "B")
    verified(database, desk, b, DOCTOR_B)
    assert "expired" in texts(say(desk, DOCTOR_B, Press(f"{ACK}1", None, None)))
    with database.transaction() as session:
        assert session.scalars(select(Alert)).one().acknowledged_at is None


def test_a_severe_phq4_alerts_the_clinic(engine, database, desk):
    a = make_clinic(database, "A")
    verified(database, desk, a, DOCTOR_A)
    alice = Chat(engine, "1001")
    alice.command("start", patient_invite(database, a))
    onboard(alice)
    alice.open("Check in now")
    alice.press("Mood (PHQ-4)")
    for _ in range(4):
        alice.press("Nearly every day")
    assert "Your clinic team will see them, so they can talk with you about support." in alice.text  # told, not left alone
    with database.transaction() as session:
        [alert] = session.scalars(select(Alert)).all()
        assert alert.category == "phq4_severe"
        assert session.scalars(select(AlertDelivery.chat_id)).all() == [int(DOCTOR_A)]


def test_a_clinic_nobody_would_hear_is_named(database, desk, capsys):
    make_clinic(database, "Lonely")
    staffed = make_clinic(database, "Staffed")
    verified(database, desk, staffed, DOCTOR_A)
    assert main(["clinic", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("Lonely") and "reach nobody" in line for line in lines)
    assert any(line.startswith("Staffed") and "reach nobody" not in line for line in lines)


# -- command line ------------------------------------------------------------------------------


def test_clinic_settings_are_checked_when_set(database, capsys):
    assert main(["clinic", "create", "Riverside"]) == 0
    assert main(["clinic", "set", "Riverside", "alert_escalate_minutes", "10"]) == 0
    assert main(["clinic", "set", "Riverside", "alert_escalate_minutes", "soon"]) == 2
    assert main(["clinic", "set", "Riverside", "no_such_thing", "1"]) == 2
    assert main(["clinic", "set", "Riverside", "timezone", "Europe/Berlin"]) == 0
    with database.transaction() as session:
        clinic = enrollment.clinic_named(session, "Riverside")
        assert clinic.setting("alert_escalate_minutes") == 10 and clinic.setting("timezone") == "Europe/Berlin"
    assert "must be a whole number" in capsys.readouterr().err


def test_crisis_lines_a_patient_could_not_be_given_are_refused_not_stored(database, capsys):
    main(["clinic", "create", "Riverside"])
    good = '{ DE = { emergency = "112", lines = [{ name = "Our on-call nurse", phone = "030 1234" }] } }'
    for malformed in ('{ DE = { lines = [{ name = "no phone" }] } }', '{ GB = "nonsense" }', '"112"'):
        assert main(["clinic", "set", "Riverside", "crisis_resources", malformed]) == 2
        assert "crisis_resources must be a table by country code" in capsys.readouterr().err
    assert main(["clinic", "set", "Riverside", "crisis_resources", good]) == 0
    with database.transaction() as session:
        lines = enrollment.clinic_named(session, "Riverside").settings["crisis_resources"]["DE"]["lines"]
    assert lines == [{"name": "Our on-call nurse", "phone": "030 1234"}]


def test_invite_and_discharge_from_the_command_line(engine, database, capsys):
    main(["clinic", "create", "Riverside"])
    assert main(["invite", "--clinic", "Riverside", "--reference", "MRN 1"]) == 0
    link = capsys.readouterr().out.strip().splitlines()[-1]
    code = link.split()[-1]  # "/start CODE" without a bot username
    chat = Chat(engine, "1001")
    chat.command("start", code)
    onboard(chat)
    study_code = patient_row(database).study_code
    assert main(["discharge", study_code]) == 0
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        assert patient.discharged_at is not None
        from storage.models import Prompt

        assert session.scalar(select(func.count()).select_from(Prompt).where(Prompt.status == "scheduled")) == 0
    assert main(["audit"]) == 0
    assert f"discharge  {study_code}" in capsys.readouterr().out


def test_identified_and_oversized_exports_from_telegram(engine, database, desk, monkeypatch):
    a = make_clinic(database, "A")
    verified(database, desk, a, DOCTOR_A)
    assert "Only a clinic admin" in texts(say(desk, DOCTOR_A, Command("export", "long identify")))
    with database.transaction() as session:
        refused = session.scalars(select(AuditEntry).where(AuditEntry.action == "export_refused")).one()
        assert (refused.clinic_id, refused.detail["reason"]) == (a, "identify_not_admin")
    with database.transaction() as session:
        session.scalars(select(Clinician)).one().is_admin = True
    [file] = say(desk, DOCTOR_A, Command("export", "long identify"))
    assert isinstance(file, File)
    with database.transaction() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one().detail["filters"]["identify"] is True
    monkeypatch.setattr("clinic.desk.TELEGRAM_UPLOAD_LIMIT", 100)
    assert "larger than Telegram's 50 MB limit" in texts(say(desk, DOCTOR_A, Command("export")))


def test_every_start_names_the_clinics_nobody_would_hear(database, desk, caplog):
    from bot.cli import warn_unreachable_clinics

    make_clinic(database, "Lonely")
    verified(database, desk, make_clinic(database, "Staffed"), DOCTOR_A)
    with database.transaction() as session:  # someone who joined without an invitation
        session.add(Patient(clinic_id=database.default_clinic(session).id, channel="telegram", external_id="1001",
                            study_code="PC-2222", consent="given"))
    with caplog.at_level("INFO"):
        warn_unreachable_clinics(database)
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "'Default clinic'" in warnings and "its 1 patient(s) reach nobody" in warnings
    assert "paincoach clinic set 'Default clinic' fallback_chat_id" in warnings
    assert "'Lonely'" not in warnings and "'Staffed'" not in warnings  # no patients there to fail
    assert any("'Lonely'" in r.getMessage() for r in caplog.records if r.levelname == "INFO")


def test_an_alert_outlives_the_patients_deletion_and_still_reaches_the_clinic(engine, database, desk):
    a = make_clinic(database, "A")
    verified(database, desk, a, DOCTOR_A)
    alice = Chat(engine, "1001")
    alice.command("start", patient_invite(database, a, reference="R-9"))
    onboard(alice)
    code = patient_row(database).study_code
    alice.say("I want to kill myself")
    alice.press("Continue")
    alice.command("delete")
    alice.press("Yes, delete everything")
    outbox = Outbox()
    asyncio.run(AlertDispatcher(database, outbox.send, clock=lambda: NOW).tick())
    [(_chat, message)] = outbox.sent
    assert code in message.text and "deleted their data" in message.text and "R-9" not in message.text
    assert "Acknowledged" in texts(say(desk, DOCTOR_A, Press(message.buttons[0][0].id, None, None)))
    with database.transaction() as session:
        assert enrollment.new_study_code(session) != code


def test_one_telegram_account_is_a_clinician_of_one_clinic_and_alerts_still_go_out(engine, database, desk):
    a, b = make_clinic(database, "A"), make_clinic(database, "B")
    verified(database, desk, a, DOCTOR_A)
    assert "already verified as a clinician" in texts(verified(database, desk, b, DOCTOR_A))
    alice = Chat(engine, "1001")
    alice.command("start", patient_invite(database, a))
    onboard(alice)
    alice.say("I want to kill myself")
    assert "Samaritans" in alice.text
    with database.transaction() as session:
        assert session.scalars(select(AlertDelivery.chat_id)).all() == [int(DOCTOR_A)]


def test_the_fallback_contact_gets_the_study_code_only_and_nothing_to_press(engine, database):
    a = make_clinic(database, "A", alert_include_words=True)
    with database.transaction() as session:
        session.get(Clinic, a).fallback_chat_id = 4242
    alice = Chat(engine, "1001")
    alice.command("start", patient_invite(database, a, reference="MRN 5"))
    onboard(alice)
    alice.say("I want to kill myself")
    outbox = Outbox()
    asyncio.run(AlertDispatcher(database, outbox.send, clock=lambda: NOW).tick())
    [(chat_id, message)] = outbox.sent
    assert chat_id == 4242 and patient_row(database).study_code in message.text
    assert "MRN 5" not in message.text and "kill" not in message.text and not message.buttons


def test_an_uninvited_persons_crisis_message_still_gets_the_lines(engine, database):
    with database.transaction() as session:
        database.default_clinic(session).settings = {"join_without_invite": False}
    stranger = Chat(engine, "1001", "en-GB")
    stranger.say("I want to kill myself tonight")
    assert "Samaritans" in stranger.text
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0


@pytest.mark.parametrize("key, value", [("weekly_weekday", "9"), ("phq4_every_weeks", "0"), ("retention_days", "-5"),
                                        ("alert_escalate_minutes", "0"), ("alert_escalate_times", "0"), ("daily_time", '"25:00"'),
                                        ("snooze_minutes", "[]"), ("timezone", "Mars/Olympus"), ("timezone", "+01:00")])
def test_settings_that_would_break_the_scheduler_are_refused(database, key, value, capsys):
    assert main(["clinic", "create", "Riverside"]) == 0
    assert main(["clinic", "set", "Riverside", key, value]) == 2
    with database.transaction() as session:
        assert key not in enrollment.clinic_named(session, "Riverside").settings


def test_open_alerts_are_listed_for_the_clinic(engine, database, capsys):
    alice = Chat(engine, "1001")
    onboard(alice)
    alice.say("I want to kill myself")
    assert main(["alerts"]) == 0
    assert f"{patient_row(database).study_code}  crisis" in capsys.readouterr().out


def test_an_export_word_that_means_nothing_is_questioned_not_exported_empty(database, desk):
    verified(database, desk, make_clinic(database, "A"), DOCTOR_A)
    reply = texts(say(desk, DOCTOR_A, Command("export", "from 2026-01-01")))
    assert "I don't know \"from\" here" in reply and "peg3" in reply
    with database.transaction() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all() == []


def test_every_alert_category_has_its_words_for_a_clinician():
    from clinic.alerts import CATEGORIES
    from storage.alerts import ALERT_CATEGORIES

    assert set(CATEGORIES) == ALERT_CATEGORIES


# -- what a clinician reads: PHQ-4, times in the clinic's zone, their language ---------------------


def phq4_history(database, clinic_id: int, study_code: str = "PC-7K3Q") -> None:
    """A patient enrolled 30 days ago: one PHQ-4 before enrolment, a mild baseline, a severe latest."""
    from content.instruments import instrument, score
    from storage.models import Response

    items = [item.id for item in instrument("phq4").items]  # nervous, worry, interest, down
    with database.transaction() as session:
        patient = Patient(clinic_id=clinic_id, channel="telegram", external_id="1001", study_code=study_code, consent="given",
                          clinic_reference="MRN 8", enrolled_at=NOW - timedelta(days=30))
        session.add(patient)
        session.flush()
        for days, values in ((40, (3, 3, 3, 3)), (28, (2, 1, 1, 0)), (14, (1, 1, 1, 1)), (1, (3, 3, 2, 2))):
            at = NOW - timedelta(days=days)
            session.add(Response(patient_id=patient.id, instrument="phq4", source="scheduled", language="en", started_at=at,
                                 completed_at=at, score=score(instrument("phq4"), dict(zip(items, values)))))


def clinician_in(database, desk: Desk, clinic_id: int, language: str) -> str:
    with database.transaction() as session:
        _clinician, code = enrollment.invite_clinician(session, session.get(Clinic, clinic_id), NOW, name="Dr Lee", created_by="test")
    desk.handle(Inbound(Who("telegram", DOCTOR_A, language), Command("start", code)))
    return DOCTOR_A


@pytest.mark.parametrize("language, listing, detail", [
    ("en", ["last check-in Nov 27, 2026, 2:05\u202fPM CET", "PHQ-4 10 severe (+6 since baseline): GAD-2 6 positive, PHQ-2 4 positive"],
     ["Latest PHQ-4: Nov 27, 2026, 2:05\u202fPM CET", "PHQ-4 baseline: 4 mild (Oct 31, 2026, 2:05\u202fPM CET)"]),
    ("es", ["última respuesta: 27 nov 2026, 14:05 CET", "PHQ-4 10 grave (+6 desde el inicio): GAD-2 6 positivo, PHQ-2 4 positivo"],
     ["Último PHQ-4: 27 nov 2026, 14:05 CET", "PHQ-4 inicial: 4 leve (31 oct 2026, 14:05 CET)"]),
    ("de", ["letzte Antwort: 27.11.2026, 14:05 MEZ", "PHQ-4 10 schwer (+6 seit Beginn): GAD-2 6 positiv, PHQ-2 4 positiv"],
     ["Letzter PHQ-4: 27.11.2026, 14:05 MEZ", "PHQ-4 zu Beginn: 4 leicht (31.10.2026, 14:05 MEZ)"]),
])
def test_a_clinician_reads_phq4_with_its_change_since_baseline_in_the_clinics_zone_and_language(database, desk, language, listing, detail):
    a = make_clinic(database, "A", timezone="Europe/Berlin")
    phq4_history(database, a)
    doctor = clinician_in(database, desk, a, language)
    shown = texts(say(desk, doctor, Command("patients")))
    assert shown.startswith("PC-7K3Q (MRN 8) · ")
    for part in listing:
        assert part in shown
    one = texts(say(desk, doctor, Command("patient", "PC-7K3Q")))
    for part in listing + detail:
        assert part in one
    with database.transaction() as session:
        assert [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == "clinician:1"))][-2:] == [
            "view_patients", "view_patient"]


def test_counts_are_plural_and_numbers_are_the_readers_and_a_clinic_without_a_zone_says_utc(engine, database, desk):
    from storage.models import FlareEpisode, Prompt

    a = make_clinic(database, "A")
    phq4_history(database, a)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        session.add_all(FlareEpisode(patient_id=patient.id, started_at=NOW - timedelta(hours=h)) for h in (3, 30))
        session.add_all(Prompt(patient_id=patient.id, kind="checkin", instruments=["daily"], local_date=(NOW - timedelta(days=d)).date(),
                               scheduled_for=NOW - timedelta(days=d), expires_at=NOW - timedelta(days=d) + timedelta(hours=12),
                               status="answered" if d == 1 else "expired") for d in (1, 2, 3))
    doctor = clinician_in(database, desk, a, "de")
    shown = texts(say(desk, doctor, Command("patients")))
    assert "letzte Antwort: 27.11.2026, 13:05 UTC" in shown
    assert "1 von 3 Check-ins beantwortet (33\u00a0%)" in shown and "2 laufende Schmerzschübe" in shown


def test_patients_shows_an_admin_a_banner_while_a_clinic_with_patients_would_alert_nobody(database, desk, capsys):
    clinic = make_clinic(database, "A")
    verified(database, desk, clinic, DOCTOR_A)
    verified(database, desk, clinic, DOCTOR_B, name="Dr Kim")
    with database.transaction() as session:
        session.scalars(select(Clinician).where(Clinician.telegram_id == DOCTOR_A)).one().is_admin = True
    assert "reach nobody" not in texts(say(desk, DOCTOR_A, Command("patients")))  # no patients anywhere yet
    with database.transaction() as session:
        default = database.default_clinic(session).id
    phq4_history(database, default)
    assert "reach nobody" not in texts(say(desk, DOCTOR_B, Command("patients")))  # not an admin: not told of other clinics
    shown = texts(say(desk, DOCTOR_A, Command("patients")))
    assert shown.startswith("⚠️ Alerts for 1 patient of Default clinic reach nobody: it has no verified clinician and no "
                            "fallback chat.")
    assert 'paincoach clinic set "Default clinic" fallback_chat_id' in shown and "No patients yet" in shown
    assert main(["clinic", "set", "Default clinic", "fallback_chat_id", "4242"]) == 0
    assert "reach nobody" not in texts(say(desk, DOCTOR_A, Command("patients")))
    with database.transaction() as session:
        assert database.default_clinic(session).fallback_chat_id == 4242
