"""An export downloaded by a real browser (headless Chromium through Selenium) and then loaded:
the CSV by the csv module, its header as the data dictionary lists it, and the FHIR resources
as R4B models. Skipped without Chromium unless PAINCOACH_REQUIRE_BROWSER is set (tests/web_browser.py)."""
from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from pathlib import Path

import pytest

from conftest import NOW
from test_clinic import make_clinic, verified, DOCTOR_A
from test_web import answered
from web_browser import chromium, needs_browser, serving

pytestmark = needs_browser


@pytest.fixture
def server(database):
    with serving(database, lambda: NOW) as url:
        yield url


def signed_in_link(database, server: str) -> str:
    """Clinic A with PC-AAAA's answer, clinic B with PC-BBBB's; Dr Lee of A's sign-in link."""
    from clinic.desk import Desk
    from dialogs.io import Command, Inbound, Who

    desk = Desk(database, clock=lambda: NOW, web_url=server)
    a = make_clinic(database, "A", timezone="Europe/Berlin")
    verified(database, desk, a, DOCTOR_A)
    answered(database, a, "PC-AAAA", "1001")
    answered(database, make_clinic(database, "B"), "PC-BBBB", "2002")
    [reply] = desk.handle(Inbound(Who("telegram", DOCTOR_A, "en"), Command("web")))
    return reply.text.split("\n")[-1]


def downloaded(folder: Path, timeout: float = 15) -> Path:
    """The one file Chromium finished saving into `folder` (its partial and hidden files gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list(folder.iterdir())
        if files and not any(file.suffix == ".crdownload" or file.name.startswith(".") for file in files):
            [file] = files
            return file
        time.sleep(0.1)
    raise AssertionError(f"nothing downloaded into {folder}: {list(folder.iterdir())}")


def ask_for(browser, server: str, kind: str) -> None:
    """The export form, filled in for `kind` from November 1st, sent."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{server}/exports")
    Select(browser.find_element(By.ID, "format")).select_by_value(kind)
    since = browser.find_element(By.ID, "since")
    since.send_keys("11/01/2026")  # typed in the browser's locale's order; sent as ISO
    assert since.get_attribute("value") == "2026-11-01"
    browser.find_element(By.CSS_SELECTOR, "form.export button[type=submit]").click()


def download(browser, server: str, folder: Path, kind: str) -> zipfile.ZipFile:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    for file in folder.iterdir():
        file.unlink()
    ask_for(browser, server, kind)
    file = downloaded(folder)
    assert file.name == f"paincoach-export-{kind}-{NOW:%Y-%m-%d}.zip"
    status = browser.find_element(By.ID, "export-status")
    WebDriverWait(browser, 10).until(lambda _browser: status.text == "The export is ready: it is in your downloads.")
    assert browser.find_element(By.CSS_SELECTOR, "form.export button[type=submit]").is_enabled()
    return zipfile.ZipFile(file)


def signed_in(browser, link: str, server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(link)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 10).until(shown.url_to_be(f"{server}/patients"))


def test_an_export_chosen_in_the_browser_downloads_and_loads(database, server, tmp_path):
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    link = signed_in_link(database, server)
    folder = tmp_path / "downloads"
    folder.mkdir()
    with chromium(downloads=folder) as browser:
        signed_in(browser, link, server)

        archive = download(browser, server, folder, "long")
        assert sorted(archive.namelist()) == ["data_dictionary.csv", "long.csv"]
        rows = list(csv.DictReader(io.StringIO(archive.read("long.csv").decode("utf-8"))))
        dictionary = list(csv.DictReader(io.StringIO(archive.read("data_dictionary.csv").decode("utf-8"))))
        columns = [entry["name"] for entry in dictionary if entry["file"] == "long.csv" and entry["kind"] == "column"]
        header = list(rows[0])
        assert header == columns[:len(header)]  # in the dictionary's order; identifying columns only when asked for
        assert {row["study_code"] for row in rows} == {"PC-AAAA"}  # the clinic's own patient only
        [pain] = [row for row in rows if row["item_id"] == "pain"]
        assert pain["instrument"] == "peg3" and float(pain["value"]) == 6

        archive = download(browser, server, folder, "fhir")
        models = {"Questionnaire": Questionnaire, "QuestionnaireResponse": QuestionnaireResponse, "Observation": Observation}
        loaded = {}
        for name in archive.namelist():
            kind = Path(name).stem
            loaded[kind] = [models[kind].model_validate(json.loads(line)) for line in archive.read(name).decode().splitlines()]
        [response] = loaded["QuestionnaireResponse"]
        assert response.subject.identifier.value == "PC-AAAA"
        assert {questionnaire.id for questionnaire in loaded["Questionnaire"]} >= {"peg3", "phq4"}


def test_while_an_export_is_prepared_the_page_says_so_and_its_button_waits(database, server, tmp_path):
    """What the page shows between the press and the zip: WebDriver itself waits for an answer
    still coming, so here the form's sending is stopped after the page's own script has seen it."""
    from selenium.webdriver.common.by import By

    link = signed_in_link(database, server)
    with chromium() as browser:
        signed_in(browser, link, server)
        browser.get(f"{server}/exports")
        browser.execute_script("document.querySelector('form.export').addEventListener('submit', event => event.preventDefault())")
        button = browser.find_element(By.CSS_SELECTOR, "form.export button[type=submit]")
        button.click()
        assert browser.find_element(By.ID, "export-status").text.startswith("Preparing the export… A large one")
        assert not button.is_enabled()
        assert len(browser.find_element(By.NAME, "ticket").get_attribute("value")) == 16  # what the zip's cookie will name


def test_an_export_too_large_for_the_dashboard_is_refused_with_what_to_do(database, server, tmp_path, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    import web.pages

    monkeypatch.setattr(web.pages, "EXPORT_LIMIT", 0)  # PC-AAAA's one answer is then too many
    link = signed_in_link(database, server)
    folder = tmp_path / "downloads"
    folder.mkdir()
    with chromium(downloads=folder) as browser:
        signed_in(browser, link, server)
        ask_for(browser, server, "long")
        error = WebDriverWait(browser, 10).until(shown.presence_of_element_located((By.CLASS_NAME, "error"))).text
        assert error.startswith("This export would hold 1 answered items, more than the dashboard makes at once (0).")
        assert "run `paincoach export` on the server" in error
        assert browser.find_element(By.ID, "since").get_attribute("value") == "2026-11-01"  # the form as it was sent
        ask_for(browser, server, "activity")  # not answers: no limit
        assert downloaded(folder).name == f"paincoach-export-activity-{NOW:%Y-%m-%d}.zip"
