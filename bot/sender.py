"""The one way messages leave the bot: Telegram's limits, with replies ahead of scheduled sends.

Plugged into python-telegram-bot as its rate limiter, so every Bot API call passes through it:
- at most `overall_per_second` (30) calls that target a chat, shared by all chats;
- at most one call per second per chat (messages and edits alike), and in a group (a clinic's
  fallback chat) at most 20 a minute;
- a 429 RetryAfter pauses everything for the time Telegram asks, then the call is retried;
- a call to a chat that fails on the way (a 5xx, a timeout, a refused connection) is retried
  where that is safe (see `_may_retry`), in order, the chat's later sends waiting behind it;
- when sends queue up, replies to a patient who is talking (priority REPLY) go before
  scheduled ones (pass `rate_limit_args=SCHEDULED`);
- with several bot processes on one database, each send also takes a slot from the
  database's shared budget, so together they stay within the one limit Telegram sets per bot.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from typing import Any, Callable, Coroutine

import httpx
from sqlalchemy import case, update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.concurrency import KeyedLocks
from storage.db import Database
from storage.models import SendBudget

log = logging.getLogger(__name__)

REPLY = 0
SCHEDULED = 1


class Budget:
    """Send slots at a fixed rate, handed to the best-priority waiter first (each slot also taken
    from the shared budget when there is one, so our priorities hold across processes)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic, shared: "SharedBudget | None" = None):
        self.interval = 1.0 / per_second
        self.clock = clock
        self.shared = shared
        self.next_free = 0.0
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._order = itertools.count()
        self._runner: asyncio.Task | None = None

    async def acquire(self, priority: int = REPLY) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._hand_out())
        await future

    def pause(self, seconds: float) -> None:
        self.next_free = max(self.next_free, self.clock() + seconds)
        if self.shared is not None:
            self.shared.pause(seconds)

    async def _hand_out(self) -> None:
        while self._waiters:
            now = self.clock()
            if now < self.next_free:
                await asyncio.sleep(self.next_free - now)
                continue
            _priority, _order, future = heapq.heappop(self._waiters)
            if future.done():  # its caller gave up
                continue
            if self.shared is not None:
                await self.shared.acquire()
                if future.done():
                    continue
            future.set_result(None)
            self.next_free = max(now, self.next_free) + self.interval


class SharedBudget:
    """Send slots handed out by one database row, for every process that shares the database."""

    def __init__(self, db: Database, per_second: float = 30):
        self.db = db
        self.interval = 1.0 / per_second

    async def acquire(self) -> None:
        slot = await asyncio.to_thread(self._reserve)
        delay = slot - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        """Telegram said wait (429): every process waits."""
        until = time.time() + seconds
        with self.db.transaction() as session:
            session.execute(update(SendBudget).where(SendBudget.id == 1, SendBudget.next_free < until).values(next_free=until))

    def _reserve(self) -> float:
        # One atomic UPDATE: the row lock orders the processes, each gets the next free slot.
        with self.db.transaction() as session:
            next_free = session.execute(
                update(SendBudget)
                .where(SendBudget.id == 1)
                .values(next_free=case((SendBudget.next_free > time.time(), SendBudget.next_free), else_=time.time()) + self.interval)
                .returning(SendBudget.next_free)
            ).scalar_one()
        return next_free - self.interval


class Sender(BaseRateLimiter[int]):
    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        per_chat_interval: float = 1.0,
        max_retries: int = 5,
        retry_delay: float = 1.0,
        shared: SharedBudget | None = None,
        group_per_window: int = 20,
        group_window: float = 60.0,
    ):
        self.budget = Budget(overall_per_second, shared=shared)
        self.per_chat_interval = per_chat_interval
        self.max_retries = max_retries
        self.retry_delay = retry_delay  # before resending after a network failure; doubles each time
        self._chats = KeyedLocks()
        self._last: dict[Any, float] = {}
        self.group_per_window = group_per_window  # Telegram: 20 messages a minute in a group
        self.group_window = group_window
        self._group_calls: dict[Any, deque[float]] = {}  # a group's calls in the last window
        self.retries = 0  # 429s seen, for tests and logs
        self.resent = 0  # calls sent again after a network failure, for tests and logs

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = data.get("chat_id")
        if chat_id is None:  # getMe, answerCallbackQuery, setMyCommands...: not limited per chat
            return await self._call(callback, args, kwargs, None)
        priority = REPLY if rate_limit_args is None else rate_limit_args
        async with self._chats.hold(chat_id):
            wait = self._last.get(chat_id, -1e9) + self.per_chat_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if _is_group(chat_id):
                await self._group_turn(chat_id)
            try:
                return await self._call(callback, args, kwargs, priority)
            finally:
                self._last[chat_id] = time.monotonic()
                if _is_group(chat_id):
                    self._group_calls.setdefault(chat_id, deque()).append(self._last[chat_id])
                self._forget_idle_chats()

    async def _group_turn(self, chat_id: Any) -> None:
        """Wait until the group has had fewer than its limit of calls in the last window."""
        calls = self._group_calls.setdefault(chat_id, deque())
        while True:
            horizon = time.monotonic() - self.group_window
            while calls and calls[0] <= horizon:
                calls.popleft()
            if len(calls) < self.group_per_window:
                return
            await asyncio.sleep(calls[0] - horizon)

    async def _call(self, callback, args, kwargs, priority: int | None) -> Any:
        uncertain = 0  # failures after which the call may have taken effect
        for attempt in range(self.max_retries + 1):
            if priority is not None:
                await self.budget.acquire(priority)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") else float(error.retry_after)
                self.retries += 1
                if attempt == self.max_retries:
                    raise
                log.warning("Telegram asked us to wait %.1f s (429); retrying", seconds)
                self.budget.pause(seconds)
                await asyncio.sleep(seconds)
            except NetworkError as error:
                if attempt == self.max_retries or not _may_retry(error, priority, uncertain):
                    raise
                if not _never_sent(error):
                    uncertain += 1
                self.resent += 1
                log.warning("a call to Telegram failed (%s); sending it again", error)
                await asyncio.sleep(self.retry_delay * 2**attempt)
        raise AssertionError("unreachable")

    def _forget_idle_chats(self) -> None:
        if len(self._last) > 10_000:
            horizon = time.monotonic() - self.per_chat_interval
            self._last = {key: at for key, at in self._last.items() if at > horizon}
        if len(self._group_calls) > 1_000:
            horizon = time.monotonic() - self.group_window
            self._group_calls = {key: calls for key, calls in self._group_calls.items() if calls and calls[-1] > horizon}


def _is_group(chat_id: Any) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username); people, positive ones."""
    return str(chat_id).startswith(("-", "@"))


def _never_sent(error: NetworkError) -> bool:
    """The request did not leave: no connection, or none free in the pool."""
    return isinstance(error.__cause__, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def _may_retry(error: NetworkError, priority: int | None, uncertain: int) -> bool:
    """Whether a call to a chat that failed on the way is sent again.

    - Never a 400 (BadRequest): the same request fails the same way.
    - Only calls to a chat (priority set): for getUpdates, answerCallbackQuery, setMyCommands the
      caller copes (the poller retries with its own backoff, a press counts without its answer).
    - Always, when the request never left (no connection): nothing can be sent twice.
    - After a 5xx, a read timeout or a dropped connection the message may have been sent already:
      Telegram does not say, and has no idempotency key. A reply is then sent once more: a patient
      is waiting, and a rare duplicate beats silence, above all after a crisis message. A scheduled
      send is not: as for a prompt whose process died, the dispatcher records it, never resends it.
    """
    if isinstance(error, BadRequest) or priority is None:
        return False
    if _never_sent(error):
        return True
    return priority == REPLY and uncertain == 0
