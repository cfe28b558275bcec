"""APScheduler drives the timing; the rows in the database are the schedule.

Three jobs of its own: plan the next hours' prompts (check-ins, then lessons) every few minutes, dispatch what is due every
few seconds, prune the delivery machinery's records hourly (storage/retention.py). The wiring adds its own ticks at the same pace (the clinic's alerts, in bot/). Nothing of the schedule lives in the job store, so a restart or a second process
loses and duplicates nothing.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler import lessons, planner
from scheduler.dispatcher import Dispatcher
from storage import retention
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


def start(db: Database, dispatcher: Dispatcher, *, ticks: Mapping[str, Callable[[], Awaitable[object]]] | None = None,
          dispatch_seconds: float = 5, plan_minutes: float = 10, ready: asyncio.Event | None = None,
          leading: Callable[[], bool] = lambda: True) -> AsyncIOScheduler:
    """The jobs; check-in prompts wait for `ready` (a conversation's last reply, kept by a
    stopped process, goes before a new invitation). Planning and pruning run only while `leading`
    (one process of several does them); every process dispatches."""
    async def plan() -> None:
        if not leading():
            return

        def run() -> None:
            with db.transaction() as session:
                planner.plan(session, dispatcher.clock())
            with db.transaction() as session:  # apart: a lesson never holds back the check-ins
                lessons.plan(session, dispatcher.clock())

        await asyncio.to_thread(run)

    async def prune() -> None:
        if not leading():
            return

        def run() -> None:
            with db.transaction() as session:
                retention.prune(session, dispatcher.clock())

        await asyncio.to_thread(run)

    async def dispatch() -> None:
        if ready is not None and not ready.is_set():
            return
        sent = await dispatcher.tick()
        if sent:
            log.info("sent %d check-in prompt(s)", sent)

    # A job that starts late still runs (the default grace is one second), once (coalesce).
    scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    now = utcnow()
    scheduler.add_job(plan, "interval", minutes=plan_minutes, next_run_time=now, id="plan")
    scheduler.add_job(dispatch, "interval", seconds=dispatch_seconds, next_run_time=now, id="dispatch")
    scheduler.add_job(prune, "interval", hours=1, next_run_time=now, id="prune")
    for name, tick in (ticks or {}).items():
        scheduler.add_job(tick, "interval", seconds=dispatch_seconds, next_run_time=now, id=name)
    scheduler.start()
    return scheduler
