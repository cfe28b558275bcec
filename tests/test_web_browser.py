"""The web dashboard in a real browser (headless Chromium through Selenium): signing in by the
link's button, reading the table, acknowledging an alert with a note, and no page breaking its own
Content-Security-Policy (nothing inline, nothing from elsewhere).

CI installs Chromium and its driver and sets PAINCOACH_REQUIRE_BROWSER=1, so there a missing
browser fails this test; elsewhere, without Chromium, it is skipped."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest
from sqlalchemy import select

from conftest import NOW
from storage.alerts import raise_alert
from storage.models import Alert, Patient
from test_clinic import make_clinic, phq4_history, verified, DOCTOR_A

DRIVER = shutil.which("chromedriver")
if DRIVER is None and os.environ.get("PAINCOACH_REQUIRE_BROWSER"):
    raise RuntimeError("PAINCOACH_REQUIRE_BROWSER is set but chromedriver is not installed")
pytestmark = pytest.mark.skipif(DRIVER is None, reason="needs chromium and chromium-driver (CI installs them)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(database):
    import uvicorn

    from web.server import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(create_app(database, url, clock=lambda: NOW), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(100):
        if running.started:
            break
        time.sleep(0.05)
    yield url
    running.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_a_clinician_signs_in_reads_the_table_and_acknowledges_an_alert_in_a_browser(database, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    from clinic.desk import Desk
    from dialogs.io import Command, Inbound, Who

    desk = Desk(database, clock=lambda: NOW, web_url=server)
    a = make_clinic(database, "A", timezone="Europe/Berlin")
    verified(database, desk, a, DOCTOR_A)
    phq4_history(database, a)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        alert_id = raise_alert(session, patient, "phq4_severe", NOW).id
    [reply] = desk.handle(Inbound(Who("telegram", DOCTOR_A, "en"), Command("web")))
    link = reply.text.split("\n")[-1]

    browser.get(link)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 10).until(shown.url_to_be(f"{server}/patients"))
    cells = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "tbody td")]
    assert "PC-7K3Q" in cells and any(cell.startswith("PHQ-4 10 severe (+6 since baseline)") for cell in cells)

    browser.find_element(By.LINK_TEXT, "Open alerts").click()
    WebDriverWait(browser, 10).until(shown.url_to_be(f"{server}/alerts"))
    assert "PHQ-4 in the severe range" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.NAME, "note").send_keys("Phoned; GP visit booked")
    browser.find_element(By.XPATH, "//button[text()='Acknowledge']").click()
    notice = WebDriverWait(browser, 10).until(shown.presence_of_element_located((By.CLASS_NAME, "notice")))
    assert "Acknowledged by Dr Lee" in notice.text
    with database.transaction() as session:
        assert session.get(Alert, alert_id).acknowledged_note == "Phoned; GP visit booked"

    browser.get(link)  # the link was spent by the button
    assert "cannot be used" in browser.find_element(By.TAG_NAME, "main").text
    violations = [entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]
    assert violations == []
