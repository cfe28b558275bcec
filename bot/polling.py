"""Long polling that loses nothing when the process is killed.

Telegram forgets an update once the next getUpdates call moves past it, and python-telegram-bot's
Updater moves past a batch as soon as it has queued it, before it is handled. Here every fetched
batch is first committed to the inbox (bot/inbox.py), then the offset moves past it, then each
update is handled and removed. On start-up whatever is left in the inbox is handled first, then
what Telegram kept for us meanwhile, and only then the replies a stopped process never sent
(bot/steps.py): an answer given while the bot was down supersedes the question it answered.
"""
from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import Application

from bot import inbox, leadership, startup, steps, webhook
from storage.db import Database

log = logging.getLogger(__name__)


class InboxPoller:
    def __init__(self, app: Application, db: Database, *, source: str = "telegram", timeout: int = 10):
        self.app = app
        self.db = db
        self.source = source
        self.timeout = timeout
        self.intake = inbox.Intake(app, db)

    async def run(self) -> None:
        """Poll for as long as this process leads (bot/leadership.py cancels it when it no longer does)."""
        offset = None
        failures = 0
        catching_up = True  # until what waited for this start is handled
        while True:
            try:
                updates = await self.app.bot.get_updates(offset=offset, timeout=0 if catching_up else self.timeout,
                                                         allowed_updates=Update.ALL_TYPES)
                if updates:  # committed, and their chats taken up (bot/inbox.py)
                    await self.intake.take(updates, source=self.source)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a 409 during a rolling restart, a 429, the database away...
                failures += 1
                wait = min(30, 2 ** min(failures, 5))
                log.warning("polling failed (%s); trying again in %d s", error, wait, exc_info=not isinstance(error, (TimedOut, NetworkError)))
                await asyncio.sleep(wait)
                continue
            failures = 0
            if updates:
                offset = updates[-1].update_id + 1  # Telegram may forget them now: they are in the inbox
            if catching_up and len(updates) < 100:  # (a full batch: more are waiting)
                catching_up = False
                await self.intake.settled()
                await steps.caught_up(self.app)  # (never raises: what fails waits for the next start)

    async def drain(self, timeout: float = 10) -> None:
        """Let the updates being handled finish (what does not finish stays in the inbox)."""
        await self.intake.stop(timeout)


async def serve(app: Application, db: Database, stop: asyncio.Event, *, poll_timeout: int = 10, take_over: bool = False,
                health: tuple[str, int] | None = None) -> None:
    """Run the bot with inbox polling until `stop` is set (what `paincoach run` does);
    `poll_timeout` is how long one getUpdates call waits for news; `health`, an address and port
    to answer GET /health on. Raises startup.Refused in a webhook deployment without `take_over`."""
    if not await startup.reach_telegram(app, stop):
        return
    async with app:  # (initialized already: this only shuts it down at the end)
        if not await startup.claim_polling(app, db, stop, take_over=take_over):
            return
        if app.post_init:
            await app.post_init(app)
        await app.start()
        poller = InboxPoller(app, db, timeout=poll_timeout)
        # SQLite: one process, whatever is left is ours. PostgreSQL: several processes may run, only
        # the leader polls; the others take over what a stopped one left (bot/inbox.py).
        await poller.intake.start(everything=db.is_sqlite)
        server = polling = None
        try:
            server = await webhook.start_http(webhook.web_app(db, stop=stop), *health) if health else None
            polling = asyncio.create_task(leadership.lead(app.bot_data["leadership"], stop, when_leading=poller.run))
            polling.add_done_callback(lambda _task: stop.set())  # never a bot that looks alive but reads nothing
            await stop.wait()
        finally:
            # SIGTERM drains: the poller stops fetching, /health says 503 (so a load balancer looks
            # elsewhere), the chats in hand finish and their replies go, then the scheduled sends
            # in flight finish (bot/telegram.py `_on_stop`), and only then the process exits.
            if polling is not None:
                polling.cancel()
                await asyncio.gather(polling, return_exceptions=True)
            await poller.drain()
            await app.stop()
            if app.post_shutdown:
                await app.post_shutdown(app)
            if server is not None:
                await server.stop()
