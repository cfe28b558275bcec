"""The inbox: every update Telegram handed us is committed here before Telegram may forget it, and
taken out once handled, so a killed process handles it on its next start instead of losing it.

Both ways in use it: long polling (bot/polling.py) stores a fetched batch before moving its offset
past it; the webhook (bot/webhook.py) stores an update before answering Telegram 200. The engine
applies an update id once, so handling one again after a crash only shows the patient where they
are.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application

from storage.db import Database
from storage.models import Inbox
from storage.updates import applied

log = logging.getLogger(__name__)
# A process renews the lease on what it holds every third of it; past it, the holder is taken for gone.
LEASE = timedelta(seconds=30)


def keep(db: Database, updates: Iterable[Update], *, source: str = "telegram") -> set[int]:
    """Commit the updates to the inbox, leased to this process; returns the ids to handle now: the
    new ones, and any already waiting whose lease ran out (the process that stored it is gone).
    Not those applied before, nor those a live process is handling (a resend, a repeated batch)."""
    updates = list(updates)
    ids = [u.update_id for u in updates]
    now = _now()
    with db.transaction() as session:
        done = applied(session, source, ids, now)  # within the 48-hour window (storage/updates.py)
        rows = [{"update_id": u.update_id, "payload": u.to_dict(), "received_at": now, "lease_until": now + LEASE}
                for u in updates if u.update_id not in done]
        if not rows:
            return set()
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        stored = session.scalars(
            dialect.insert(Inbox).on_conflict_do_nothing(index_elements=["update_id"]).returning(Inbox.update_id),
            rows).all()
        waiting = {row["update_id"] for row in rows} - set(stored)
        taken = session.scalars(
            update(Inbox).where(Inbox.update_id.in_(waiting), _lapsed(now)).values(lease_until=now + LEASE).returning(Inbox.update_id)
        ).all() if waiting else []
    return set(stored) | set(taken)


def acknowledge(session: Session, update_id: int) -> None:
    """The update is handled: out of the inbox (in the transaction that handled it, if it can)."""
    session.execute(delete(Inbox).where(Inbox.update_id == update_id))


class Intake:
    """Hands stored updates to the Application, in the order given (one chat's updates keep their
    order: bot/telegram.py's update processor), and takes each out of the inbox when handled.
    Meanwhile it renews the leases on what it holds; with `sweep`, it also takes over, every few
    seconds, updates whose lease ran out (several webhook processes on PostgreSQL: one may die)."""

    def __init__(self, app: Application, db: Database):
        self.app = app
        self.db = db
        self._handling: set[asyncio.Task] = set()
        self._in_flight: set[int] = set()
        self._upkeep: asyncio.Task | None = None
        app.bot_data.setdefault("handled", set())  # updates whose unit of work took them out of the inbox

    async def start(self, *, everything: bool, sweep: bool = False) -> int:
        """Handle, first, what stopped processes left in the inbox: `everything` when no other
        process can be holding any (SQLite; long polling, one process per bot), else what no live
        process holds. Returns how many."""
        leftovers = await self._take(everything=everything)
        if leftovers:
            log.info("handling %d update(s) left from the last run", leftovers)
        self._upkeep = asyncio.create_task(self._keep_up(sweep))
        return leftovers

    def handle(self, update: Update) -> None:
        if update.update_id in self._in_flight:  # stored again (a resend, a repeated batch): once is enough
            return
        self._in_flight.add(update.update_id)
        task = asyncio.create_task(self._process(update))  # in arrival order: per-chat order holds
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def settled(self, timeout: float = 30) -> None:
        """Until what it was handed so far is handled (or failed), `timeout` seconds at most: what
        arrives meanwhile is not waited for (on a busy webhook that would be for ever)."""
        if pending := set(self._handling):
            await asyncio.wait(pending, timeout=timeout)

    async def stop(self, timeout: float = 10) -> None:
        """Let the updates being handled finish (what does not finish stays in the inbox, its lease
        running out)."""
        if self._handling:
            await asyncio.wait(self._handling, timeout=timeout)
        if self._upkeep is not None:
            self._upkeep.cancel()
            await asyncio.gather(self._upkeep, return_exceptions=True)

    async def _process(self, update: Update) -> None:
        try:
            processor = self.app.update_processor
            await processor.process_update(update, self.app.process_update(update))
            await asyncio.to_thread(self._done, update.update_id)
        finally:
            self._in_flight.discard(update.update_id)

    async def _take(self, *, everything: bool) -> int:
        payloads = await asyncio.to_thread(_claim, self.db, everything=everything)
        updates = [Update.de_json(payload, self.app.bot) for payload in payloads]
        for update in updates:
            self.handle(update)
        return len(updates)

    async def _keep_up(self, sweep: bool) -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            try:
                if held := self._in_flight - self.app.bot_data["handled"]:  # (those its step took out are gone)
                    await asyncio.to_thread(_renew, self.db, held)
                if sweep and (taken := await self._take(everything=False)):
                    log.info("took over %d update(s) a stopped process had stored", taken)
            except Exception as error:  # the database away for a moment: the next round tries again
                log.warning("could not renew or sweep the inbox (%s)", type(error).__name__)

    def _done(self, update_id: int) -> None:
        handled: set[int] = self.app.bot_data["handled"]
        if update_id in handled:  # its unit of work took it out already
            handled.discard(update_id)
            return
        with self.db.transaction() as session:
            acknowledge(session, update_id)


def _claim(db: Database, *, everything: bool) -> list[dict]:
    """Lease to this process, in order, the waiting updates (`everything`) or those whose lease ran out."""
    now = _now()
    with db.transaction() as session:
        query = select(Inbox).order_by(Inbox.update_id).with_for_update(skip_locked=True)
        if not everything:
            query = query.where(_lapsed(now))
        rows = session.scalars(query).all()
        for row in rows:
            row.lease_until = now + LEASE
        return [row.payload for row in rows]


def _renew(db: Database, update_ids: set[int]) -> None:
    with db.transaction() as session:
        session.execute(update(Inbox).where(Inbox.update_id.in_(update_ids)).values(lease_until=_now() + LEASE))


def _lapsed(now: datetime):
    return or_(Inbox.lease_until.is_(None), Inbox.lease_until <= now)


def _now() -> datetime:
    return datetime.now(timezone.utc)
