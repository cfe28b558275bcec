"""Check-ins: schedules, the prompts planned from them, and the answers given (scored on arrival)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Schedule(Base):
    """When a patient answers an instrument: a local wall-clock time, every day or on a weekday."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("patient_id", "instrument"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(16))
    local_time: Mapped[str] = mapped_column(String(5))  # "09:00" in the patient's time zone
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday; None = every day
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    anchor: Mapped[date | None] = mapped_column(Date)  # a local date in a week it fires (for every 2 weeks)


class Prompt(Base):
    """One scheduled sitting (one or more instruments due at the same time) and its delivery log.

    status: scheduled → claimed → sent → answered, or snoozed (→ sent again), expired, failed,
    blocked, unknown (claimed by a process that died before Telegram confirmed: never resent),
    capped (over the patient's daily cap on what the bot sends on its own: not sent, see `reason`).
    """

    SEND_BEGUN = ("claimed", "unknown")  # the patient may have the invitation: its buttons work

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("patient_id", "scheduled_for"),
        Index("ix_prompts_status_due", "status", "scheduled_for"),
        Index("ix_prompts_status_remind", "status", "remind_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    # "checkin" (planned from schedules), "flare_followup" (48 hours after a flare began) or
    # "pacing_break" (the planned break in an activity block)
    kind: Mapped[str] = mapped_column(String(16), default="checkin", server_default="checkin")
    flare_episode_id: Mapped[int | None] = mapped_column(ForeignKey("flare_episodes.id", ondelete="CASCADE"))
    pacing_activity_id: Mapped[int | None] = mapped_column(ForeignKey("pacing_activities.id", ondelete="CASCADE"))
    instruments: Mapped[list[Any]] = mapped_column()
    local_date: Mapped[date] = mapped_column(Date)
    scheduled_for: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]  # the patient pressed Start: no reminder, no second invitation
    answered_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]  # set when sent: one reminder if still unanswered then
    reminded_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Response(Base):
    """One instrument answered (or being answered) in one sitting; scored when its last item arrives."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    instrument: Mapped[str] = mapped_column(String(16))
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(12))  # scheduled | self
    language: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    score: Mapped[dict[str, Any] | None] = mapped_column()


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float)  # None when skipped: a skip is never a zero
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
