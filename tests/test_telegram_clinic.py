"""The clinic's side through the real python-telegram-bot Application and the Bot API emulator:
a clinician verified by their link, an alert that reaches them and is acknowledged, an export
sent as a zip, and a patient who cannot use clinician commands."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.sender import Sender
from bot.telegram import build_application
from storage import enrollment
from conftest import NOW
from dialogs.engine import Engine
from phone import Phone
from storage.models import Alert, Clinic
from test_telegram import running, walk_onboarding_after_language

PATIENT, DOCTOR, COLLEAGUE = 6001, 6002, 6003


@pytest.fixture
async def bot(emulator, database, database_url):
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0.2)
    app = build_application(settings, Engine(database), sender=Sender(per_chat_interval=0.1))
    async with running(app, database):
        yield app


def invitations(database) -> tuple[str, str]:
    with database.transaction() as session:
        clinic = Clinic(name="Riverside", settings={})
        session.add(clinic)
        session.flush()
        _clinician, doctor_code = enrollment.invite_clinician(session, clinic, NOW, name="Dr Lee", created_by="test")
        patient_code = enrollment.invite(session, "patient", clinic, NOW, created_by="test", reference="MRN 7")
    return doctor_code, patient_code


async def test_an_alert_reaches_the_verified_clinician_who_acknowledges_it(bot, emulator, database):
    doctor_code, patient_code = invitations(database)
    doctor, patient = Phone(emulator, DOCTOR), Phone(emulator, PATIENT)
    doctor.send(f"/start {doctor_code}")
    await doctor.expect("You are verified as a clinician of Riverside")

    patient.send(f"/start {patient_code}")
    await patient.expect("You are now connected to Riverside")
    patient.press("English")
    await patient.expect("not an emergency service")  # onboarding goes on as for anyone
    await walk_onboarding_after_language(patient)
    patient.send("I don't want to live anymore")
    await patient.expect("988")  # the crisis lines for their country (New York)
    text = await doctor.expect("Alert: crisis message", timeout=15)
    assert "MRN 7" in text and "live anymore" not in text
    doctor.press("Acknowledge")
    await doctor.expect("Acknowledged. Thank you.")
    await asyncio.sleep(0.3)
    with database.transaction() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.acknowledged_at is not None and alert.acknowledged_by is not None

    doctor.send("/patients")
    listing = await doctor.expect("MRN 7")
    assert "unacknowledged" not in listing
    doctor.send("/export long")
    await emulator.until(lambda: any(m["kind"] == "document" for m in emulator.messages(DOCTOR)), 15)
    [document] = [m for m in emulator.messages(DOCTOR) if m["kind"] == "document"]
    assert document["filename"].endswith(".zip") and document["file_size"] > 0
    assert "Pseudonymous" in document["caption"]

    patient.send("/export")
    await patient.expect("I don't know that command")


async def test_a_clinicians_updates_leave_the_inbox_once_answered(bot, emulator, database):
    """The desk answers outside the patients' unit of work: its updates still leave the inbox,
    so a restart does not answer them again (a second invitation link, a second export)."""
    from storage.models import Inbox

    doctor_code, _patient_code = invitations(database)
    doctor = Phone(emulator, DOCTOR)
    doctor.send(f"/start {doctor_code}")
    await doctor.expect("You are verified as a clinician of Riverside")
    doctor.send("/invite MRN 9")
    await doctor.expect("invitation")

    def inbox() -> int:
        with database.transaction() as session:
            return len(session.scalars(select(Inbox)).all())

    await emulator.until(lambda: inbox() == 0, 10)


async def test_an_acknowledgement_is_edited_into_every_clinicians_copy(bot, emulator, database, database_url, monkeypatch):
    """One alert per episode, one copy per clinician; a press by one clinician (or the command
    line) turns every copy into who acknowledged it, without its button."""
    from bot.cli import main
    from conftest import Chat
    from onboard import onboard

    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)
    doctor_code, patient_code = invitations(database)
    with database.transaction() as session:
        clinic = session.scalars(select(Clinic).where(Clinic.name == "Riverside")).one()
        _clinician, colleague_code = enrollment.invite_clinician(session, clinic, NOW, name="Dr Kim", created_by="test")
    doctor, colleague, patient = Phone(emulator, DOCTOR), Phone(emulator, COLLEAGUE), Phone(emulator, PATIENT)
    doctor.send(f"/start {doctor_code}")
    colleague.send(f"/start {colleague_code}")
    await doctor.expect("You are verified")
    await colleague.expect("You are verified")
    enrolled = Chat(Engine(database), str(PATIENT))  # onboarded straight through the engine: quicker
    enrolled.command("start", patient_code)
    onboard(enrolled)

    def copies(chat: int) -> list[dict]:
        return [m for m in emulator.messages(chat) if "crisis message" in (m["text"] or "")]

    patient.send("I don't want to live anymore")
    await emulator.until(lambda: len(copies(DOCTOR)) == len(copies(COLLEAGUE)) == 1, 15)
    patient.send("I want to kill myself")  # the same episode: the copies are edited, nobody notified again
    await emulator.until(lambda: all("2 messages" in copies(chat)[0]["text"] for chat in (DOCTOR, COLLEAGUE)), 15)
    assert len(copies(DOCTOR)) == len(copies(COLLEAGUE)) == 1 and emulator.buttons(copies(COLLEAGUE)[0])

    doctor.press("Acknowledge")
    await doctor.expect("Acknowledged. Thank you.")
    await emulator.until(lambda: all("Acknowledged by Dr Lee at" in copies(chat)[0]["text"] for chat in (DOCTOR, COLLEAGUE)), 15)
    assert not any(emulator.buttons(copies(chat)[0]) for chat in (DOCTOR, COLLEAGUE))
    with database.transaction() as session:
        first = session.scalars(select(Alert)).one()
    colleague._mark()
    emulator.press(COLLEAGUE, copies(COLLEAGUE)[0]["message_id"], f"ack:{first.id}", check=False)  # a stale button
    await colleague.expect("Already acknowledged by Dr Lee at")

    patient.send("I want to kill myself")  # after the acknowledgement: a new alert
    await emulator.until(lambda: len(copies(DOCTOR)) == len(copies(COLLEAGUE)) == 2, 15)
    with database.transaction() as session:
        second = session.scalars(select(Alert).where(Alert.acknowledged_at.is_(None))).one()
    assert await asyncio.to_thread(main, ["alerts", "ack", str(second.id), "--note", "Called her"]) == 0
    await emulator.until(lambda: all("(command line) at" in copies(chat)[1]["text"] for chat in (DOCTOR, COLLEAGUE)), 15)
    assert "Note: Called her" in copies(DOCTOR)[1]["text"] and not emulator.buttons(copies(DOCTOR)[1])


async def test_a_patient_who_opens_a_clinician_link_is_refused_and_stays_a_patient(bot, emulator, database):
    from storage.models import AuditEntry, Clinician, Inbox, Invite, Patient

    doctor_code, _patient_code = invitations(database)
    with database.transaction() as session:
        clinic = enrollment.clinic_named(session, "Riverside")
        session.add(Patient(clinic_id=clinic.id, channel="telegram", external_id=str(PATIENT), study_code="PC-4444", consent="given",
                            language="de", timezone="Europe/Berlin", onboarded_at=NOW))
    patient = Phone(emulator, PATIENT)
    patient.send(f"/start {doctor_code}")
    text = await patient.expect("als Patientenkonto angemeldet")
    assert "Ihr eigenes Coaching geht weiter" in text

    def settled() -> bool:
        with database.transaction() as session:
            return not session.scalars(select(Inbox)).all()

    await emulator.until(settled, 10)
    with database.transaction() as session:
        assert session.scalars(select(Clinician.telegram_id)).all() == [None]
        assert session.get(Invite, enrollment.hash_code(doctor_code)).used_at is None
        assert session.scalars(select(AuditEntry)).all() == []
        assert session.scalars(select(Patient.consent)).all() == ["given"]
    doctor = Phone(emulator, DOCTOR)
    doctor.send(f"/start {doctor_code}")
    await doctor.expect("You are verified as a clinician of Riverside")
