"""The inbox's rows and the chats' leases, in SQL; the rules they serve are bot/inbox.py's.

A chat's updates are taken only by the process holding the chat's lease (ChatLease), oldest
update id first. Every transaction that takes a chat's rows starts by claiming or renewing the
lease with one atomic upsert, which also locks the lease row until the transaction ends; the
holder releases the chat in the same transaction in which it finds nothing left. So a process
that stored a row and then failed to claim the chat (another process held it) did so before the
holder's last look, which then sees the row: no row is left with nobody to take it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import ChatLease, Inbox
from storage.updates import applied

# A holder renews its leases every third of this; past it, the holder is taken for gone and any
# process may take its chats (a sweep looks every few seconds): a dead holder's chats move within
# LEASE plus one sweep.
LEASE = timedelta(seconds=6)
BATCH = 100  # a chat's rows taken at once (as many as one getUpdates call brings)


@dataclass
class Stored:
    ids: set[int] = field(default_factory=set)  # to hand on (see `store`)
    claimed: dict[int, list[dict]] = field(default_factory=dict)  # chats claimed for the holder: what waits, oldest first
    at: datetime | None = None  # when they were claimed


def store(db: Database, source: str, updates: list[tuple[int, int | None, dict]], now: datetime, *,
          claim: bool = False, holder: str | None = None, worked: set[int] = frozenset()) -> Stored:
    """Commit (update id, chat id, payload) rows not applied before. The ids to hand on: the new
    ones, those of a chat still waiting (whoever holds the chat takes them), and those without a
    chat whose lease ran out (the process that stored it is gone): leased to this one. With
    `claim`, in the same transaction, their chats (but those in `worked`, which the holder is
    working already) are claimed for `holder` where no live process holds them (None: the only
    process there is, which needs no lease), and what waits for them is taken: one transaction
    to take an update in and start on it."""
    ids = [update_id for update_id, _chat, _payload in updates]
    with db.transaction() as session:
        done = applied(session, source, ids, now)  # within the 48-hour window (storage/updates.py)
        rows = [{"update_id": update_id, "chat_id": chat_id, "payload": payload, "received_at": now,
                 "lease_until": None if chat_id is not None else now + LEASE}
                for update_id, chat_id, payload in updates if update_id not in done]
        if not rows:
            return Stored()
        stored = set(session.scalars(
            _dialect(db).insert(Inbox).on_conflict_do_nothing(index_elements=["update_id"]).returning(Inbox.update_id),
            rows).all())
        waiting = {row["update_id"]: row["chat_id"] for row in rows if row["update_id"] not in stored}
        of_chats = {update_id for update_id, chat_id in waiting.items() if chat_id is not None}
        chatless = set(waiting) - of_chats
        taken = session.scalars(
            update(Inbox).where(Inbox.update_id.in_(chatless), Inbox.chat_id.is_(None), _lapsed(now))
            .values(lease_until=now + LEASE).returning(Inbox.update_id)
        ).all() if chatless else []
        claimed = {}
        if claim:
            for chat_id in sorted({row["chat_id"] for row in rows if row["chat_id"] is not None}):
                if chat_id not in worked and _hold(session, db, chat_id, holder, now):
                    claimed[chat_id] = _waiting(session, chat_id)
    return Stored(stored | of_chats | set(taken), claimed, now)


def acknowledge(session: Session, update_id: int) -> None:
    """The update is handled: out of the inbox (in the transaction that handled it, if it can)."""
    session.execute(delete(Inbox).where(Inbox.update_id == update_id))


def next_of_chat(db: Database, chat_id: int, holder: str | None, now: datetime, *, after: int | None = None,
                 release: bool = True) -> list[dict] | None:
    """The chat's waiting updates, oldest first (only those after `after`, if given), for `holder`
    (None: the only process there is): None if another live process holds the chat. With
    `release`, finding none gives the chat up."""
    with db.transaction() as session:
        if not _hold(session, db, chat_id, holder, now):
            return None
        payloads = _waiting(session, chat_id, after)
        if not payloads and release and holder is not None:
            session.execute(delete(ChatLease).where(ChatLease.chat_id == chat_id, ChatLease.holder == holder))
        return payloads


def release(db: Database, holder: str, chat_id: int) -> None:
    with db.transaction() as session:
        session.execute(delete(ChatLease).where(ChatLease.chat_id == chat_id, ChatLease.holder == holder))


def renew(db: Database, holder: str, chat_ids: set[int], update_ids: set[int], now: datetime) -> None:
    """Renew the leases on the chats and the chat-less updates this process is working on."""
    with db.transaction() as session:
        if chat_ids:  # locked in one order, as `store` claims them: no deadlock with a poller's batch
            held = session.scalars(select(ChatLease.chat_id).where(ChatLease.holder == holder, ChatLease.chat_id.in_(chat_ids))
                                   .order_by(ChatLease.chat_id).with_for_update()).all()
            if held:
                session.execute(update(ChatLease).where(ChatLease.holder == holder, ChatLease.chat_id.in_(held))
                                .values(lease_until=now + LEASE))
        if update_ids:
            session.execute(update(Inbox).where(Inbox.update_id.in_(update_ids)).values(lease_until=now + LEASE))


def unheld_chats(db: Database, now: datetime) -> list[int]:
    """Chats with updates waiting and no live holder, the longest waiting first."""
    with db.reading() as session:
        return list(session.scalars(
            select(Inbox.chat_id).outerjoin(ChatLease, ChatLease.chat_id == Inbox.chat_id)
            .where(Inbox.chat_id.is_not(None), or_(ChatLease.chat_id.is_(None), ChatLease.lease_until <= now))
            .group_by(Inbox.chat_id).order_by(func.min(Inbox.update_id))))


def forget_leases(db: Database, lapsed_before: datetime | None = None) -> None:
    """The chats' leases that ran out before `lapsed_before` gone (dead holders', of chats nobody
    wrote to since); without it, every lease: only for the one process there can be (SQLite)."""
    with db.transaction() as session:
        session.execute(delete(ChatLease).where(ChatLease.lease_until < lapsed_before) if lapsed_before else delete(ChatLease))


def claim_chatless(db: Database, now: datetime, *, everything: bool) -> list[dict]:
    """Lease to this process, in order, the waiting updates without a chat: all (`everything`: no
    other process) or those whose lease ran out."""
    with db.transaction() as session:
        query = select(Inbox).where(Inbox.chat_id.is_(None)).order_by(Inbox.update_id).with_for_update(skip_locked=True)
        if not everything:
            query = query.where(_lapsed(now))
        rows = session.scalars(query).all()
        for row in rows:
            row.lease_until = now + LEASE
        return [row.payload for row in rows]


def _hold(session: Session, db: Database, chat_id: int, holder: str | None, now: datetime) -> bool:
    """Claim the chat for `holder`, or renew its claim: one upsert, which wins only where no lease
    is, the lease is the holder's own, or it ran out. It locks the lease row to the transaction's end.
    No holder: the only process there is, which needs no lease."""
    if holder is None:
        return True
    insert = _dialect(db).insert(ChatLease).values(chat_id=chat_id, holder=holder, lease_until=now + LEASE)
    claimed = insert.on_conflict_do_update(
        index_elements=["chat_id"], set_={"holder": holder, "lease_until": now + LEASE},
        where=or_(ChatLease.holder == holder, ChatLease.lease_until <= now),
    ).returning(ChatLease.chat_id)
    return session.execute(claimed).first() is not None


def _waiting(session: Session, chat_id: int, after: int | None = None) -> list[dict]:
    query = select(Inbox.payload).where(Inbox.chat_id == chat_id).order_by(Inbox.update_id).limit(BATCH)
    if after is not None:
        query = query.where(Inbox.update_id > after)
    return list(session.scalars(query))


def _lapsed(now: datetime):
    return or_(Inbox.lease_until.is_(None), Inbox.lease_until <= now)


def _dialect(db: Database):
    return postgresql if db.engine.dialect.name == "postgresql" else sqlite
