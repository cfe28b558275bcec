"""A patient's home exercises, as their clinician prescribed them, and what the patient logged of
each: done, part or skipped, with their pain (0-10) before and after."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base, utcnow


class Exercise(Base):
    """One prescribed exercise: sets × reps, or minutes; how many days a week; the physio's note;
    and how it progresses (none, or the clinic's pacing rule), as the prescriber chose."""

    __tablename__ = "exercises"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(EncryptedText)
    sets: Mapped[int | None] = mapped_column(Integer)
    reps: Mapped[int | None] = mapped_column(Integer)  # per set; or minutes, never both
    minutes: Mapped[int | None] = mapped_column(Integer)
    days_per_week: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(EncryptedText)  # from the physio, shown to the patient
    progression: Mapped[str] = mapped_column(String(8), default="none")  # none | pacing
    prescribed_by: Mapped[str] = mapped_column(String(64))  # as the audit names actors
    prescribed_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]


class ExerciseLog(Base):
    """A day's log of one exercise (logging again the same day replaces it)."""

    __tablename__ = "exercise_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    local_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(8))  # done | part | skipped
    dose: Mapped[float | None] = mapped_column(Float)  # the reps (or minutes) prescribed that day, after any progression
    pain_before: Mapped[int | None] = mapped_column(Integer)
    pain_after: Mapped[int | None] = mapped_column(Integer)
    logged_at: Mapped[datetime] = mapped_column(default=utcnow)
