"""Several processes on one database: migrations run once, one process leads and another takes
over when it dies, and SIGTERM drains (/health says so; a scheduled send in flight finishes)."""
from __future__ import annotations

import signal
import threading
from collections import Counter
from datetime import timezone

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from time_machine import escape_hatch

from bot import webhook
from conftest import POSTGRES
from factories import due_prompts
from storage import open_database
from storage.leader import Leadership
from storage.models import Prompt
from test_restart import BotProcess

postgres_only = pytest.mark.skipif(not POSTGRES, reason="several processes share a database on PostgreSQL only (the suite's PostgreSQL half runs this)")


@postgres_only
def test_processes_starting_together_migrate_once(database_url):
    """Four processes start at once on an empty schema: one migrates, the others wait for it."""
    errors, databases = [], []
    start = threading.Barrier(4)

    def boot() -> None:
        start.wait()
        try:
            databases.append(open_database(database_url))
        except Exception as error:  # without the migration lock: "relation already exists"
            errors.append(error)

    threads = [threading.Thread(target=boot) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)  # without the lock they can wait on each other's tables for ever
    assert not any(thread.is_alive() for thread in threads), "the migrations blocked each other"
    assert errors == []
    with databases[0].transaction() as session:
        assert session.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    for db in databases:
        db.dispose()


def test_sqlite_has_one_process_and_it_leads(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'one.db'}")
    assert Leadership(db).check() is True
    db.dispose()


@postgres_only
def test_one_leader_and_another_takes_over_when_it_dies(database):
    candidates = [Leadership(database) for _ in range(3)]
    assert [c.check() for c in candidates].count(True) == 1
    leader = next(c for c in candidates if c.leading)
    followers = [c for c in candidates if c is not leader]
    assert [c.check() for c in candidates].count(True) == 1  # checking again changes nothing

    # The leader's connection dies (its process killed; its server-side backend ends).
    pid = leader._connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid, 30000)"), {"pid": pid}).scalar()  # (waits for it to end)
    admin.dispose()
    successor = next(c for c in followers if c.check())  # the lock is free at once: the next check takes it
    assert leader.check() is False  # the old leader notices, and does not take it back
    assert [c.check() for c in candidates].count(True) == 1 and successor.leading

    successor.resign()  # a drained process hands it over at once
    assert [c.check() for c in candidates if c is not successor].count(True) == 1
    for candidate in candidates:
        candidate.resign()


async def test_health_says_draining_once_stopping(database):
    import asyncio

    stop = asyncio.Event()
    app = webhook.web_app(database, stop=stop)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as http:
        assert (await http.get("/health")).status_code == 200
        stop.set()
        answer = await http.get("/health")
    assert answer.status_code == 503 and answer.json() == {"status": "draining"}


def test_sigterm_lets_the_scheduled_sends_in_flight_finish(emulator, database, database_url, tmp_path):
    """SIGTERM amid a burst of check-in prompts: the process exits by itself, and no prompt is left
    claimed (to end "unknown", never resent): each one went out once and was recorded, or waits."""
    chats = [7300 + i for i in range(120)]
    due_prompts(database, chats, escape_hatch.datetime.datetime.now(timezone.utc))  # the bot's clock
    bot = BotProcess(emulator, database_url, tmp_path / "bot.log", {"PAINCOACH_DISPATCH_SECONDS": "0.2"}).start()
    try:
        emulator.wait_for(lambda: len(emulator.calls_to("sendMessage")) >= 20, timeout=60)
        bot.process.send_signal(signal.SIGTERM)
        code = bot.process.wait(timeout=60)
    finally:
        if bot.process.poll() is None:
            bot.kill()
    with database.transaction() as session:
        statuses = Counter(session.scalars(select(Prompt.status).where(Prompt.kind == "checkin")))
        waiting = session.scalar(select(func.count()).select_from(Prompt).where(Prompt.status == "scheduled"))
    invited = Counter(call["chat_id"] for call in emulator.calls_to("sendMessage"))
    assert code == 0
    assert statuses["claimed"] == 0 and statuses["unknown"] == 0, statuses
    assert waiting > 0, "the burst was over before the SIGTERM"
    assert statuses["sent"] == len(invited) and max(invited.values()) == 1
    assert "Traceback" not in (tmp_path / "bot.log").read_text()
