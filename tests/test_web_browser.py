"""The web dashboard in a real browser (headless Chromium through Selenium): signing in by the
link's button, reading the table, acknowledging an alert with a note, no page breaking its own
Content-Security-Policy (nothing inline, nothing from elsewhere), and every page a clinician can
reach clean by axe-core (no serious or critical violation) and without horizontal scrolling on a
laptop or an upright tablet.

CI installs Chromium, its driver and axe-core and sets PAINCOACH_REQUIRE_BROWSER=1, so there a
missing one fails these tests; elsewhere they are skipped (tests/web_browser.py)."""
from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import select

from conftest import NOW
from storage.alerts import acknowledge, raise_alert
from storage.models import Alert, Clinician, Patient
from test_clinic import make_clinic, phq4_history, verified, DOCTOR_A
from web_browser import LAPTOP, TABLET, chromium, horizontal_overflow, needs_axe, needs_browser, serious_accessibility_violations, serving

pytestmark = needs_browser


@pytest.fixture
def server(database):
    with serving(database, lambda: NOW) as url:
        yield url


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


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


class Page(NamedTuple):
    """A page a clinician can reach: its path ({token}: an unspent sign-in link's, {alert}: an
    acknowledged alert's id), whether it is seen signed in, and what to write into its form before
    sending it (the page is then the answer)."""
    name: str
    path: str
    signed_in: bool = True
    form: dict | None = None


# Every page, signed out first (a new page is one more line).
PAGES = [
    Page("sign-in", "/signin/{token}", signed_in=False),
    Page("a forged sign-in link", "/signin/forged-token", signed_in=False),
    Page("not signed in", "/patients", signed_in=False),
    Page("signed out", "/signed-out", signed_in=False),
    Page("patients", "/patients"),
    Page("one patient", "/patients/PC-7K3Q"),
    Page("one patient, all their days", "/patients/PC-7K3Q?range=all"),
    Page("one patient, a range not understood", "/patients/PC-7K3Q?from=2026-13-45"),
    Page("discharge, to confirm", "/patients/PC-7K3Q/discharge"),
    Page("home exercises, a slip refused", "/patients/PC-7K3Q/exercises", form={"name": "Sit to stand", "reps": "10000", "days": "3"}),
    Page("home exercises, one prescribed", "/patients/PC-7K3Q/exercises", form={"name": "Sit to stand", "reps": "10", "days": "3"}),
    Page("home exercises", "/patients/PC-7K3Q/exercises"),
    Page("another clinic's patient", "/patients/PC-BBBB"),
    Page("open alerts", "/alerts"),
    Page("an alert acknowledged", "/alerts?acknowledged={alert}"),
    Page("exports", "/exports"),
    Page("an export refused", "/exports", form={"study_code": "PC-ZZZZ"}),
    Page("invitations", "/invitations"),
    Page("an invitation made", "/invitations", form={"reference": "MRN 0042"}),
    Page("my time zone", "/me"),
    Page("clinic settings (an admin's)", "/settings"),
    Page("the audit (an admin's)", "/audit"),
    Page("no such page", "/no-such-page"),
]


def seeded(database, server, language: str = "en") -> tuple[str, int]:
    """A clinic with a patient who has PHQ-4s, an open alert and an acknowledged one, another
    clinic's patient, and a clinician reading `language`; (their sign-in link's token, the acknowledged alert)."""
    from clinic.desk import Desk
    from dialogs.io import Command, Inbound, Who

    desk = Desk(database, clock=lambda: NOW, web_url=server)
    a, b = make_clinic(database, "A", timezone="Europe/Berlin"), make_clinic(database, "B")
    verified(database, desk, a, DOCTOR_A)
    phq4_history(database, a)
    routines(database)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        raise_alert(session, patient, "phq4_severe", NOW)
        done = raise_alert(session, patient, "crisis", NOW, words="a long message " * 20)
        acknowledge(session, done.id, NOW, "clinician:1", clinician_id=1, note="Phoned")
        session.add(Patient(clinic_id=b, channel="telegram", external_id="2002", study_code="PC-BBBB", consent="given"))
        doctor = session.scalars(select(Clinician)).one()
        doctor.language, doctor.is_admin = language, True  # an admin: every page is theirs to see
    [reply] = desk.handle(Inbound(Who("telegram", DOCTOR_A, language), Command("web")))
    return reply.text.split("\n")[-1].rsplit("/", 1)[-1], done.id


def routines(database) -> None:
    """The only patient's sleep diary, practices, lessons and a home exercise, so that the patient's
    page is checked with its tables and the sleep chart filled, not only their "none in this range"."""
    from factories import daily_answers
    from storage.models import Exercise, ExerciseLog, LessonProgress, PracticeRun

    daily_answers(database, [(NOW - timedelta(days=n, hours=4), {"bedtime": 23 * 60.0 + 15 * n, "wake_time": 7 * 60.0, "sleep_quality": 6.0})
                             for n in range(1, 4)], instrument="sleep_diary")
    with database.transaction() as session:
        pid = session.scalars(select(Patient.id)).one()
        session.add_all([
            PracticeRun(patient_id=pid, family="relaxation", kind="pmr", planned_seconds=180, actual_seconds=180, completed=True,
                        started_at=NOW - timedelta(days=2), created_at=NOW - timedelta(days=2), tension_before=6, tension_after=4),
            PracticeRun(patient_id=pid, family="mindfulness", kind="leaves", planned_seconds=120, actual_seconds=60, completed=False,
                        started_at=NOW - timedelta(days=1), created_at=NOW - timedelta(days=1), tension_before=5, in_charge_before=7),
            LessonProgress(patient_id=pid, lesson="protector", source="asked", sent_at=NOW - timedelta(days=3),
                           opened_at=NOW - timedelta(days=3), answered_at=NOW - timedelta(days=3), answer="a", correct=True),
        ])
        bridge = Exercise(patient_id=pid, name="Bridge", sets=2, reps=8, days_per_week=3, progression="none", prescribed_by="test",
                          prescribed_at=NOW - timedelta(days=20))
        session.add(bridge)
        session.flush()
        session.add_all(ExerciseLog(exercise_id=bridge.id, local_date=(NOW - timedelta(days=n)).date(), outcome=outcome, pain_before=3,
                                    pain_after=4, logged_at=NOW - timedelta(days=n)) for n, outcome in ((1, "done"), (3, "part"), (8, "skipped")))


def show(browser, server: str, page: Page, token: str, alert: int) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + page.path.format(token=token, alert=alert))
    if page.form:
        for name, value in page.form.items():
            browser.find_element(By.NAME, name).send_keys(value)
        browser.execute_script("document.documentElement.dataset.sent = 'yes'")  # the form's page, not the answer's
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(lambda _browser: browser.execute_script(
            "return document.readyState === 'complete' && !document.documentElement.dataset.sent"))


@needs_axe
@pytest.mark.parametrize("language", ["en", "de"])  # German: the longest words
def test_every_page_is_accessible_and_fits_a_laptop_and_a_tablet_without_scrolling_sideways(database, server, language):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    token, alert = seeded(database, server, language)
    problems = []
    with chromium(language=language) as browser:
        for page in PAGES:
            check(browser, server, page, token, alert, language, problems)
    assert not problems, "\n".join(problems)


def check(browser, server: str, page: Page, token: str, alert: int, language: str, problems: list[str]) -> None:
    """`page` at both sizes: what axe-core finds serious or critical, any width beyond the window's,
    anything its Content-Security-Policy refused."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    if page.signed_in and not browser.get_cookies():
        browser.get(f"{server}/signin/{token}")
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 10).until(shown.url_to_be(f"{server}/patients"))
    for size in (LAPTOP, TABLET):
        browser.set_window_size(*size)
        show(browser, server, page, token, alert)
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language, page.name
        if overflow := horizontal_overflow(browser, size):
            problems.append(f"{page.name} at {size[0]}×{size[1]}: {overflow}px wider than the window")
        clipped = browser.execute_script(  # a chart's label drawn past its own left edge is cut off
            "return [...document.querySelectorAll('svg text')].filter(t => t.getBBox().x < 0).map(t => t.textContent)")
        problems += [f"{page.name}: chart label cut off at the left: {label}" for label in clipped]
        problems += [f"{page.name} at {size[0]}×{size[1]}: {found}" for found in serious_accessibility_violations(browser)]
    problems += [f"{page.name}: {entry['message']}" for entry in browser.get_log("browser")
                 if "Content Security Policy" in entry["message"]]  # nothing the page loads or runs is refused


def test_a_browser_is_refused_what_it_may_not_have_and_a_patients_script_stays_text(database, database_url, browser, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    from bot.cli import main
    from clinic.desk import Desk
    from dialogs.io import Command, Inbound, Who

    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)
    clock = [NOW]
    script = "<script>document.title='owned'</script>"
    with serving(database, lambda: clock[0]) as server:
        desk = Desk(database, clock=lambda: clock[0], web_url=server)
        a, b = make_clinic(database, "A", timezone="Europe/Berlin", alert_include_words=True), make_clinic(database, "B")
        verified(database, desk, a, DOCTOR_A)
        with database.transaction() as session:
            patient = Patient(clinic_id=a, channel="telegram", external_id="1001", study_code="PC-XSS1", consent="given",
                              clinic_reference=script)
            session.add_all([patient, Patient(clinic_id=b, channel="telegram", external_id="2002", study_code="PC-BBBB", consent="given")])
            session.flush()
            alert_id = raise_alert(session, patient, "crisis", NOW, words=script).id

        def link() -> str:
            [reply] = desk.handle(Inbound(Who("telegram", DOCTOR_A, "en"), Command("web")))
            return reply.text.split("\n")[-1]

        def main_text(path: str) -> str:
            browser.get(server + path if path.startswith("/") else path)
            return browser.find_element(By.TAG_NAME, "main").text

        assert "cannot be used" in main_text("/signin/forged-token")
        expired = link()
        clock[0] = NOW + timedelta(minutes=11)
        assert "cannot be used" in main_text(expired)
        fresh = link()
        browser.get(fresh)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 10).until(shown.url_to_be(f"{server}/patients"))
        assert "cannot be used" in main_text(fresh)  # spent

        assert script in main_text("/patients") and browser.title == "Patients · paincoach"  # shown, never run
        assert "No patient PC-BBBB in your clinic." in main_text("/patients/PC-BBBB")
        assert f"Their message: {script}" in main_text("/alerts") and browser.title == "Open alerts · paincoach"

        browser.execute_script("document.querySelectorAll('main input[name=csrf]').forEach(input => input.remove())")
        browser.find_element(By.XPATH, "//button[text()='Acknowledge']").click()
        WebDriverWait(browser, 10).until(shown.text_to_be_present_in_element((By.TAG_NAME, "main"), "This form has expired"))
        with database.transaction() as session:
            assert session.get(Alert, alert_id).acknowledged_at is None

        assert main(["clinician", "revoke", "1"]) == 0
        assert "You are not signed in" in main_text("/patients")
        assert "PC-XSS1" not in main_text("/alerts")
