"""An alert acknowledged in a real browser is edited into every clinician's Telegram copy: the bot
(the real python-telegram-bot Application against the Bot API emulator, as `paincoach run` serves
it) delivers the alert and edits its copies; the dashboard, served beside it in this process, only
records the acknowledgement. Skipped without Chromium unless PAINCOACH_REQUIRE_BROWSER is set."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.sender import Sender
from bot.telegram import build_application
from dialogs.engine import Engine
from phone import Phone
from storage import enrollment
from storage.alerts import raise_alert
from storage.models import Alert, Patient, utcnow
from test_telegram import running
from test_telegram_clinic import COLLEAGUE, DOCTOR, invitations
from web_browser import chromium, needs_browser, serving

pytestmark = needs_browser


@pytest.fixture
async def dashboard_and_bot(emulator, database, database_url):
    """The dashboard's URL, with the bot running and handing out sign-in links to it. Both keep
    real time, as in production: the bot's dispatcher sends what is due by the clock."""
    with serving(database, utcnow) as url:
        settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0.2,
                            web_url=url)
        app = build_application(settings, Engine(database), sender=Sender(per_chat_interval=0.1))
        async with running(app, database):
            yield url


def acknowledge_in_browser(link: str, server: str, note: str) -> str:
    """Signs in by the link, acknowledges the one open alert with `note`; the notice shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium() as browser:
        browser.get(link)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 10).until(shown.url_to_be(f"{server}/patients"))
        browser.get(f"{server}/alerts")
        browser.find_element(By.NAME, "note").send_keys(note)
        browser.find_element(By.XPATH, "//button[text()='Acknowledge']").click()
        return WebDriverWait(browser, 10).until(shown.presence_of_element_located((By.CLASS_NAME, "notice"))).text


async def test_an_alert_acknowledged_in_the_browser_is_edited_into_both_telegram_copies(dashboard_and_bot, emulator, database):
    server = dashboard_and_bot
    doctor_code, _patient_code = invitations(database)
    with database.transaction() as session:
        clinic = enrollment.clinic_named(session, "Riverside")
        _clinician, colleague_code = enrollment.invite_clinician(session, clinic, utcnow(), name="Dr Kim", created_by="test")
    doctor, colleague = Phone(emulator, DOCTOR), Phone(emulator, COLLEAGUE)
    doctor.send(f"/start {doctor_code}")
    colleague.send(f"/start {colleague_code}")
    await doctor.expect("You are verified")
    await colleague.expect("You are verified")
    with database.transaction() as session:
        patient = Patient(clinic_id=clinic.id, channel="telegram", external_id="6001", study_code="PC-4444", consent="given",
                          language="en", timezone="Europe/Berlin", onboarded_at=utcnow())
        session.add(patient)
        session.flush()
        raise_alert(session, patient, "phq4_severe", utcnow())

    def copies(chat: int) -> list[dict]:
        return [m for m in emulator.messages(chat) if "PHQ-4 in the severe range" in (m["text"] or "")]

    await emulator.until(lambda: len(copies(DOCTOR)) == len(copies(COLLEAGUE)) == 1, 15)
    assert all(emulator.buttons(copies(chat)[0]) for chat in (DOCTOR, COLLEAGUE))

    doctor.send("/web")
    link = (await doctor.expect(f"{server}/signin/")).split("\n")[-1]
    notice = await asyncio.to_thread(acknowledge_in_browser, link, server, "Phoned; GP visit booked")
    assert "Acknowledged by Dr Lee" in notice

    await emulator.until(lambda: all("Acknowledged by Dr Lee at" in copies(chat)[0]["text"] for chat in (DOCTOR, COLLEAGUE)), 15)
    for chat in (DOCTOR, COLLEAGUE):
        [copy] = copies(chat)  # edited in place, nobody notified again
        assert "Note: Phoned; GP visit booked" in copy["text"] and not emulator.buttons(copy)
    with database.transaction() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.acknowledged_note == "Phoned; GP visit booked" and alert.acknowledged_actor == "clinician:1"
