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

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application

from storage.db import Database
from storage.models import Inbox, ProcessedUpdate

log = logging.getLogger(__name__)


def keep(db: Database, updates: Iterable[Update], *, source: str = "telegram") -> set[int]:
    """Commit the updates to the inbox; returns the ids to handle: all but those applied before
    (an update already waiting in the inbox is returned too: the process that stored it may be gone)."""
    updates = list(updates)
    ids = [u.update_id for u in updates]
    with db.transaction() as session:
        waiting = set(session.scalars(select(Inbox.update_id).where(Inbox.update_id.in_(ids))))
        applied = set(
            session.scalars(select(ProcessedUpdate.update_id).where(ProcessedUpdate.source == source, ProcessedUpdate.update_id.in_(ids)))
        )
        rows = [{"update_id": u.update_id, "payload": u.to_dict()} for u in updates if u.update_id not in waiting | applied]
        if rows:
            dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
            session.execute(dialect.insert(Inbox).on_conflict_do_nothing(index_elements=["update_id"]), rows)
    return set(ids) - applied


def acknowledge(session: Session, update_id: int) -> None:
    """The update is handled: out of the inbox (in the transaction that handled it, if it can)."""
    session.execute(delete(Inbox).where(Inbox.update_id == update_id))


class Intake:
    """Hands stored updates to the Application, in the order given (one chat's updates keep their
    order: bot/telegram.py's update processor), and takes each out of the inbox when handled."""

    def __init__(self, app: Application, db: Database):
        self.app = app
        self.db = db
        self._handling: set[asyncio.Task] = set()
        self._in_flight: set[int] = set()
        app.bot_data.setdefault("handled", set())  # updates whose unit of work took them out of the inbox

    async def handle_leftovers(self) -> int:
        """Whatever a stopped process left in the inbox, first, before anything new."""
        updates = await asyncio.to_thread(self._leftovers)
        for update in updates:
            self.handle(update)
        return len(updates)

    def handle(self, update: Update) -> None:
        if update.update_id in self._in_flight:  # stored again (a resend, a repeated batch): once is enough
            return
        self._in_flight.add(update.update_id)
        task = asyncio.create_task(self._process(update))  # in arrival order: per-chat order holds
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def drain(self, timeout: float = 10) -> None:
        """Let the updates being handled finish (what does not finish stays in the inbox)."""
        if self._handling:
            await asyncio.wait(self._handling, timeout=timeout)

    async def _process(self, update: Update) -> None:
        try:
            processor = self.app.update_processor
            await processor.process_update(update, self.app.process_update(update))
            await asyncio.to_thread(self._done, update.update_id)
        finally:
            self._in_flight.discard(update.update_id)

    def _leftovers(self) -> list[Update]:
        with self.db.transaction() as session:
            payloads = list(session.scalars(select(Inbox.payload).order_by(Inbox.update_id)))
        if payloads:
            log.info("handling %d update(s) left from the last run", len(payloads))
        return [Update.de_json(payload, self.app.bot) for payload in payloads]

    def _done(self, update_id: int) -> None:
        handled: set[int] = self.app.bot_data["handled"]
        if update_id in handled:  # its unit of work took it out already
            handled.discard(update_id)
            return
        with self.db.transaction() as session:
            acknowledge(session, update_id)
