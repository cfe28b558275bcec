"""Guided practices (muscle relaxation, mindfulness): one row per run, with its ratings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class PracticeRun(Base):
    """A guided practice the patient started: which one (content/practices.toml), planned and
    actual length, completed or stopped and when, and the ratings before and after (0-10):
    tension, and for mindfulness how much the pain is in charge. Numbers and codes only."""

    __tablename__ = "practice_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(String(16))  # relaxation | mindfulness
    kind: Mapped[str] = mapped_column(String(24))  # the practice's id: pmr, body_scan, pain_noticing, leaves
    planned_seconds: Mapped[int] = mapped_column(Integer)
    actual_seconds: Mapped[int | None] = mapped_column(Integer)
    completed: Mapped[bool | None] = mapped_column(Boolean)  # None while it plays; False when stopped
    tension_before: Mapped[int | None] = mapped_column(Integer)
    tension_after: Mapped[int | None] = mapped_column(Integer)
    in_charge_before: Mapped[int | None] = mapped_column(Integer)  # how much the pain is in charge (mindfulness)
    in_charge_after: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]  # played out or stopped
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
