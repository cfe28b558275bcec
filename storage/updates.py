"""Which Telegram updates were applied already: within a window, by update id, and a new
message also by (chat, message id).

Telegram keeps an undelivered update for 24 hours and may start its ids again (or jump) after a
week without updates, so an id seen more than WINDOW ago is a new update, not a repeat, and ids
older than that are pruned (storage/retention.py). A message's id is Telegram's own within its
chat: a message delivered again under another update id is still recognized.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import ProcessedUpdate

WINDOW = timedelta(hours=48)


def applied(session: Session, source: str, ids: list[int], now: datetime) -> set[int]:
    """Of these update ids, those applied within the window."""
    return set(session.scalars(select(ProcessedUpdate.update_id).where(
        ProcessedUpdate.source == source, ProcessedUpdate.update_id.in_(ids), ProcessedUpdate.processed_at > now - WINDOW)))


def first_time(session: Session, source: str, update_id: int, now: datetime, *,
               chat_id: int | None = None, message_id: int | None = None) -> bool:
    """Record the update as applied now; False if it (or, for a new message, the same message)
    was applied within the window. Safe between processes: the insert itself decides (a unique
    key on the update id, and on a message), so two processes never both apply one update."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = (dialect.insert(ProcessedUpdate)
              .values(source=source, update_id=update_id, processed_at=now, chat_id=chat_id, message_id=message_id)
              .on_conflict_do_nothing()  # another process applied it (or the message) a moment ago
              .returning(ProcessedUpdate.update_id))
    # Nearly every update is new: one statement says so. Only when it meets an earlier row is that
    # row looked at (a repeat within the window, or an id come round again after it).
    if session.execute(insert).first() is not None:
        return True
    recent = now - WINDOW
    row = session.get(ProcessedUpdate, (source, update_id), with_for_update=True)
    if row is not None and row.processed_at > recent:
        return False
    if message_id is not None and session.scalar(select(exists().where(
            ProcessedUpdate.source == source, ProcessedUpdate.chat_id == chat_id,
            ProcessedUpdate.message_id == message_id, ProcessedUpdate.processed_at > recent))):
        return False
    if row is not None:  # the id came round again after Telegram started over: a new update
        row.processed_at, row.chat_id, row.message_id = now, chat_id, message_id
        return True
    return session.execute(insert).first() is not None


def prune(session: Session, now: datetime) -> int:
    """Forget what fell out of the window; returns how many were forgotten."""
    return session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at <= now - WINDOW)).rowcount
