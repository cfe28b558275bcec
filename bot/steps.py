"""One update, one unit of work; and the replies a killed process left behind.

`answer` runs in a worker thread: one transaction decides whether the clinicians' desk answers
the update and, if not, runs the patient's step, keeps its replies in the outbox and takes the
update out of the inbox. The handler then sends the replies and confirms them (bot/telegram.py).
A process killed in between leaves them in the outbox. The next start sends the urgent ones
first (`resend_urgent`), the rest once the updates that waited for it are handled (`resend_held`),
so what a patient answered meanwhile supersedes the question; SQLite has one process, so it takes
all. On PostgreSQL `sweep` also sends, every few seconds, rows whose writer's lease ran out (a live
process's rows are never sent twice).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import inbox
from bot.delivery import deliver
from clinic.desk import Desk
from dialogs import charts, records
from dialogs.engine import Engine, NotInvited
from dialogs.io import Command, Inbound, Output, Who, decode, encode
from scheduler.outbound import blocked
from storage import enrollment, outbox
from storage.retry import retrying
from storage.models import Patient

log = logging.getLogger(__name__)


async def confirmed(engine: Engine, ids: list[int]) -> None:
    """Telegram took these outbox rows (or they are never to be sent): out of the outbox."""
    if ids:
        await asyncio.to_thread(outbox.confirmed, engine.db, ids)


@dataclass(frozen=True)
class Answered:
    outputs: list[Output]
    kept: list[int] = field(default_factory=list)  # their outbox rows, to confirm once sent
    acknowledged: bool = False  # the update is out of the inbox already


def answer(desk: Desk, engine: Engine, inbound: Inbound, chat_id: int) -> Answered:
    """The update's unit of work, one transaction: whether the desk answers it; if not, the
    patient's step with all it recorded, its replies kept in the outbox, and the update out of
    the inbox. (A clinician's commands open their own transactions: a report renders on a
    read-only snapshot, and nothing of theirs is kept; their update leaves the inbox after.)"""
    signer = engine.signer  # loaded before the transaction: the first load may write the key
    who = inbound.who

    def unit(session) -> Answered | None:
        # One read for what the step needs first: the patient (locked), whether the desk may answer
        # instead, and whether earlier replies wait unsent. Someone new reads it the long way.
        known = records.arriving(session, who.channel, who.external_id,
                                 enrollment.is_verified_clinician(who.external_id), outbox.has_unsent(chat_id))
        patient, (clinician, unsent) = (known.patient, known.asked) if known is not None else (None, (True, True))
        opens_invitation = isinstance(inbound.event, Command) and inbound.event.name == "start" and bool(inbound.event.args)
        if (clinician or opens_invitation) and desk.concerns(session, inbound):
            return None
        outputs = engine.step(session, inbound, signer, patient=patient)
        kept = outbox.put(session, chat_id, [(encode(o), is_urgent(o)) for o in outputs], engine.clock(), superseding=unsent)
        if inbound.update_id is not None:
            inbox.acknowledge(session, inbound.update_id)
        return Answered(outputs, kept, acknowledged=True)

    try:
        # A busy or lost database: the whole unit again, after a pause. If a commit went through
        # unseen, the retry finds the update applied and says nothing; its replies are in the outbox.
        answered = retrying(engine.db, unit)
    except NotInvited:  # rolled back: nothing of theirs is stored
        return Answered(engine.not_invited(inbound))
    if answered is not None:
        return replace(answered, outputs=charts.drawn(answered.outputs))  # committed: now the slow drawing
    outputs = desk.handle(inbound)
    return Answered(outputs if outputs is not None else engine.handle(inbound))  # (the invitation went meanwhile)


@dataclass(frozen=True)
class Held:
    """Outbox rows a stopped process left, leased to this process until `until`, since `at`."""
    ids: list[int] = field(default_factory=list)
    until: datetime | None = None
    at: datetime | None = None

    PATIENCE = timedelta(minutes=5)  # for the updates that came before them, at most


async def resend_urgent(bot, engine: Engine, *, everything: bool, hold: bool = True) -> Held:
    """At start, before any update: send at once the urgent replies (crisis lines) a stopped
    process kept and never sent; the other rows are held back for `resend_held` (leased for
    longer meanwhile, so no sweep sends them early). `everything`: this is the only process (SQLite)."""
    now = engine.clock()
    await _send(bot, engine, await asyncio.to_thread(outbox.orphans, engine.db, now, everything=everything, urgent=True))
    if not hold:
        return Held()
    held = await asyncio.to_thread(outbox.orphans, engine.db, now, everything=everything, urgent=False, lease=outbox.HOLD)
    return Held([row_id for _chat, rows in held for row_id, _payload in rows], now + outbox.HOLD, now)


async def resend_held(bot, engine: Engine, held: Held, *, wait: float = 1.0) -> Held:
    """Once the updates that came before them are handled (a dead process's are taken over when
    their lease runs out): send what `resend_urgent` held back and no step superseded meanwhile.
    A patient who answered while the bot was down gets their next question, not the one they
    answered again. With `wait`, tries again every so many seconds until then; without, returns
    what still waits."""
    while held.ids:
        now = engine.clock()
        patient = held.at is not None and now < held.at + Held.PATIENCE
        kept, renewed = await asyncio.to_thread(outbox.still_kept, engine.db, held.ids, held.until, now,
                                                answers_before=held.at if patient else None)
        if renewed is None:
            await _send(bot, engine, kept)
            return Held()
        held = replace(held, until=renewed)
        if not wait:
            return held
        await asyncio.sleep(wait)
    return held


async def caught_up(app) -> None:
    """The transport has handled the updates that waited for this start: what was held back goes,
    then the scheduled sends may start (bot/telegram.py). If the database fails now, the replies go
    at the next start (or, on PostgreSQL, the next sweep once their lease is over)."""
    try:
        await resend_held(app.bot, app.bot_data["engine"], app.bot_data.pop("held_back", Held()))
    except Exception:
        log.exception("could not send the replies a stopped process left")
    finally:
        if (event := app.bot_data.get("caught_up")) is not None:
            event.set()


async def _send(bot, engine: Engine, orphans: list[tuple[int, list[tuple[int, str]]]]) -> int:
    sent = 0
    for chat_id, rows in orphans:
        ids = [row_id for row_id, _payload in rows]
        try:
            outputs = await asyncio.to_thread(charts.drawn, [decode(payload) for _row_id, payload in rows])
            await deliver(bot, engine, chat_id, outputs)
            sent += len(rows)
        except Forbidden:
            pass  # blocked since: nothing to resend
        except BadRequest as error:  # it would fail the same way every time
            log.warning("dropped %d kept replies to chat %s that Telegram refused: %s", len(rows), chat_id, error)
        except TelegramError:
            log.warning("could not resend %d kept replies to chat %s; trying again later", len(rows), chat_id)
            continue
        except Exception:  # one chat's trouble must not hold up the others'
            log.exception("could not resend %d kept replies to chat %s", len(rows), chat_id)
            continue
        await confirmed(engine, ids)
    if sent:
        log.info("resent %d replies a stopped process had not sent", sent)
    return sent


def is_urgent(output: Output) -> bool:
    return bool(getattr(output, "urgent", False))


def mark_unreachable(engine: Engine, who: Who) -> None:
    """Telegram said the patient blocked the bot (403) when a reply went out."""
    now = engine.clock()
    with engine.db.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.channel == who.channel, Patient.external_id == who.external_id)).one_or_none()
        if patient is None:
            return
        blocked(session, patient, now)


async def sweep(bot, engine: Engine, every: float = outbox.LEASE.total_seconds() / 3) -> None:
    """Resend, for as long as the bot runs, what other processes died before sending: crisis lines
    at once, the rest a round later, as at a start: the patient's answer, which Telegram may only
    now be delivering, supersedes the question it answers."""
    held = Held()
    while True:
        await asyncio.sleep(every)
        try:
            held = await resend_held(bot, engine, held, wait=0)  # (what still waits for an update: next round)
            taken = await resend_urgent(bot, engine, everything=False, hold=not held.ids)
            held = held if held.ids else taken
        except Exception:  # the database away for a moment: the next round tries again
            log.exception("the outbox sweep failed")
