"""The deployment mode: a poller takes the updates from a webhook only in a polling deployment or
when told --take-over, saying so loudly; in a webhook deployment it refuses to start. And a
database that cannot be reached at start is one line per attempt, no traceback."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

from telegram import Bot

from bot.config import Settings
from bot.polling import serve
from bot.telegram import build_application
from dialogs.engine import Engine
from phone import Phone
from storage.deployment import recorded_mode, record_mode
from test_restart import ROOT, BotProcess
from test_webhook import free_port

USER = 8101
LOUD = "TAKING OVER FROM WEBHOOK MODE"


def recorded(database) -> str | None:
    with database.transaction() as session:
        return recorded_mode(session)


def record(database, mode: str) -> None:
    with database.transaction() as session:
        record_mode(session, mode, datetime.now(timezone.utc))


async def set_webhook(emulator, url: str = "https://coach.example.org/telegram") -> None:
    """As a webhook deployment leaves it at Telegram. (The emulator pushes only to loopback URLs.)"""
    async with Bot(emulator.token, base_url=emulator.base_url) as bot:
        await bot.set_webhook(url, secret_token="s3cret")


async def test_a_poller_in_a_polling_deployment_deletes_a_leftover_webhook_with_one_loud_line(emulator, database, database_url, caplog):
    caplog.set_level(logging.INFO)
    await set_webhook(emulator)
    phone = Phone(emulator, USER)
    phone.send("/start")  # kept by Telegram while the webhook was set
    app = build_application(Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0),
                            Engine(database))
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, database, stop, poll_timeout=1))
    try:
        await phone.expect("Which language", timeout=30)
    finally:
        stop.set()
        await serving
    [deleted] = emulator.calls_to("deleteWebhook")
    assert not deleted["params"].get("drop_pending_updates")  # what Telegram held is handled, not dropped
    loud = [r for r in caplog.records if LOUD in r.getMessage()]
    assert len(loud) == 1 and loud[0].levelno == logging.WARNING
    assert recorded(database) == "polling"


def test_a_poller_refuses_to_start_in_a_webhook_deployment(emulator, database, database_url, tmp_path):
    asyncio.run(set_webhook(emulator))
    record(database, "webhook")
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": emulator.token, "PAINCOACH_BOT_API_URL": emulator.base_url,
           "PAINCOACH_DATABASE_URL": database_url}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    refusal = [line for line in done.stderr.splitlines() if "refused to start" in line]
    assert len(refusal) == 1 and "--take-over" in refusal[0] and "Traceback" not in done.stderr
    assert emulator.webhook_url and not emulator.calls_to("deleteWebhook") and not emulator.calls_to("getUpdates")
    assert recorded(database) == "webhook"


def test_take_over_switches_a_webhook_deployment_to_polling(emulator, database, database_url, tmp_path):
    asyncio.run(set_webhook(emulator))
    record(database, "webhook")
    log = tmp_path / "bot.log"
    bot = BotProcess(emulator, database_url, log, {"PAINCOACH_DISPATCH_SECONDS": "0"})
    with log.open("ab") as out:
        bot.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--take-over"], cwd=ROOT, env=bot.env, stdout=out, stderr=out)
    try:
        phone = Phone(emulator, USER)
        phone.send("/start")
        phone.wait("Which language", timeout=30)
    finally:
        bot.process.send_signal(signal.SIGTERM)
        bot.process.wait(timeout=30)
    assert bot.process.returncode == 0
    assert not emulator.webhook_url and len(emulator.calls_to("deleteWebhook")) == 1
    text = log.read_text()
    assert text.count(LOUD) == 1 and "--take-over" in text and "Traceback" not in text
    assert recorded(database) == "polling"


def test_a_database_that_cannot_be_reached_at_start_is_one_line_per_attempt_until_stopped(emulator, tmp_path):
    closed = f"postgresql+psycopg://paincoach@127.0.0.1:{free_port()}/paincoach"
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": emulator.token, "PAINCOACH_BOT_API_URL": emulator.base_url,
           "PAINCOACH_DATABASE_URL": closed}
    err = tmp_path / "stderr"
    with err.open("wb") as out:
        bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while err.read_text().count("the database cannot be reached") < 2:  # the first attempt, then one after 1 s
            assert bot.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=15)
    lines = err.read_text().splitlines()
    assert bot.returncode == 0  # stopped as asked, cleanly
    assert "Traceback" not in err.read_text()
    assert all("the database cannot be reached" in line and "trying again in" in line for line in lines), lines
    assert "trying again in 1 s" in lines[0] and "trying again in 2 s" in lines[1]
    assert not emulator.calls  # Telegram is not asked before there is a database


def test_a_port_in_use_is_one_line_and_exit_code_2(emulator, database_url):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": emulator.token, "PAINCOACH_BOT_API_URL": emulator.base_url,
               "PAINCOACH_DATABASE_URL": database_url, "PAINCOACH_DISPATCH_SECONDS": "0"}
        done = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--health-port", str(taken.getsockname()[1])],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert sum("cannot listen on 127.0.0.1 port" in line for line in done.stderr.splitlines()) == 1
