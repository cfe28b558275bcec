"""The one way messages leave the bot: Telegram's limits, with replies ahead of scheduled sends.

Plugged into python-telegram-bot as its rate limiter, so every Bot API call passes through it:
- at most `overall_per_second` calls that target a chat, shared by all chats: 28 by default,
  a margin under Telegram's 30 for late wake-ups and the network's jitter (more with paid
  broadcasts, see `Sender`);
- at most one call per second per chat (messages and edits alike), and in a group (a clinic's
  fallback chat) at most 20 a minute;
- a 429 RetryAfter pauses everything for the time Telegram asks, then the call is retried;
- a call to a chat that fails on the way (a 5xx, a timeout, a refused connection) is retried
  where that is safe (see `_may_retry`), in order, the chat's later sends waiting behind it;
- when sends queue up, replies to a patient who is talking (priority REPLY) go before
  scheduled ones (pass `rate_limit_args=SCHEDULED`);
- with several bot processes on one database, the slots come from the database's shared budget
  (`SharedBudget`), so together they stay within the one limit Telegram sets per bot.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Coroutine

import httpx
from sqlalchemy import case, select, text, update
from sqlalchemy.exc import IntegrityError
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.concurrency import KeyedLocks
from storage.db import Database
from storage.models import SendBudget

log = logging.getLogger(__name__)

REPLY = 0
SCHEDULED = 1
DEFAULT_RATE = 28.0  # sends a second, all processes together: Telegram allows 30
BLOCK_SECONDS = 0.25  # a process reserves at most this much of the shared budget at once
MAX_LEAD = 0.25  # a block starts at most this far ahead of now (when the budget is free)
NEXT_FREE, PAUSED_UNTIL = 1, 2  # the send_budget rows: the next free slot; no sends before this


class Budget:
    """Send slots at a fixed rate, handed to the best-priority waiter first.

    Alone, a process paces its slots itself; with a shared budget it reserves them from the
    database in blocks, as many as its queue holds (up to `BLOCK_SECONDS` worth) in one UPDATE.
    A slot is spent at its time or within one interval after it, else it is lost: never spent
    late, so sends never bunch up beyond the rate. None is spent while a 429 pause lasts, ours or
    another process's: before each slot the shared pause is read again (while waiting for the
    slot, so the read does not delay it), so a block reserved before a pause does not go out
    during it (only a slot whose read was answered before the pause began, or whose read the
    database is too slow to answer in time, may).
    """

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic, shared: "SharedBudget | None" = None,
                 sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep):
        self.shared = shared
        self.interval = shared.interval if shared is not None else 1.0 / per_second
        self.clock = shared.clock if shared is not None else clock  # the shared one is everybody's clock
        self.sleep = sleep
        self.block = max(1, int(BLOCK_SECONDS / self.interval)) if shared is None else shared.block
        self.next_free = 0.0
        self.paused_until = 0.0
        self.lost = {"late": 0, "paused": 0, "unwanted": 0}  # slots not spent, by why: for benchmarks and logs
        self._slots: deque[float] = deque()
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._order = itertools.count()
        self._runner: asyncio.Task | None = None
        self._check: asyncio.Task | None = None  # a read of the shared pause, at most one at a time

    async def acquire(self, priority: int = REPLY) -> float:
        """Wait for a slot; returns its time (on `clock`)."""
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._hand_out())
        return await future

    async def pause(self, seconds: float) -> None:
        """Telegram said wait (429): no slot before then, here and, when shared, everywhere."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)
        if self.shared is not None:
            try:
                await self.shared.pause(seconds)
            except Exception:  # the others meet Telegram's 429 themselves, and pause then
                log.warning("could not record the send pause in the database", exc_info=True)

    def close(self) -> None:
        """Stop handing out slots (the bot is shutting down): whoever still waits is cancelled."""
        for task in (self._runner, self._check, *(future for *_, future in self._waiters)):
            if task is not None:
                task.cancel()
        self._runner = self._check = None
        self._waiters.clear()

    async def _hand_out(self) -> None:
        while self._waiters:
            if not self._slots:
                if not (waiting := self._waiting()):  # every caller gave up
                    self._waiters.clear()
                    return
                self._slots.extend(await self._reserve(min(self.block, waiting)))
                continue
            slot, now = self._slots[0], self.clock()
            if now < slot:
                if self.shared is not None and self._check is None:  # read the shared pause while we wait
                    self._check = asyncio.create_task(self._shared_pause())
                await self.sleep(slot - now)
                continue
            self._slots.popleft()
            if self.shared is not None:
                await self._read_pause(slot)
            if slot < self.paused_until:
                self.lost["paused"] += 1
            elif self.clock() > slot + self.interval:  # too late: lost
                self.lost["late"] += 1
            elif (future := self._best_waiter()) is not None:
                future.set_result(slot)
            else:
                self.lost["unwanted"] += 1

    async def _read_pause(self, slot: float) -> None:
        """The shared pause as read since the last slot, waiting for the read half the time the
        slot may still wait at most (a database slow to answer must not cost the slot: the last
        pause read stands)."""
        if self._check is None:
            self._check = asyncio.create_task(self._shared_pause())
        try:
            await asyncio.wait_for(asyncio.shield(self._check), max(0.0, (slot + self.interval - self.clock()) / 2))
        except TimeoutError:
            return  # still reading: the next slot waits for it
        self._check = None

    def _waiting(self) -> int:
        return sum(1 for *_, future in self._waiters if not future.done())

    def _best_waiter(self) -> asyncio.Future | None:
        while self._waiters:
            _priority, _order, future = heapq.heappop(self._waiters)
            if not future.done():  # else its caller gave up
                return future
        return None

    async def _reserve(self, count: int) -> list[float]:
        if self.shared is not None:
            try:
                return await self.shared.reserve(count)
            except Exception:  # the database cannot be reached: alone at the rate beats silence
                log.warning("could not reserve send slots from the database; pacing alone", exc_info=True)
        start = max(self.clock(), self.next_free, self.paused_until)
        self.next_free = start + count * self.interval
        return [start + i * self.interval for i in range(count)]

    async def _shared_pause(self) -> float:
        try:
            self.paused_until = max(self.paused_until, await self.shared.paused_until())
        except Exception:
            log.warning("could not read the shared send pause", exc_info=True)
        return self.paused_until


class SharedBudget:
    """Send slots handed out by one database row to every process that shares the database.

    Row NEXT_FREE holds the next free slot (seconds since the epoch): a reservation of n slots
    moves it n intervals on, in one atomic UPDATE … RETURNING (the row lock orders the processes).
    Row PAUSED_UNTIL holds the end of the latest 429 pause. Slots are times on `clock`, the wall
    clock, which every process (and host, NTP-synchronised) shares. Every process must use the
    same rate: it is the total.
    """

    def __init__(self, db: Database, per_second: float = DEFAULT_RATE, *, block: int | None = None,
                 clock: Callable[[], float] = time.time):
        self.db = db
        self.interval = 1.0 / per_second
        self.block = block or max(1, int(BLOCK_SECONDS * per_second))
        self.clock = clock
        # Its own thread: the budget never waits behind the bot's other database work.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="send-budget")
        self._has_pause_row = False
        self._round_trips: deque[float] = deque([0.0], maxlen=8)  # the last reservations': a block starts the longest ahead
        self.reservations = 0  # UPDATEs made, for tests and logs

    async def reserve(self, count: int) -> list[float]:
        end = await self._in_thread(self._reserve, count)
        self.reservations += 1
        return [end - (count - i) * self.interval for i in range(count)]

    async def paused_until(self) -> float:
        return await self._in_thread(self._paused_until)

    async def pause(self, seconds: float) -> None:
        await self._in_thread(self._pause, self.clock() + seconds)

    async def _in_thread(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    def _reserve(self, count: int) -> float:
        asked = self.clock()
        earliest = asked + max(self._round_trips)  # a slot that has passed by the time we have it would be lost
        with self.db.transaction() as session:
            if not self.db.is_sqlite:  # the row lock is held until the commit: not until a disk flush too
                session.execute(text("SET LOCAL synchronous_commit = off"))
            end = session.execute(
                update(SendBudget)
                .where(SendBudget.id == NEXT_FREE)
                .values(next_free=case((SendBudget.next_free > earliest, SendBudget.next_free), else_=earliest) + count * self.interval)
                .returning(SendBudget.next_free)
            ).scalar_one()
        self._round_trips.append(min(self.clock() - asked, MAX_LEAD))
        return end

    def _paused_until(self) -> float:
        with self.db.engine.connect() as connection:  # a plain read: no row lock, no transaction to commit
            return connection.execute(select(SendBudget.next_free).where(SendBudget.id == PAUSED_UNTIL)).scalar() or 0.0

    def _pause(self, until: float) -> None:
        self._ensure_pause_row()
        with self.db.transaction() as session:
            for row in (NEXT_FREE, PAUSED_UNTIL):  # new reservations start after it; reserved slots wait for it
                session.execute(update(SendBudget).where(SendBudget.id == row, SendBudget.next_free < until).values(next_free=until))

    def _ensure_pause_row(self) -> None:
        if self._has_pause_row:
            return
        try:
            with self.db.transaction() as session:
                if session.get(SendBudget, PAUSED_UNTIL) is None:
                    session.add(SendBudget(id=PAUSED_UNTIL, next_free=0.0))
        except IntegrityError:  # another process added it meanwhile
            pass
        self._has_pause_row = True


class Sender(BaseRateLimiter[int]):
    """`paid_broadcast`: the deployment pays for Telegram's paid broadcasts, so scheduled sends
    carry allow_paid_broadcast (bot/delivery.py) and `overall_per_second` may go above 30 (up
    to 1000). Replies and alerts are never paid for: they stay a small share of the traffic."""

    def __init__(
        self,
        *,
        overall_per_second: float = DEFAULT_RATE,
        per_chat_interval: float = 1.0,
        max_retries: int = 5,
        retry_delay: float = 1.0,
        shared: SharedBudget | None = None,
        group_per_window: int = 20,
        group_window: float = 60.0,
        paid_broadcast: bool = False,
    ):
        self.budget = Budget(overall_per_second, shared=shared)
        self.paid_broadcast = paid_broadcast
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
        self.budget.close()

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
                await self.budget.pause(seconds)
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


def sender_for(settings, db: Database) -> Sender:
    """The Sender a bot process runs with (`settings`: bot.config.Settings): its rate and paid
    broadcasts as set, and on PostgreSQL, where several processes may run, the shared budget."""
    rate = settings.send_rate
    shared = None if db.is_sqlite else SharedBudget(db, rate)
    return Sender(overall_per_second=rate, shared=shared, paid_broadcast=settings.allow_paid_broadcast)


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
