"""Starting `paincoach run`: the database or Telegram may be down, and the deployment mode decides
whether a poller may take the updates from a webhook.

An outage at start is one clear line per attempt, no traceback, and another attempt after 1, 2,
4 … 60 s, until it answers or the process is told to stop. A refusal is one line and exit code 2.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from sqlalchemy.exc import OperationalError
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from storage import Database, open_database
from storage.deployment import POLLING, WEBHOOK, record_mode, recorded_mode

log = logging.getLogger(__name__)
MOST = 60.0  # seconds between two attempts, at most


class Refused(Exception):
    """The start must not go on; the message says why and what to do, in one line."""


def open_database_patiently(url: str, stop: threading.Event, first_delay: float = 1.0) -> Database | None:
    """The database, created and migrated; None if told to stop before it could be reached."""
    delay = first_delay
    while True:
        try:
            return open_database(url)
        except OperationalError as error:  # refused, unknown host, the server starting up, a wrong password...
            reason = str(error.orig or error).strip().splitlines()[0]
            log.warning("the database cannot be reached (%s); trying again in %.0f s", reason, delay)
        if _sleep(delay, stop):
            return None
        delay = min(delay * 2, MOST)


def _sleep(seconds: float, stop: threading.Event) -> bool:
    """Short naps, not one timed wait (which never wakes under faketime); True if told to stop."""
    for _ in range(max(1, round(seconds / 0.1))):
        if stop.is_set():
            return True
        time.sleep(0.1)
    return stop.is_set()


async def patiently(call: Callable[[], Awaitable[object]], stop: asyncio.Event, first_delay: float = 1.0) -> bool:
    """Call Telegram until it answers; False if told to stop meanwhile. Telegram, or the way to it,
    may be down: one clear line, no traceback, again with backoff. A refused token is no outage: it
    stops the start (bot/cli.py says so in one line)."""
    delay = first_delay
    while True:
        try:
            await call()
            return True
        except InvalidToken:
            raise
        except NetworkError as error:  # also a timeout or a 5xx on the way
            log.warning("Telegram cannot be reached (%s); trying again in %.0f s", error, delay)
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return False
        except asyncio.TimeoutError:
            delay = min(delay * 2, MOST)


async def reach_telegram(app: Application, stop: asyncio.Event, first_delay: float = 1.0) -> bool:
    """The Application initialized (it asks Telegram who the bot is); False if told to stop first."""
    return await patiently(app.initialize, stop, first_delay)


async def claim_polling(app: Application, db: Database, stop: asyncio.Event, *, take_over: bool) -> bool:
    """Make this deployment a polling one, or raise Refused. A webhook set at Telegram is deleted
    (getUpdates answers 409 while one is) only when the recorded mode is polling, or none is
    recorded, or with `take_over`, and then one loud line says so. False if told to stop first."""
    recorded = await asyncio.to_thread(_recorded, db)
    if recorded == WEBHOOK and not take_over:
        raise Refused(
            "this deployment is recorded as a webhook one: a poller would take it off the air. To switch it to "
            "long polling, stop the webhook processes, then run `paincoach run --take-over` once"
        )
    info = {}

    async def webhook_info() -> None:
        info["url"] = (await app.bot.get_webhook_info()).url

    if not await patiently(webhook_info, stop):
        return False
    if info["url"] and not await patiently(lambda: app.bot.delete_webhook(drop_pending_updates=False), stop):
        return False
    if info["url"] or recorded == WEBHOOK:
        done = "deleted the webhook set at Telegram" if info["url"] else "no webhook was set at Telegram"
        log.warning("TAKING OVER FROM WEBHOOK MODE: %s (recorded mode: %s%s); updates come to this poller now, "
                    "and a webhook process still running gets none", done, recorded or "none", ", --take-over" if take_over else "")
    await asyncio.to_thread(_record, db, POLLING)
    return True


async def pushed(app: Application, stop: asyncio.Event, most: float = 10.0) -> None:
    """Until Telegram has pushed to the webhook what it kept while we were down (its pending count
    is 0), for `most` seconds at the longest: it may be retrying slowly, or never get through."""
    deadline = time.monotonic() + most
    while time.monotonic() < deadline and not stop.is_set():
        try:
            if not (await app.bot.get_webhook_info()).pending_update_count:
                return
        except TelegramError:
            return  # Telegram away again, or refusing: waiting would not bring anything
        await asyncio.sleep(0.2)


def record_webhook(db: Database) -> None:
    _record(db, WEBHOOK)


def _recorded(db: Database) -> str | None:
    with db.transaction() as session:
        return recorded_mode(session)


def _record(db: Database, mode: str) -> None:
    with db.transaction() as session:
        record_mode(session, mode, datetime.now(timezone.utc))
