"""The pain education course: where each patient is in it, and each lesson's progress."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class LessonCourse(Base):
    """A patient's course: paused by them (no lessons planned until they resume)."""

    __tablename__ = "lesson_courses"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LessonProgress(Base):
    """One lesson for one patient: planned (by the scheduler) or asked for, sent, opened, answered.
    Only the value of the button chosen is kept (a typed answer is not stored)."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("patient_id", "lesson"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    lesson: Mapped[str] = mapped_column(String(32))  # content/lessons.toml id
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id", ondelete="SET NULL"), index=True)  # when scheduled
    source: Mapped[str] = mapped_column(String(12))  # scheduled | asked (the patient asked for the next one now)
    language: Mapped[str | None] = mapped_column(String(8))  # the language it was read in
    sent_at: Mapped[datetime | None]  # the invitation went out (scheduled) or the lesson was shown (asked)
    opened_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(String(32))  # the chosen value, from the lesson's fixed list
    correct: Mapped[bool | None] = mapped_column(Boolean)
