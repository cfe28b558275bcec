"""Webhook mode as a real process, SIGKILLed amid a burst from 20 patients and started again:
every update the emulator saw answered 2xx is handled, none lost; the ones that got no 2xx are
sent again by the emulator, as Telegram does, until one is."""
from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest
from sqlalchemy import func, select

from storage.models import Inbox, ProcessedUpdate, SafetyEvent
from test_restart import ROOT, BotProcess, settled
from test_webhook import SECRET, free_port

CRISIS = "I can't take this pain anymore, I want to kill myself tonight"


class WebhookBot(BotProcess):
    """`paincoach run --webhook-url …` on a port of its own, pushed to by the emulator."""

    def __init__(self, emulator, database_url, log, extra=None):
        super().__init__(emulator, database_url, log, {"PAINCOACH_WEBHOOK_SECRET": SECRET, **(extra or {})})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"

    def start(self) -> "WebhookBot":
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "--webhook-url", self.url, "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=out)
        return self


def processed(database) -> set[int]:
    with database.transaction() as session:
        return set(session.scalars(select(ProcessedUpdate.update_id)))


def counts(database) -> tuple[int, int]:
    """(updates waiting in the inbox, crisis safety events)."""
    with database.transaction() as session:
        return (session.scalar(select(func.count()).select_from(Inbox)),
                session.scalar(select(func.count()).select_from(SafetyEvent).where(SafetyEvent.category == "crisis")))


@pytest.mark.parametrize("kill_after_acknowledged", [1, 25])
def test_sigkill_amid_a_webhook_burst_loses_no_acknowledged_update(emulator, database, database_url, tmp_path, kill_after_acknowledged):
    from datetime import timezone

    from time_machine import escape_hatch

    from factories import due_prompts

    chats = [7500 + i for i in range(20)]
    due_prompts(database, chats, escape_hatch.datetime.datetime.now(timezone.utc), per_patient=0)
    bot = WebhookBot(emulator, database_url, tmp_path / "bot.log", {"PAINCOACH_DISPATCH_SECONDS": "0"}).start()
    try:
        emulator.wait_for(lambda: emulator.calls_to("setWebhook"), timeout=30)
        sent = [emulator.send_text(chat, text) for text in ("hello", CRISIS, "thank you") for chat in chats]
        emulator.wait_for(lambda: len(emulator.acknowledged_updates()) >= kill_after_acknowledged, timeout=30)
        bot.kill()  # mid-burst: some stored and answered 200, fewer handled, the rest still with Telegram
        acknowledged_at_kill = emulator.acknowledged_updates()
        handled_at_kill = processed(database)
        with_telegram_at_kill = emulator.pending_updates()
        webhooks_before = len(emulator.calls_to("setWebhook"))
        if with_telegram_at_kill:  # Telegram tries them and finds no one
            emulator.wait_for(lambda: any(d["status"] is None for d in emulator.webhook_deliveries), timeout=30)
        bot.start()
        emulator.wait_for(lambda: len(emulator.calls_to("setWebhook")) > webhooks_before, timeout=30)
        emulator.wait_for(lambda: not emulator.pending_updates(), timeout=60)  # every update answered 2xx at last
        # (On PostgreSQL, where several processes may serve the webhook, what a dead one held in the
        # inbox waits out its 6 s chat lease, what it kept in the outbox its 30 s one.)
        emulator.wait_for(lambda: set(sent) <= processed(database), timeout=90)
        emulator.wait_for(lambda: settled(database), timeout=90)
    finally:
        bot.kill()

    assert handled_at_kill < set(sent)  # the kill came before every update was handled
    assert acknowledged_at_kill - handled_at_kill, "no update was between its 200 and its handling at the kill"
    assert emulator.acknowledged_updates() == set(sent) <= processed(database)  # none lost
    failed = {d["update_id"] for d in emulator.webhook_deliveries if not (d["status"] and 200 <= d["status"] < 300)}
    assert failed <= emulator.acknowledged_updates()  # those were sent again until taken
    assert bool(failed) == bool(with_telegram_at_kill)
    if kill_after_acknowledged == 1:
        assert with_telegram_at_kill  # the early kill left updates with Telegram
    waiting, crises = counts(database)
    assert waiting == 0 and crises == len(chats)  # each crisis message applied once
    for chat in chats:
        assert any("When you feel ready, tap Continue" in m["text"] for m in emulator.messages(chat))
    assert emulator.token not in (tmp_path / "bot.log").read_text()
    assert "Traceback" not in (tmp_path / "bot.log").read_text()


def test_health_on_the_webhook_server(emulator, database, database_url, tmp_path):
    import json

    bot = WebhookBot(emulator, database_url, tmp_path / "bot.log", {"PAINCOACH_DISPATCH_SECONDS": "0"}).start()
    try:
        emulator.wait_for(lambda: emulator.calls_to("setWebhook"), timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{bot.port}/health", timeout=5) as response:
            body = json.load(response)
    finally:
        bot.kill()
    assert body == {"status": "ok", "inbox_backlog": 0, "inbox_oldest_s": 0.0, "outbox_oldest_s": 0.0, "outbox_oldest_urgent_s": 0.0,
                    "dispatcher_lag_s": 0.0, "unknown_prompts": 0}
