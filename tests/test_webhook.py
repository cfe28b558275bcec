"""Webhook mode: `paincoach run --webhook-url ...` registers itself, records the deployment mode and
refuses updates without the secret."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from storage.deployment import recorded_mode


ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cret-token_for-tests"
USER = 8001


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def update(update_id: int, text: str) -> dict:
    user = {"id": USER, "is_bot": False, "first_name": "Kim", "language_code": "en"}
    message = {"message_id": update_id, "from": user, "chat": {"id": USER, "type": "private", "first_name": "Kim"},
               "date": int(time.time()), "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def test_webhook_mode_checks_the_secret_token(emulator, database, database_url, tmp_path):
    # The bot runs as a process of its own, on the machine's clock (faketime's, in CI's second
    # half); nothing here depends on the date, only on what the bot answers.
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": emulator.token, "PAINCOACH_BOT_API_URL": emulator.base_url,
           "PAINCOACH_DATABASE_URL": database_url, "PAINCOACH_WEBHOOK_SECRET": SECRET}
    log = (tmp_path / "bot.log").open("wb")
    bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--webhook-url", url, "--listen", "127.0.0.1", "--port", str(port)],
                           cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        emulator.wait_for(lambda: emulator.calls_to("setWebhook"), timeout=30)
        registered = emulator.calls_to("setWebhook")[-1]["params"]
        assert registered["url"] == url and registered["secret_token"] == SECRET
        assert registered["drop_pending_updates"] is False and "message" in registered["allowed_updates"]
        with database.transaction() as session:  # a poller started now would refuse (tests/test_deployment_mode.py)
            assert recorded_mode(session) == "webhook"

        deadline = time.monotonic() + 15
        while True:  # the server starts listening just after registering
            try:
                status = post(url, update(1, "/start"), "wrong secret")
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert status == 403
        assert post(url, update(2, "/start"), None) == 403
        time.sleep(0.3)
        assert emulator.messages(USER) == []  # refused updates did nothing

        assert post(url, update(3, "/start"), SECRET) == 200
        emulator.wait_for(lambda: emulator.messages(USER), timeout=10)
        assert emulator.messages(USER)[0]["text"].startswith("Which language")
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=15)
        log.close()
    assert emulator.token not in (tmp_path / "bot.log").read_text()
