"""docs/deploy.md, tried: three `paincoach run` processes on one PostgreSQL behind a round-robin
load balancer (webhook mode, no sticky routing). Patients onboard through all three; the leader is
SIGKILLed while every patient's next message is on its way; another process takes the lead, and
every message is answered, once, in each patient's order."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from balancer import Balancer
from conftest import POSTGRES
from phone import Phone
from storage.models import PainStory
from test_restart import settled, walk_to_story
from test_webhook_kill import WebhookBot, processed

pytestmark = pytest.mark.skipif(not POSTGRES, reason="several processes share a database on PostgreSQL only (the suite's PostgreSQL half runs this)")
PATIENTS = 6
LEADS = "this process leads"


def leaders(bots: list[WebhookBot]) -> list[WebhookBot]:
    """The processes whose log says they took the lead (since the log began)."""
    return [bot for bot in bots if LEADS in bot.log.read_text()]


def test_three_processes_share_the_work_and_survive_the_leader_killed(emulator, database, database_url, tmp_path):
    bots = [WebhookBot(emulator, database_url, tmp_path / f"bot{i}.log", {"PAINCOACH_DISPATCH_SECONDS": "1"}) for i in range(3)]
    balancer = Balancer([f"http://127.0.0.1:{bot.port}" for bot in bots]).start()
    phones = [Phone(emulator, 8100 + i) for i in range(PATIENTS)]
    try:
        for bot in bots:
            bot.url = f"{balancer.url}/telegram"  # every process registers the balancer's address
            bot.start()
        emulator.wait_for(lambda: len(emulator.calls_to("setWebhook")) >= 3 and len(leaders(bots)) == 1, timeout=60)
        for i, phone in enumerate(phones):
            walk_to_story(phone, bots[0], zone="Denver", name=f"P{i}")
        shared = dict(balancer.forwarded)

        leader = leaders(bots)[0]
        for phone in phones:
            phone.send("Both knees")
        leader.kill()  # amid the messages: some stored by it and not yet handled, some not yet posted
        killed_at = time.monotonic()
        emulator.wait_for(lambda: len(leaders(bots)) == 2, timeout=60)  # the lead passes on
        failover = time.monotonic() - killed_at
        for phone in phones:
            phone.wait("Since when", timeout=90)  # (what the dead process held waits out its lease)
        for phone in phones:
            phone.send("About five years")
        for phone in phones:
            phone.wait("What makes it worse?", timeout=60)
        emulator.wait_for(lambda: settled(database), timeout=90)
    finally:
        for bot in bots:
            if bot.process is not None and bot.process.poll() is None:
                bot.kill()
        balancer.stop()

    print(f"lead passed on {failover:.1f} s after the kill; posts per process before it: {sorted(shared.values())}")
    assert len(shared) == 3  # no sticky routing: every process took patients' updates
    assert emulator.acknowledged_updates() <= processed(database)  # nothing lost
    with database.transaction() as session:
        stories = session.scalars(select(PainStory)).all()
    assert sorted((s.where_it_hurts, s.since_when) for s in stories) == [("Both knees", "About five years")] * PATIENTS
    for phone in phones:  # each question asked once, in order
        texts = [m["text"] for m in emulator.messages(phone.user_id)]
        asked = [prefix for t in texts for prefix in ("Since when", "What makes it worse") if t.startswith(prefix)]
        assert asked == ["Since when", "What makes it worse"], texts
    for bot in bots:
        assert "Traceback" not in bot.log.read_text()
