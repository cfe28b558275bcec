"""Keeping the leadership (storage/leader.py) while the bot runs, and the singletons with it.

Every process checks every `CHECK_SECONDS`: a follower tries to take the lead, the leader confirms
it still holds it. While this process leads it runs `when_leading` (the poller); the scheduler's
planning sweep and retention ask `leadership.leading` before each run (scheduler/runner.py).
A killed leader is replaced within CHECK_SECONDS of PostgreSQL seeing its connection close.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage.leader import Leadership

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0


async def lead(leadership: Leadership, stop: asyncio.Event, *, when_leading: Callable[[], Awaitable[None]] | None = None,
               every: float = CHECK_SECONDS) -> None:
    """Until `stop`: keep checking. A `when_leading` that fails ends this too (its error raised):
    a process that should poll but cannot must not look alive."""
    task: asyncio.Task | None = None
    try:
        while not stop.is_set():
            leading = await asyncio.to_thread(leadership.check)
            if task is not None and task.done():
                task.result()  # it ended on its own: raise its error (a poller never ends by itself)
                task = None
            if when_leading is not None and leading and task is None:
                task = asyncio.create_task(when_leading())
            elif not leading and task is not None:
                await _cancel(task)
                task = None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
    finally:
        if task is not None:
            await _cancel(task)
        await asyncio.to_thread(leadership.resign)  # the next leader need not wait for our connection to time out


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
