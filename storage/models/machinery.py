"""What keeps a conversation going: dialog state, button and data keys, updates received and applied, the shared send
budget, how the bot gets its updates."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import text
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedJSON, EncryptedText
from storage.models.base import Base, utcnow


class DialogState(Base):
    """Where a patient is: the open dialog, its state and data, and the dialogs it interrupted.

    Written in the same transaction as whatever the step recorded, so a crash between two
    messages resumes at the same step.
    """

    __tablename__ = "dialog_states"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    dialog: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    # The open dialog's working data (what was asked and answered so far: the patient's words).
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    # Suspended dialogs to return to, innermost last: [{"dialog", "state", "data", "on_return"}].
    stack: Mapped[list[Any]] = mapped_column(EncryptedJSON, default=list)
    # Counts the patient's moves from state to state; a button answers the step it was shown at.
    step: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)  # set by the safety screen
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ButtonKey(Base):
    """A key that signs the buttons we show (dialogs/buttons.py), shared by every bot process.
    The newest signs; older ones still verify what is on screen, so a key can be rotated."""

    __tablename__ = "button_keys"

    version: Mapped[str] = mapped_column(String(1), primary_key=True)  # the first character of the callback data
    key: Mapped[str] = mapped_column(String(64))  # 32 random bytes, base64
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataKey(Base):
    """One person's own data key: what they write is encrypted with it (storage/crypto.py), and
    erasing them destroys it, which leaves every other copy of their words unreadable. Known by
    where they talk to us, not by patient row, so an update can be encrypted before its sender
    is a patient. Stored wrapped (Fernet-encrypted) with PAINCOACH_DATA_KEY."""

    __tablename__ = "data_keys"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # random, named in every value it encrypts
    channel: Mapped[str] = mapped_column(String(16))  # as Patient.channel and Patient.external_id
    external_id: Mapped[str] = mapped_column(String(64))
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Telegram updates applied in the last 48 hours (storage/updates.py), so a redelivered
    update changes nothing. Only recent ones count: Telegram keeps an update at most 24 hours,
    and its ids may start again after a week without updates. A new message also carries its
    (chat, message id), which identifies it whatever its update id."""

    __tablename__ = "processed_updates"
    # A message is applied once whatever its update id: unique where it is known.
    __table_args__ = (Index("ix_processed_updates_message", "source", "chat_id", "message_id", unique=True,
                            sqlite_where=text("message_id IS NOT NULL"), postgresql_where=text("message_id IS NOT NULL")),)

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class Inbox(Base):
    """Telegram updates received but not yet handled. Kept until handled, so a killed process
    handles them on restart instead of losing them (Telegram forgets what it delivered).
    An update of a chat waits here until the process holding the chat (ChatLease) takes it, the
    chat's oldest first. `lease_until`, for an update without a chat only: until then the process
    that holds it is handling it; past it, or without one, any process may take it (bot/inbox.py)."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_chat_id_update_id", "chat_id", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)  # the update as Telegram sent it: what they wrote
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # None: an update without a chat (an inline query)


class ChatLease(Base):
    """Which process works a chat's updates in the inbox, until when: one process at a time, so a
    chat's updates are handled one after the other in update-id order whichever process received
    them. The holder renews the lease while it works and deletes the row when the chat has nothing
    left; a lease past `lease_until` is a dead holder's, and any process may take the chat."""

    __tablename__ = "chat_leases"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))  # the process: its pid and a random part, new at each start
    lease_until: Mapped[datetime] = mapped_column()


class Outbox(Base):
    """What a step said, written in the step's transaction and deleted once Telegram confirmed
    it: a process killed in between sends it on restart, so no reply is lost (crisis lines
    above all). `lease_until`: until then the process that wrote it is sending it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)  # the order they go out in
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    payload: Mapped[str] = mapped_column(EncryptedText)  # one output as JSON (dialogs.io.encode): may hold the patient's words
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())  # crisis lines: resent first, never superseded
    lease_until: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendBudget(Base):
    """Telegram's overall limit is per bot, not per process: bot processes sharing a database
    take their send slots from this one row (next_free is seconds since the epoch)."""

    __tablename__ = "send_budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    next_free: Mapped[float] = mapped_column(Float, default=0.0)


class Deployment(Base):
    """How this bot gets its updates from Telegram, "polling" or "webhook": one row (id 1), written
    by `paincoach run`. A poller deletes a webhook only when this says polling (or it is told to
    take over), so a stray poller cannot take a webhook deployment off the air."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
