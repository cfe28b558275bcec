"""Two real `paincoach run --webhook-url …` processes behind a round-robin load balancer, one
database: one is SIGKILLed while it works patients' chats. The other takes those chats over once
the dead one's lease ran out, and every patient's updates are applied in update-id order, each
once: their check-ins are recorded as they answered them, none lost."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select

from conftest import POSTGRES, Chat
from dialogs.engine import Engine
from onboard import onboard
from storage.models import ChatLease, ProcessedUpdate
from test_inbox_processes import CHECKIN, LoadBalancer, answers, applied_order, checkin, expected_answers
from test_restart import ROOT, settled
from test_webhook_kill import WebhookBot

pytestmark = pytest.mark.skipif(not POSTGRES, reason="several processes share one database on PostgreSQL only")


class BalancedBot(WebhookBot):
    """Registers the load balancer's address with Telegram and listens on a port of its own."""

    def __init__(self, emulator, database_url, log, public_url: str):
        super().__init__(emulator, database_url, log, {"PAINCOACH_DISPATCH_SECONDS": "0"})
        self.public_url = public_url

    def start(self) -> "BalancedBot":
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "--webhook-url", self.public_url, "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=out)
        return self


def holders(database) -> dict[int, str]:
    with database.transaction() as session:
        return dict(session.execute(select(ChatLease.chat_id, ChatLease.holder)).all())


def applied(database) -> set[int]:
    with database.transaction() as session:
        return set(session.scalars(select(ProcessedUpdate.update_id)))


def test_a_killed_process_chats_are_taken_over_in_order(emulator, database, database_url, tmp_path):
    chats = list(range(9701, 9709))
    engine = Engine(database)
    for chat in chats:
        onboard(Chat(engine, str(chat)))
    balancer = LoadBalancer([])
    doomed = BalancedBot(emulator, database_url, tmp_path / "doomed.log", balancer.url)
    survivor = BalancedBot(emulator, database_url, tmp_path / "survivor.log", balancer.url)
    balancer.urls[:] = [doomed.url, survivor.url]
    try:
        doomed.start()
        survivor.start()
        emulator.wait_for(lambda: len(emulator.calls_to("setWebhook")) >= 2, timeout=30)
        sent = {chat: [] for chat in chats}
        for index in range(len(CHECKIN)):
            for chat in chats:
                sent[chat].append(emulator.send_text(chat, checkin(chat)[index]))
        dead = f"{doomed.process.pid}-"
        emulator.wait_for(lambda: any(h.startswith(dead) for h in holders(database).values()), timeout=30)
        doomed.kill()  # while it works at least one chat
        held_at_kill = {chat for chat, holder in holders(database).items() if holder.startswith(dead)}
        emulator.wait_for(lambda: not emulator.pending_updates(), timeout=60)
        emulator.wait_for(lambda: {u for ids in sent.values() for u in ids} <= applied(database), timeout=60)
        emulator.wait_for(lambda: settled(database), timeout=90)  # (the dead one's unsent replies: the outbox's sweep)
        alive = f"{survivor.process.pid}-"  # gives every chat up once it is done with it
        emulator.wait_for(lambda: not any(h.startswith(alive) for h in holders(database).values()), timeout=30)
    finally:
        for bot in (doomed, survivor):
            if bot.process is not None and bot.process.poll() is None:
                bot.kill()
        balancer.close()

    assert held_at_kill
    # What is left is the dead one's: a chat it had finished with and not yet given up (its lease
    # ran out: the next start clears it, or whoever stores that chat's next update takes it).
    assert all(holder.startswith(dead) for holder in holders(database).values())
    for chat in chats:
        assert applied_order(database, chat) == sent[chat]
        assert answers(database, chat)[:4] == expected_answers(chat)
    for log in ("doomed.log", "survivor.log"):
        assert "Traceback" not in (tmp_path / log).read_text()
