"""What the safety screen found, the alerts it raised and their deliveries, and the audit of who saw or took what."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base, utcnow


class SafetyEvent(Base):
    """A message the safety screen flagged. Holds the content phrase that matched, not the text."""

    __tablename__ = "safety_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))  # crisis | overdose_taken | ambiguous | abuse | eating_disorder | red_flag
    phrase: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    dialog: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(8))  # "list", "model" or "answer" (to the direct question)
    model_version: Mapped[str | None] = mapped_column(String(64))  # the screen's classifier at the time
    model_score: Mapped[float | None] = mapped_column(Float)  # its probability, when the model raised it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """Something a person at the clinic must see now: a crisis, a red flag, a severe PHQ-4. One
    alert per episode: the patient's further messages join it until it is acknowledged
    (storage/alerts.py)."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "acknowledged_at", "escalated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    # An alert outlives the patient's deletion of their data (the clinic may still have to act on
    # it): the link is cleared, the study code stays, the words go.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"), index=True)
    study_code: Mapped[str | None] = mapped_column(String(12), index=True)  # never given to anyone again
    category: Mapped[str] = mapped_column(String(16))  # crisis | red_flag | phq4_severe | eating_disorder
    words: Mapped[str | None] = mapped_column(EncryptedText)  # the patient's message, only if the clinic opts in
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # messages in the episode
    last_message_at: Mapped[datetime | None]  # the latest of them
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("clinicians.id"))
    acknowledged_actor: Mapped[str | None] = mapped_column(String(64))  # as in the audit: "clinician:<id>" or "cli:<user>"
    acknowledged_note: Mapped[str | None] = mapped_column(EncryptedText)  # the command line's --note
    escalated_at: Mapped[datetime | None]  # the latest round: repeated, and sent to the fallback contact
    escalations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalation_due_at: Mapped[datetime | None] = mapped_column(index=True)  # the next round; None: no more


class AlertDelivery(Base):
    """One alert to one chat, retried until Telegram confirms it (at least once)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "chat_id", "round"), Index("ix_alert_deliveries_due", "sent_at", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    round: Mapped[int] = mapped_column(Integer, default=0)  # 0 at once, then each escalation's number
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # calls to Telegram: the send, then edits
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)  # the send's, then the next edit's
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # Telegram's, to edit the copy
    shown_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # the episode's count the copy shows
    acknowledged_shown_at: Mapped[datetime | None]  # the copy edited to show who acknowledged it (button gone)


class AuditEntry(Base):
    """Who saw or took what: every export, every clinician view, every deletion. Study codes and
    counts only, never what a patient wrote."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "cli:<user>" or "clinician:<id>"
    action: Mapped[str] = mapped_column(String(32))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)  # a study code, or empty for many
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rows: Mapped[int | None] = mapped_column(Integer)
