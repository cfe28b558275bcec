"""What the dashboard's browser tests share: the dashboard served on loopback, headless Chromium
driven by Selenium, and axe-core's accessibility rules injected into a page.

CI (.ci/run) installs Chromium, its driver and axe-core (`npm ci` in tests/browser) and sets
PAINCOACH_REQUIRE_BROWSER=1, so there a missing one fails the tests; elsewhere they are skipped."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import pytest

DRIVER = shutil.which("chromedriver")
# From the registry by tests/browser/package-lock.json; injected by the tests only, never served by the dashboard.
AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = bool(os.environ.get("PAINCOACH_REQUIRE_BROWSER"))
if REQUIRED and DRIVER is None:
    raise RuntimeError("PAINCOACH_REQUIRE_BROWSER is set but chromedriver is not installed")
if REQUIRED and not AXE.exists():
    raise RuntimeError(f"PAINCOACH_REQUIRE_BROWSER is set but {AXE} is missing: run `npm ci` in tests/browser")

needs_browser = pytest.mark.skipif(DRIVER is None, reason="needs chromium and chromium-driver (CI installs them)")
needs_axe = pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: `npm ci` in tests/browser (CI runs it)")

# The sizes a clinic's screens come in: a common laptop, a tablet upright.
LAPTOP, TABLET = (1366, 768), (768, 1024)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(database, clock: Callable[[], datetime]) -> Iterator[str]:
    """The dashboard as `paincoach web` serves it, on a free loopback port; yields its URL."""
    import uvicorn

    from web.server import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(create_app(database, url, clock=clock), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(100):
        if running.started:
            break
        time.sleep(0.05)
    try:
        yield url
    finally:
        running.should_exit = True
        thread.join(timeout=5)


@contextmanager
def chromium(downloads: Path | None = None, language: str = "en") -> Iterator:
    """Headless Chromium (as root: no sandbox) asking for pages in `language`; with `downloads`,
    files it is sent land there unasked."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    prefs = {"intl.accept_languages": language}
    if downloads is not None:
        prefs |= {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def serious_accessibility_violations(driver) -> list[str]:
    """axe-core run on the page as shown: each serious or critical violation as a readable line."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))  # as a WebDriver script: no <script>, so the page's CSP allows it
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(done, error => done({error: String(error)}));"
    )
    assert "error" not in results, results
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
        for violation in results["violations"] if violation["impact"] in ("serious", "critical")
    ]


def horizontal_overflow(driver, size: tuple[int, int]) -> int:
    """How many pixels the page is wider than the window at `size` (0: no horizontal scrolling)."""
    driver.set_window_size(*size)
    # The window's outer size includes the browser's frame; make the viewport itself the size asked for.
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(size[0] * 2 - inner[0], size[1] * 2 - inner[1])
    # clientWidth leaves out a vertical scrollbar: a long page is not a wide one.
    return max(0, driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth"))
