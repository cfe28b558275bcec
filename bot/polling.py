"""Long polling that loses nothing when the process is killed.

Telegram forgets an update once the next getUpdates call moves past it, and python-telegram-bot's
Updater moves past a batch as soon as it has queued it, before it is handled. Here every fetched
update is first written to the inbox table, then handled, then removed; on start-up whatever is
left in the inbox is handled first. The engine applies an update id once, so handling one again
after a crash only shows the patient where they are.
"""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from storage.db import Database
from storage.models import Inbox, utcnow
from storage.updates import applied

log = logging.getLogger(__name__)


class InboxPoller:
    def __init__(self, app: Application, db: Database, *, source: str = "telegram", timeout: int = 10):
        self.app = app
        self.db = db
        self.source = source
        self.timeout = timeout
        self._handling: set[asyncio.Task] = set()

    async def run(self) -> None:
        for update in await asyncio.to_thread(self._leftovers):
            self._handle(update)
        offset = None
        failures = 0
        while True:
            try:
                updates = await self.app.bot.get_updates(offset=offset, timeout=self.timeout, allowed_updates=Update.ALL_TYPES)
                fresh = await asyncio.to_thread(self._keep, updates) if updates else set()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a 409 during a rolling restart, a 429, the database away...
                failures += 1
                wait = min(30, 2 ** min(failures, 5))
                log.warning("polling failed (%s); trying again in %d s", error, wait, exc_info=not isinstance(error, (TimedOut, NetworkError)))
                await asyncio.sleep(wait)
                continue
            failures = 0
            if not updates:
                continue
            offset = updates[-1].update_id + 1  # Telegram may forget them now: they are in the inbox
            for update in updates:
                if update.update_id in fresh:
                    self._handle(update)

    async def drain(self, timeout: float = 10) -> None:
        """Let the updates being handled finish (what does not finish stays in the inbox)."""
        if self._handling:
            await asyncio.wait(self._handling, timeout=timeout)

    def _handle(self, update: Update) -> None:
        task = asyncio.create_task(self._process(update))  # in arrival order: per-chat order holds
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _process(self, update: Update) -> None:
        processor = self.app.update_processor
        await processor.process_update(update, self.app.process_update(update))
        await asyncio.to_thread(self._done, update.update_id)

    def _keep(self, updates: list[Update]) -> set[int]:
        """Store the updates; returns the ids neither stored nor handled before."""
        ids = [u.update_id for u in updates]
        with self.db.transaction() as session:
            known = set(session.scalars(select(Inbox.update_id).where(Inbox.update_id.in_(ids))))
            known |= applied(session, self.source, ids, utcnow())
            rows = [{"update_id": u.update_id, "payload": u.to_dict()} for u in updates if u.update_id not in known]
            if rows:
                dialect = postgresql if self.db.engine.dialect.name == "postgresql" else sqlite
                session.execute(dialect.insert(Inbox).on_conflict_do_nothing(index_elements=["update_id"]), rows)
        return {row["update_id"] for row in rows}

    def _leftovers(self) -> list[Update]:
        with self.db.transaction() as session:
            payloads = list(session.scalars(select(Inbox.payload).order_by(Inbox.update_id)))
        if payloads:
            log.info("handling %d update(s) left from the last run", len(payloads))
        return [Update.de_json(payload, self.app.bot) for payload in payloads]

    def _done(self, update_id: int) -> None:
        handled: set[int] = self.app.bot_data.get("handled", set())
        if update_id in handled:  # its unit of work took it out already
            handled.discard(update_id)
            return
        with self.db.transaction() as session:
            acknowledge(session, update_id)


def acknowledge(session, update_id: int) -> None:
    """The update is handled: out of the inbox (in the transaction that handled it, if it can)."""
    session.execute(delete(Inbox).where(Inbox.update_id == update_id))


async def serve(app: Application, db: Database, stop: asyncio.Event, *, poll_timeout: int = 10) -> None:
    """Run the bot with inbox polling until `stop` is set (what `paincoach run` does);
    `poll_timeout` is how long one getUpdates call waits for news."""
    if not await _initialize(app, stop):
        return
    async with app:  # (initialized already: this only shuts it down at the end)
        if app.post_init:
            await app.post_init(app)
        await app.start()
        app.bot_data["handled"] = set()  # updates whose unit of work took them out of the inbox
        poller = InboxPoller(app, db, timeout=poll_timeout)
        polling = asyncio.create_task(poller.run())
        polling.add_done_callback(lambda _task: stop.set())  # never a bot that looks alive but reads nothing
        try:
            await stop.wait()
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            await poller.drain()
            await app.stop()
            if app.post_shutdown:
                await app.post_shutdown(app)


async def _initialize(app: Application, stop: asyncio.Event, first_delay: float = 1.0) -> bool:
    """Telegram, or the way to it, may be down when we start: one clear line, no traceback, and
    again with backoff (up to a minute) until it answers; False if told to stop meanwhile. A
    refused token is no outage: it stops the start (bot/cli.py says so in one line)."""
    delay = first_delay
    while True:
        try:
            await app.initialize()
            return True
        except InvalidToken:
            raise
        except NetworkError as error:  # also a timeout or a 5xx on the way
            log.warning("Telegram cannot be reached (%s); trying again in %.0f s", error, delay)
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return False
        except asyncio.TimeoutError:
            delay = min(delay * 2, 60.0)
