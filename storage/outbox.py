"""The outbox: what a step said, kept from the step's transaction until Telegram confirmed it.

The process that wrote the rows sends them and deletes them; it holds a lease meanwhile. Rows
whose lease ran out belong to a process that died: the next process to sweep sends them (SQLite
has one process, so at its start it takes all), urgent ones (crisis lines) at once, the rest once
the updates waiting at the start are handled (bot/steps.py). A chat's rows
left from an earlier step are dropped when its next step is kept, urgent ones excepted: the
patient wrote again, so they have moved on, and the new step's reply says where they are (a
question they already answered is never asked again). Payloads are encoded outputs, encrypted at
rest like every text that may hold a patient's words.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import Inbox, Outbox

STALE = timedelta(days=1)  # a reply that never went out in a day would confuse more than help: dropped
log = logging.getLogger(__name__)
LEASE = timedelta(seconds=30)  # a live process has sent its replies long before this (they go before scheduled sends)
HOLD = timedelta(minutes=2)  # held back at a start, while the updates that waited are handled (bot/steps.py)


def put(session: Session, chat_id: int, payloads: list[tuple[str, bool]], now: datetime, *, superseding: bool = True) -> list[int]:
    """Keep a step's outputs (encoded, with whether each is urgent), in order; returns their ids.
    What the chat's earlier steps left unsent is superseded by this one, but for urgent rows
    (`superseding=False`: the step read `has_unsent` as false, so there is nothing to drop)."""
    if not payloads:  # nothing new (a redelivered update): what is kept stays, to be sent
        return []
    if superseding:
        session.execute(delete(Outbox).where(Outbox.chat_id == chat_id, Outbox.urgent.is_(False)))
    rows = [dict(chat_id=chat_id, payload=payload, urgent=urgent, lease_until=now + LEASE, created_at=now) for payload, urgent in payloads]
    # One statement for all of them. Its ids rise in the order the rows are given (SQLite's rowids,
    # PostgreSQL's sequence, taken row by row), whatever order RETURNING lists them in.
    return sorted(session.scalars(insert(Outbox).returning(Outbox.id), rows).all())


def has_unsent(chat_id: int) -> ColumnElement[bool]:
    """Whether the chat has replies an earlier step left unsent (that `put` would supersede), as a
    condition a step asks together with its other reads. Only the chat's patient's steps write
    them, under the patient's lock. (On PostgreSQL a step that waited for that lock sees the rows
    as they were before the wait: those of the step it waited for are being sent by that step.)"""
    return exists().where(Outbox.chat_id == chat_id, Outbox.urgent.is_(False))


def confirmed(db: Database, ids: list[int]) -> None:
    """Sent (or never to be sent): gone."""
    if ids:
        with db.transaction() as session:
            session.execute(delete(Outbox).where(Outbox.id.in_(ids)))


def drop_stale(session: Session, now: datetime) -> int:
    return session.execute(delete(Outbox).where(Outbox.created_at < now - STALE)).rowcount


def orphans(db: Database, now: datetime, *, everything: bool = False, urgent: bool | None = None,
            lease: timedelta = LEASE) -> list[tuple[int, list[tuple[int, str]]]]:
    """Rows a dead process left (lease over; `everything` when this is the only process), as
    (chat, rows in order): every chat's urgent rows first, then the rest; only the urgent or only
    the others when `urgent` says so. Leased to this process now, for `lease`."""
    with db.transaction() as session:
        if stale := drop_stale(session, now):
            log.warning("dropped %d replies that could not be sent for a day", stale)
        query = select(Outbox).order_by(Outbox.urgent.desc(), Outbox.id).with_for_update(skip_locked=True)
        if not everything:
            query = query.where(Outbox.lease_until <= now)
        if urgent is not None:
            query = query.where(Outbox.urgent.is_(urgent))
        return _leased(session.scalars(query).all(), now + lease)


def still_kept(db: Database, ids: list[int], held_until: datetime, now: datetime, *, answers_before: datetime | None = None
               ) -> tuple[list[tuple[int, list[tuple[int, str]]]], datetime | None]:
    """Of the rows `orphans` leased until `held_until`, those no later step superseded and no
    other process took meanwhile (its lease would differ), as `orphans` gives them; leased again.
    While an update received before `answers_before` still waits in the inbox (a dead process's,
    not yet taken over: it may answer them), none yet: their hold is renewed, and its new end is
    the second value (None when they are given)."""
    if not ids:
        return [], None
    with db.transaction() as session:
        if answers_before is not None and session.scalar(select(Inbox.update_id).where(Inbox.received_at <= answers_before).limit(1)) is not None:
            renewed = now + HOLD
            session.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.lease_until == held_until).values(lease_until=renewed))
            return [], renewed
        query = (select(Outbox).where(Outbox.id.in_(ids), Outbox.lease_until == held_until)
                 .order_by(Outbox.urgent.desc(), Outbox.id).with_for_update(skip_locked=True))
        return _leased(session.scalars(query).all(), now + LEASE), None


def _leased(rows: list[Outbox], until: datetime) -> list[tuple[int, list[tuple[int, str]]]]:
    groups: dict[tuple[bool, int], list[tuple[int, str]]] = {}  # (urgent, chat) in the order met
    for row in rows:
        row.lease_until = until
        groups.setdefault((row.urgent, row.chat_id), []).append((row.id, row.payload))
    return [(chat_id, kept) for (_urgent, chat_id), kept in groups.items()]
