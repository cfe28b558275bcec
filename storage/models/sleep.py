"""Sleep: a patient's sleep routine (its times, the wind-down and daylight steps chosen, the
optional wind-down nudge). The sleep diary's answers are check-in answers (storage/models/checkins.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class SleepRoutine(Base):
    """One per patient. Times are wall-clock "HH:MM" in the patient's zone; the steps are ids
    from content/sleep.toml (chosen from a list: nothing the patient wrote)."""

    __tablename__ = "sleep_routines"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), unique=True)
    wake_time: Mapped[str] = mapped_column(String(5))  # the same every day, weekends included
    bedtime: Mapped[str] = mapped_column(String(5))
    wind_down: Mapped[list[Any]] = mapped_column()  # step ids, e.g. ["screens", "dim"]
    daylight: Mapped[str | None] = mapped_column(String(24))  # a step id
    nudge_minutes: Mapped[int | None] = mapped_column(Integer)  # the nudge this long before bedtime; None: no nudge
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
