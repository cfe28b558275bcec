"""The inbox: every update Telegram handed us is committed here before Telegram may forget it, and
taken out once handled, so a killed process handles it on its next start (or another process
does) instead of losing it. The inbox is also the queue: any number of processes on one database
share the work, one chat at a time.

Both ways in use it: long polling (bot/polling.py) stores a fetched batch before moving its offset
past it; the webhook (bot/webhook.py), on every process behind any load balancer, stores an update
before answering Telegram 200. Then the process that stored it works its chat: it claims the
chat's lease (storage/inbox.py) in the transaction that stores the update, hands the chat's
waiting updates, oldest update id first, to the Application, takes each out of the inbox when
handled, and gives the chat up once none is left. If another live process holds the chat, this
one leaves the update to it: the holder looks for more in the transaction that gives the chat up,
so it takes the update after those before it. Meanwhile each process renews the leases on the
chats it works, and every two seconds sweeps: takes chats with updates waiting and no live holder
(a holder killed mid-work, within its 6 s lease and a sweep). Within a process chats run side by
side and one chat in order (bot/telegram.py's update processor): a chat sending a burst does not
hold up the others. SQLite has one process: it takes the same path with no lease to claim, and
sweeps only now and then, for a chat whose worker failed. Updates without a chat (an inline
query) have no order to keep: each is leased by itself to the process that stored it, and taken
over when that lease runs out.

Order within a chat. Telegram numbers a bot's updates in increasing order. Over parallel webhook
connections and several processes they may be stored in any order: the holder takes a chat's
waiting updates in update-id order, whichever process stored them, so updates that wait together
are handled in update-id order, and a chat's updates never run side by side. An update stored
only after a later one of the same chat was handled (it came over a slow connection) is still
handled, after it: the engine applies each update id once and drops nothing for being late.

A holder that stalls past its lease (its database away for longer than the lease) may find its
chat taken over: the new holder starts at the oldest update still waiting, which the old one may
be handling at that moment; the engine applies an update id once (storage/updates.py), so one of
the two applies it and the other only shows the patient where they are, and neither goes on to
the next update before this one is applied. The old holder takes nothing more at its next look.
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application

from storage import inbox as rows
from storage.db import Database

log = logging.getLogger(__name__)
RENEW_EVERY = rows.LEASE.total_seconds() / 3  # and the sweep for chats no live process holds
ALONE_SWEEP_EVERY = 5.0  # the one process there is (SQLite): a chat whose worker failed (the file locked a moment) is looked for again


def keep(db: Database, updates: Iterable[Update], *, source: str = "telegram") -> set[int]:
    """Commit the updates to the inbox; returns the ids to hand to `Intake.handle` now: the new
    ones, those of a chat still waiting (whichever process holds the chat takes them), and those
    without a chat whose holder is gone. Not those applied before."""
    return rows.store(db, source, [(u.update_id, chat_of(u), u.to_dict()) for u in updates], _now()).ids


def acknowledge(session: Session, update_id: int) -> None:
    """The update is handled: out of the inbox (in the transaction that handled it, if it can)."""
    rows.acknowledge(session, update_id)


def chat_of(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat is not None else None


class Intake:
    """Works the inbox for one process: the chats of the updates it stores or finds unheld, one
    task per chat, and the chat-less updates it stores, each by itself."""

    def __init__(self, app: Application, db: Database, *, holder: str | None = None):
        self.app = app
        self.db = db
        self.holder = holder or f"{os.getpid()}-{secrets.token_hex(6)}"  # new at each start: a restart holds nothing
        self._chats: dict[int, tuple[asyncio.Task, asyncio.Event]] = {}  # chat -> its worker, and its wake-up
        self._leased: dict[int, datetime] = {}  # chat -> when its lease was last claimed or renewed
        self._handling: set[asyncio.Task] = set()  # chat-less updates being handled
        self._in_flight: set[int] = set()
        self._stopping = False
        self._alone = False  # the only process there can be (SQLite): no leases to take
        self._upkeep: asyncio.Task | None = None
        app.bot_data.setdefault("handled", set())  # updates whose unit of work took them out of the inbox

    async def start(self, *, everything: bool) -> int:
        """Work, first, what stopped processes left in the inbox: `everything` when no other
        process can be holding any (SQLite), else what no live process holds. Returns how many
        chats and chat-less updates."""
        self._alone = everything
        # Alone, every lease is a dead run's; else those that ran out a while ago (a dead holder's
        # chat nobody wrote to since: a live one would have taken it).
        await asyncio.to_thread(rows.forget_leases, self.db, None if everything else _now() - rows.LEASE)
        leftovers = await self._take_chatless(everything=everything) + await self._sweep()
        if leftovers:
            log.info("handling what the last run left: %d chat(s) and update(s)", leftovers)
        self._upkeep = asyncio.create_task(self._keep_up(alone=everything))
        return leftovers

    async def take(self, updates: list[Update], *, source: str = "telegram") -> None:
        """Commit the updates to the inbox (what the receiver and the poller do before Telegram may
        forget them), and work them: their chats, claimed in the same transaction (here, unless
        another live process holds them: it takes them), and those without a chat."""
        worked = set(self._chats)
        stored = await asyncio.to_thread(rows.store, self.db, source, [(u.update_id, chat_of(u), u.to_dict()) for u in updates],
                                         _now(), claim=True, holder=self._holding, worked=worked)
        for chat_id, waiting in stored.claimed.items():
            self._leased[chat_id] = stored.at
            self._wake(chat_id, waiting)
        for update in updates:
            chat_id = chat_of(update)
            if update.update_id not in stored.ids or chat_id in stored.claimed:
                continue
            if chat_id is None or chat_id in worked:  # (a worker done meanwhile: a new one claims the chat)
                self.handle(update)
            # else another live process holds the chat: it takes the update after those before it

    @property
    def _holding(self) -> str | None:
        return None if self._alone else self.holder

    def handle(self, update: Update) -> None:
        """An update stored (`keep`): its chat is worked (here, unless another process holds it)."""
        if (chat_id := chat_of(update)) is not None:
            self._wake(chat_id)
            return
        if update.update_id in self._in_flight:  # stored again (a resend, a repeated batch): once is enough
            return
        self._in_flight.add(update.update_id)
        task = asyncio.create_task(self._chatless(update))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def settled(self, timeout: float = 30) -> None:
        """Until what it works on now is handled (or failed), `timeout` seconds at most: what
        arrives meanwhile is not waited for (on a busy webhook that would be for ever)."""
        if pending := self._handling | {task for task, _wake in self._chats.values()}:
            await asyncio.wait(pending, timeout=timeout)

    async def stop(self, timeout: float = 10) -> None:
        """Let the updates being handled finish, then give their chats up; take nothing more.
        (What does not finish stays in the inbox, its lease running out.)"""
        self._stopping = True
        for _task, wake in self._chats.values():
            wake.set()
        if pending := self._handling | {task for task, _wake in self._chats.values()}:
            await asyncio.wait(pending, timeout=timeout)
        if self._upkeep is not None:
            self._upkeep.cancel()
            await asyncio.gather(self._upkeep, return_exceptions=True)

    # -- one chat ----------------------------------------------------------------------------

    def _wake(self, chat_id: int, claimed: list[dict] | None = None) -> None:
        """Work the chat here: `claimed`, its waiting updates if the chat was claimed for this
        process with them; else the worker claims it itself."""
        if self._stopping:  # claimed as the process stops: given up at once, not left to lapse
            if claimed is not None and not self._alone:
                task = asyncio.create_task(asyncio.to_thread(rows.release, self.db, self.holder, chat_id))
                self._handling.add(task)
                task.add_done_callback(self._handling.discard)
            return
        if chat_id in self._chats:  # worked here already: it looks again before giving the chat up
            self._chats[chat_id][1].set()
            return
        wake = asyncio.Event()
        self._chats[chat_id] = (asyncio.create_task(self._work(chat_id, wake, claimed)), wake)

    async def _work(self, chat_id: int, wake: asyncio.Event, claimed: list[dict] | None = None) -> None:
        """Hand the chat's waiting updates to the Application in update-id order while this process
        holds the chat. Updates stored here meanwhile (`wake`) join those on their way at once, so
        the flood guard sees a burst as it arrives; once all handed are handled, it looks at the
        whole chat again (a late update with a lower id; one another process stored) and gives the
        chat up, in that transaction, when none is left. Alone (SQLite) no other process stores
        any: that last look is needed only if this one stored some since its last whole look."""
        running: set[asyncio.Task] = set()
        last: int | None = None
        looked = False  # at the whole chat, since the last wake-up
        try:
            while True:
                looked = looked and not wake.is_set()
                wake.clear()
                if self._stopping:
                    break
                if not running and looked and self._alone:
                    return
                if claimed:  # taken with the update that woke this worker (Intake.take): a whole look
                    payloads, claimed, looked = claimed, None, True
                else:
                    try:
                        self._leased[chat_id] = now = _now()
                        payloads = await asyncio.to_thread(rows.next_of_chat, self.db, chat_id, self._holding, now,
                                                           after=last if running else None, release=not running)
                    except Exception as error:  # the database away: its lease runs out, and a sweep takes the chat
                        log.warning("could not take chat updates from the inbox (%s)", type(error).__name__)
                        break
                    looked = looked or not running
                if payloads is None or self._stopping:  # another live process holds the chat: it takes what waits
                    break
                for payload in payloads:
                    update = Update.de_json(payload, self.app.bot)
                    running.add(asyncio.create_task(self._process(update)))  # in order: the processor keeps it
                    last = update.update_id
                if not running:
                    if wake.is_set():  # stored here just now: claim the chat again
                        continue
                    return  # nothing left: given up in the same transaction
                await _all_done_or(running, wake)
                running = {task for task in running if not task.done()}
            if running:
                await asyncio.wait(running)
            if self._stopping and not self._alone:
                await asyncio.to_thread(rows.release, self.db, self.holder, chat_id)  # others take it at once
        except Exception:
            log.exception("working a chat's updates failed; a sweep takes them up again")
        finally:
            del self._chats[chat_id]
            self._leased.pop(chat_id, None)

    async def _process(self, update: Update) -> None:
        processor = self.app.update_processor
        await processor.process_update(update, self.app.process_update(update))
        try:
            await asyncio.to_thread(self._done, update.update_id)
        except Exception as error:  # still in the inbox: handled again (the engine applies it once)
            log.warning("could not take update %s out of the inbox (%s)", update.update_id, type(error).__name__)

    # -- updates without a chat --------------------------------------------------------------

    async def _chatless(self, update: Update) -> None:
        try:
            await self._process(update)
        finally:
            self._in_flight.discard(update.update_id)

    async def _take_chatless(self, *, everything: bool) -> int:
        payloads = await asyncio.to_thread(rows.claim_chatless, self.db, _now(), everything=everything)
        for payload in payloads:
            self.handle(Update.de_json(payload, self.app.bot))
        return len(payloads)

    # -- upkeep ------------------------------------------------------------------------------

    async def _sweep(self) -> int:
        unheld = [chat for chat in await asyncio.to_thread(rows.unheld_chats, self.db, _now()) if chat not in self._chats]
        for chat_id in unheld:
            self._wake(chat_id)
        return len(unheld)

    async def _keep_up(self, *, alone: bool) -> None:
        """Renew the leases and sweep, every few seconds; alone (SQLite), no lease needs renewing
        (a lapsed lease is still the holder's to renew), and a sweep now and then is enough."""
        renewing = None if alone else asyncio.create_task(self._renewing())
        try:
            while True:
                await asyncio.sleep(ALONE_SWEEP_EVERY if alone else RENEW_EVERY)
                await self._sweep_once()
        finally:
            if renewing is not None:
                renewing.cancel()
                await asyncio.gather(renewing, return_exceptions=True)

    async def _renewing(self) -> None:
        """Renew what this process holds, apart from the sweep and on a thread of its own: a busy
        round of steps (every worker thread taken) must not let a lease run out under a chat still
        being worked, or another process would work it too."""
        loop = asyncio.get_running_loop()
        own_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-leases")
        try:
            while True:
                await asyncio.sleep(RENEW_EVERY)
                try:
                    held = self._in_flight - self.app.bot_data["handled"]  # (those its step took out are gone)
                    now = _now()  # (a chat claimed in the last second needs no renewal yet)
                    chats = {chat for chat in self._chats if self._leased.get(chat, now) <= now - timedelta(seconds=1)}
                    if chats or held:
                        await loop.run_in_executor(own_thread, rows.renew, self.db, self.holder, chats, held, now)
                        self._leased.update(dict.fromkeys(chats & set(self._chats), now))
                except Exception as error:  # the database away for a moment: the next round tries again
                    log.warning("could not renew the inbox leases (%s)", type(error).__name__)
        finally:
            own_thread.shutdown(wait=False)

    async def _sweep_once(self) -> None:
        try:
            taken = await self._take_chatless(everything=False) + await self._sweep()
            if taken:
                log.info("took over %d chat(s) and update(s) no live process held", taken)
        except Exception as error:  # the database away for a moment: the next round tries again
            log.warning("could not sweep the inbox (%s)", type(error).__name__)

    def _done(self, update_id: int) -> None:
        handled: set[int] = self.app.bot_data["handled"]
        if update_id in handled:  # its unit of work took it out already
            handled.discard(update_id)
            return
        with self.db.transaction() as session:
            acknowledge(session, update_id)


async def _all_done_or(running: set[asyncio.Task], wake: asyncio.Event) -> None:
    """Until every task in `running` is done, or `wake` is set."""
    finished = asyncio.ensure_future(asyncio.wait(running))
    woken = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({finished, woken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        finished.cancel()  # (not the tasks it waits for)
        woken.cancel()


def _now() -> datetime:
    return datetime.now(timezone.utc)
