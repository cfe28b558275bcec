"""The one sender: Telegram's limits kept, replies before scheduled sends, 429 honoured."""
from __future__ import annotations

import asyncio
import time

from telegram.error import RetryAfter

from bot.sender import REPLY, SCHEDULED, Budget, Sender, SharedBudget


async def test_replies_go_before_scheduled_sends_that_queue_up():
    budget = Budget(per_second=50)
    order: list[str] = []

    async def send(name: str, priority: int) -> None:
        await budget.acquire(priority)
        order.append(name)

    scheduled = [asyncio.create_task(send(f"scheduled {i}", SCHEDULED)) for i in range(10)]
    await asyncio.sleep(0.05)  # a few scheduled sends have gone; the rest wait their turn
    reply = asyncio.create_task(send("reply", REPLY))
    await asyncio.gather(reply, *scheduled)
    position = order.index("reply")
    assert 0 < position <= 5, order  # ahead of every scheduled send still waiting


async def test_overall_rate_is_kept_across_chats():
    sender = Sender(overall_per_second=100, per_chat_interval=0)
    sent: list[float] = []

    async def call():
        sent.append(time.monotonic())
        return True

    await asyncio.gather(*(sender.process_request(call, (), {}, "sendMessage", {"chat_id": i}, None) for i in range(201)))
    assert sent[-1] - sent[0] >= 1.99  # 201 calls at 100/s take two seconds
    # What Telegram counts: calls in any one second (a late wake-up may shorten one gap, never the rate).
    # (A late first send of a window lets it hold one or two more; the average stays 100/s.)
    assert max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent) <= 103


async def test_one_chat_gets_one_call_a_second_messages_and_edits_alike():
    sender = Sender(overall_per_second=1000, per_chat_interval=0.2)
    log: list[float] = []

    async def call():
        log.append(time.monotonic())
        return True

    async def to_chat_7():
        for endpoint in ["sendMessage", "editMessageText", "sendMessage"]:
            await sender.process_request(call, (), {}, endpoint, {"chat_id": 7}, None)

    async def to_chat_8():
        await sender.process_request(call, (), {}, "sendMessage", {"chat_id": 8}, None)
        log.append("chat 8")

    await asyncio.gather(to_chat_7(), to_chat_8())
    # Chat 7's calls are a pace apart, messages and edits alike; chat 8 did not queue behind them.
    times = [t for t in log if t != "chat 8"]
    assert len(times) == 4 and all(b - a >= 0.19 for a, b in zip(times[1:], times[2:]))
    assert log.index("chat 8") < log.index(times[2]), log


async def test_retry_after_pauses_and_retries_once():
    sender = Sender(overall_per_second=1000, per_chat_interval=0)
    attempts: list[float] = []

    async def flaky():
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RetryAfter(1)
        return "ok"

    assert await sender.process_request(flaky, (), {}, "sendMessage", {"chat_id": 1}, None) == "ok"
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 1.0
    assert sender.retries == 1


async def test_processes_sharing_a_database_share_one_budget(database_url, database):
    """Two senders (as two bot processes would) on one database stay within one 30/s budget."""
    from storage import open_database

    other = open_database(database_url, migrate=False)  # a second connection pool, as a second process has
    senders = [Sender(per_chat_interval=0, shared=SharedBudget(db)) for db in (database, other)]
    sent: list[float] = []

    async def call():
        sent.append(time.monotonic())
        return True

    await asyncio.gather(
        *(sender.process_request(call, (), {}, "sendMessage", {"chat_id": i}, None) for sender in senders for i in range(31))
    )
    other.dispose()
    # 62 sends at 30/s overall take about two seconds; each sender alone would have done it in one.
    assert sent[-1] - sent[0] >= 1.95
    per_second = max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent)
    assert per_second <= 32  # 30 a second, give or take a late wake-up


async def test_a_group_gets_at_most_its_limit_of_calls_a_minute_and_other_chats_do_not_wait():
    # Telegram: 20 messages a minute in a group (a clinic's fallback chat); here 3 per 0.3 s.
    sender = Sender(overall_per_second=1000, per_chat_interval=0, group_per_window=3, group_window=0.3)
    log: list[tuple[int, float]] = []

    async def to(chat_id: int):
        async def call():
            log.append((chat_id, time.monotonic()))
            return True

        for endpoint in ["sendMessage", "editMessageText"] * 4:
            await sender.process_request(call, (), {}, endpoint, {"chat_id": chat_id}, None)

    await asyncio.gather(to(-100123), to(42))
    group = [t for chat, t in log if chat == -100123]
    assert len(group) == 8 and all(b - a >= 0.29 for a, b in zip(group, group[3:]))  # never 4 in one window
    person = [t for chat, t in log if chat == 42]
    assert person[-1] < group[3]  # the private chat's calls did not queue behind the group's


# -- slots on a clock the test moves -----------------------------------------------------------


class Clock:
    """A clock the test moves: `sleep` waits until it has moved far enough. With `auto`, a sleep
    moves it itself (one budget alone: virtual time, exact)."""

    def __init__(self, now: float = 1_000_000.0, auto: bool = True):
        self.now, self.auto = now, auto

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        target = self.now + seconds
        await asyncio.sleep(0)  # what was handed out runs first, at the time it was handed out
        if self.auto:
            self.now = max(self.now, target)
        while self.now < target:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0)


async def taken(budget: Budget, priority: int, count: int) -> list[tuple[float, float]]:
    """(slot, clock when handed out) for `count` waiters queued at once."""
    async def one():
        slot = await budget.acquire(priority)
        return slot, budget.clock()

    return await asyncio.gather(*(one() for _ in range(count)))


async def test_slots_keep_the_rate_and_each_goes_at_its_time():
    clock = Clock()
    budget = Budget(per_second=28, clock=clock, sleep=clock.sleep)
    slots = await taken(budget, SCHEDULED, 84)
    times = sorted(slot for slot, _ in slots)
    assert all(b - a >= 1 / 28 - 1e-9 for a, b in zip(times, times[1:]))
    assert all(slot <= at <= slot + 1 / 28 for slot, at in slots)
    assert clock.now - times[0] >= 83 / 28 - 1e-9  # 84 slots at 28/s: three seconds


async def test_a_slot_not_used_in_time_is_lost_not_spent_late():
    clock = Clock()
    stalls = iter([0.0, 0.0, 0.5])  # the third wait overruns by half a second (a busy machine)

    async def stalling_sleep(seconds: float) -> None:
        await clock.sleep(seconds + next(stalls, 0.0))

    budget = Budget(per_second=10, clock=clock, sleep=stalling_sleep)
    slots = await taken(budget, SCHEDULED, 6)
    assert all(at <= slot + 0.1 for slot, at in slots)  # none went out late
    times = sorted(slot for slot, _ in slots)
    assert max(b - a for a, b in zip(times, times[1:])) >= 0.5  # the stalled ones were skipped, not bunched


async def test_replies_take_the_next_slot_before_scheduled_sends_waiting():
    clock = Clock()
    budget = Budget(per_second=28, clock=clock, sleep=clock.sleep)
    order: list[str] = []

    async def send(name: str, priority: int) -> None:
        await budget.acquire(priority)
        order.append(name)

    scheduled = [asyncio.create_task(send(f"scheduled {i}", SCHEDULED)) for i in range(10)]
    while len(order) < 3:
        await asyncio.sleep(0)
    await asyncio.gather(send("reply", REPLY), *scheduled)
    assert order.index("reply") <= 4, order  # the next slot, or the one after if that was handed out already


async def test_a_pause_holds_every_slot_until_it_ends():
    clock = Clock()
    budget = Budget(per_second=28, clock=clock, sleep=clock.sleep)
    first = await budget.acquire()
    await budget.pause(2.0)
    later = [slot for slot, _ in await taken(budget, REPLY, 5)]
    assert min(later) >= first + 2.0


# -- several processes on one database ----------------------------------------------------------


async def test_two_processes_share_blocks_of_slots_without_duplicates(database_url, database):
    """Each reserves blocks (one UPDATE for several slots); together they keep one rate."""
    from storage import open_database

    other = open_database(database_url, migrate=False)  # a second connection pool, as a second process has
    shared = [SharedBudget(db, per_second=28) for db in (database, other)]
    budgets = [Budget(28, shared=s) for s in shared]
    try:
        slots = await asyncio.gather(*(asyncio.gather(*(b.acquire(SCHEDULED) for _ in range(35))) for b in budgets))
    finally:
        other.dispose()
    times = sorted(slot for per_process in slots for slot in per_process)
    assert len(times) == len(set(times)) == 70  # no slot handed to both
    assert all(b - a >= 1 / 28 - 1e-6 for a, b in zip(times, times[1:]))  # 28 a second at most, all together
    assert max(sum(1 for t in times if start <= t < start + 1.0 - 1e-6) for start in times) <= 28  # (float sums)
    assert all(s.reservations <= 35 / 2 for s in shared)  # batched: well under one row update per send
    assert all(s.reservations > 1 for s in shared)  # blocks are capped: neither took the whole burst at once


async def test_a_pause_in_one_process_stops_the_slots_another_already_holds(database_url, database):
    from storage import open_database

    clock = Clock(time.time(), auto=False)  # the test moves it, so the pause lands while B holds its block
    other = open_database(database_url, migrate=False)
    first, second = (SharedBudget(db, per_second=28, clock=clock) for db in (database, other))
    budget = Budget(28, shared=second, sleep=clock.sleep)
    try:
        waiting = [asyncio.create_task(budget.acquire(SCHEDULED)) for _ in range(5)]
        while not any(task.done() for task in waiting):  # B reserved a block of 5 and spent its first slot
            await asyncio.sleep(0.001)
        assert second.reservations == 1
        paused_at = clock.now
        await first.pause(1.0)  # A got a 429
        while not all(task.done() for task in waiting):
            if budget._check is None or budget._check.done():  # time moves once B has read the row (however slow it is)
                clock.now += 0.005
            await asyncio.sleep(0.001)
    finally:
        other.dispose()
    later = sorted(task.result() for task in waiting)[1:]
    # The next slot's read may have been answered before the pause: that one slot may go; the rest
    # of B's block, reserved before the pause, does not go out in it.
    assert sum(1 for slot in later if slot < paused_at + 1.0) <= 1
    assert sorted(later)[1] >= paused_at + 1.0
    assert second.reservations >= 2  # its lost slots were not reused: new ones, after the pause


async def test_a_429_seen_by_one_process_pauses_the_other(database_url, database):
    from storage import open_database

    other = open_database(database_url, migrate=False)
    first, second = SharedBudget(database), SharedBudget(other)
    sender = Sender(per_chat_interval=0, shared=first)
    calls: list[float] = []

    async def flaky():
        calls.append(time.time())
        if len(calls) == 1:
            raise RetryAfter(1)
        return "ok"

    try:
        assert await sender.process_request(flaky, (), {}, "sendMessage", {"chat_id": 1}, None) == "ok"
        slot = await Budget(28, shared=second).acquire(SCHEDULED)
    finally:
        other.dispose()
    assert slot >= calls[0] + 1.0 and calls[1] >= calls[0] + 1.0


async def test_replies_go_first_across_a_shared_budget(database_url, database):
    budget = Budget(28, shared=SharedBudget(database))
    order: list[str] = []

    async def send(name: str, priority: int) -> None:
        await budget.acquire(priority)
        order.append(name)

    scheduled = [asyncio.create_task(send(f"scheduled {i}", SCHEDULED)) for i in range(20)]
    while len(order) < 2:
        await asyncio.sleep(0.001)
    await asyncio.gather(send("reply", REPLY), *scheduled)
    assert order.index("reply") < 2 + 7 + 1, order  # at most behind the rest of the block already reserved
