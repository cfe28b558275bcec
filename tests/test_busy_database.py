"""A busy database loses nothing: a write lock held past SQLite's busy timeout (5 s) makes the
unit of work wait and try again, and the patient's step lands once."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select, text

from bot.steps import answer
from clinic.desk import Desk
from conftest import NOW
from dialogs.io import Command, Inbound, Message, Who
from onboard import onboard
from storage.models import ProcessedUpdate
from storage.retry import retrying, transient


def hold_write_lock(database, until) -> threading.Thread:
    """Another process's write lock, held until `until()` is true (SQLite's whole file,
    PostgreSQL's table the step writes to): released by what happened, never by a clock."""
    locked = threading.Event()

    def wait() -> None:
        while not until():
            time.sleep(0.05)

    def hold() -> None:
        if database.is_sqlite:
            connection = sqlite3.connect(database.url.database, isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            locked.set()
            wait()
            connection.execute("COMMIT")
            connection.close()
        else:
            with database.engine.connect() as connection, connection.begin():
                connection.execute(text("LOCK TABLE processed_updates IN ACCESS EXCLUSIVE MODE"))
                locked.set()
                wait()

    thread = threading.Thread(target=hold, daemon=True)  # (a step that never meets the lock fails; it does not hang)
    thread.start()
    locked.wait()
    return thread


def test_a_step_waits_out_a_lock_held_past_the_busy_timeout(database, chat, caplog):
    onboard(chat)
    if database.is_sqlite:  # held past the 5 s busy timeout: until the step has met the lock and is about to try again
        holder = hold_write_lock(database, lambda: "database busy or away" in caplog.text)
    else:  # PostgreSQL waits for a lock without a timeout: held until the step is surely waiting on it
        waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted"
        holder = hold_write_lock(database, lambda: _scalar(database, waiting) > 0)
    answered = answer(Desk(database, clock=lambda: NOW), chat.engine, Inbound(Who("telegram", "1001", "en"), Command("menu"), 424242), 1001)
    holder.join()
    assert any("What would you like to do" in o.text for o in answered.outputs if isinstance(o, Message))
    if database.is_sqlite:  # it met "database is locked", and tried again (PostgreSQL simply waits)
        assert "database busy or away" in caplog.text
    with database.transaction() as session:
        assert session.scalar(select(func.count()).where(ProcessedUpdate.update_id == 424242)) == 1


def test_only_a_lock_or_a_lost_connection_is_tried_again(database):
    from sqlalchemy.exc import IntegrityError, OperationalError

    attempts = []

    def broken(session):
        attempts.append(1)
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    with pytest.raises(IntegrityError):
        retrying(database, broken, sleep=lambda _s: None)
    assert len(attempts) == 1  # a bug is not retried
    assert transient(OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")))


def _scalar(database, sql: str) -> int:
    with database.engine.connect() as connection:
        return connection.execute(text(sql)).scalar()
