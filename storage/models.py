"""The tables. One class per concept; every later feature adds its own table here.

Times are stored as timezone-aware UTC. Free text a patient wrote lives only in
columns named for what it is (pain story, preferred name), so a later deletion can find it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Per-clinic settings (crisis resources by country, and the defaults later features add).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    # Where the patient talks to us: "telegram" (external_id = Telegram user id) or "terminal".
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    # Country of the Telegram language_code, used for crisis resources before a timezone is known.
    language_territory: Mapped[str | None] = mapped_column(String(2))
    consent: Mapped[str] = mapped_column(String(16), default="pending")  # pending | given | refused
    consent_at: Mapped[datetime | None]
    adult: Mapped[bool | None]
    timezone: Mapped[str | None] = mapped_column(String(64))  # an IANA name, never an offset
    country: Mapped[str | None] = mapped_column(String(2))  # overrides the timezone's country
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    onboarded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clinic: Mapped[Clinic] = relationship()


class PainStory(Base):
    """The story the clinic asks for at the start; one row per patient, kept current."""

    __tablename__ = "pain_stories"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    where_it_hurts: Mapped[str | None] = mapped_column(Text)
    since_when: Mapped[str | None] = mapped_column(Text)
    what_makes_it_worse: Mapped[str | None] = mapped_column(Text)
    what_has_been_tried: Mapped[str | None] = mapped_column(Text)
    good_day: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DialogState(Base):
    """Where a patient is: the open dialog, its state and data, and the dialogs it interrupted.

    Written in the same transaction as whatever the step recorded, so a crash between two
    messages resumes at the same step.
    """

    __tablename__ = "dialog_states"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    dialog: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Suspended dialogs to return to, innermost last: [{"dialog", "state", "data", "on_return"}].
    stack: Mapped[list[Any]] = mapped_column(default=list)
    # Counts every question asked; buttons are bound to the step they were shown at.
    step: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)  # set by the safety screen
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Button(Base):
    """An inline button we showed. Its id is the opaque callback data Telegram echoes back."""

    __tablename__ = "buttons"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    # A dialog answer is bound to the step it was shown at; an action (e.g. resume) stands alone.
    step: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str | None] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # filled in once the message is sent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Telegram update ids already applied, so a redelivered update changes nothing."""

    __tablename__ = "processed_updates"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SafetyEvent(Base):
    """A message the safety screen flagged. Holds the content phrase that matched, not the text."""

    __tablename__ = "safety_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))  # crisis | red_flag
    phrase: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    dialog: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
