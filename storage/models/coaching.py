"""What the coaching dialogs record: thought-checks, flare plans and flares, breathing, pacing, visits, sprints, safety plans,
small wins."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base, utcnow


class ThoughtRecord(Base):
    """A thought-check: the full CBT thought record, or the quick one for a flare.
    Every text column is the patient's own words."""

    __tablename__ = "thought_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # full | quick
    situation: Mapped[str | None] = mapped_column(EncryptedText)
    emotion: Mapped[str | None] = mapped_column(EncryptedText)
    emotion_before: Mapped[int | None] = mapped_column(Integer)  # 0-100
    thought: Mapped[str | None] = mapped_column(EncryptedText)  # or, in the quick one, the feared prediction
    belief_before: Mapped[int | None] = mapped_column(Integer)  # 0-100; in the quick one, how likely it is
    trap: Mapped[str | None] = mapped_column(String(32))
    evidence_for: Mapped[str | None] = mapped_column(EncryptedText)
    evidence_against: Mapped[str | None] = mapped_column(EncryptedText)
    balanced_thought: Mapped[str | None] = mapped_column(EncryptedText)  # or what they would tell a friend
    belief_after: Mapped[int | None] = mapped_column(Integer)
    emotion_after: Mapped[int | None] = mapped_column(Integer)
    next_step: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class FlarePlan(Base):
    """The plan for flare-ups, written while well; shown back during a flare. The patient's words."""

    __tablename__ = "flare_plans"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    warning_signs: Mapped[str | None] = mapped_column(EncryptedText)
    what_helps: Mapped[str | None] = mapped_column(EncryptedText)
    step_back_from: Mapped[str | None] = mapped_column(EncryptedText)
    who_to_tell: Mapped[str | None] = mapped_column(EncryptedText)
    when_to_seek_care: Mapped[str | None] = mapped_column(EncryptedText)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FlareEpisode(Base):
    __tablename__ = "flare_episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    peak_pain: Mapped[int | None] = mapped_column(Integer)
    what_helped: Mapped[str | None] = mapped_column(EncryptedText)


class BreathingSession(Base):
    """A breathing drill: pattern, planned and actual length, completed or stopped, and the
    tension (0-10) the patient felt before and after."""

    __tablename__ = "breathing_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    pattern: Mapped[str] = mapped_column(String(16))
    planned_seconds: Mapped[int] = mapped_column(Integer)
    actual_seconds: Mapped[int | None] = mapped_column(Integer)
    completed: Mapped[bool | None] = mapped_column(Boolean)  # False when stopped
    tension_before: Mapped[int | None] = mapped_column(Integer)
    tension_after: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PacingActivity(Base):
    """An activity the patient paces: its baseline, its quota, and when the quota next rises."""

    __tablename__ = "pacing_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(EncryptedText)  # the patient's words when they typed their own
    baseline_minutes: Mapped[float | None] = mapped_column(Float)  # the average of the baseline days
    quota_minutes: Mapped[float | None] = mapped_column(Float)
    next_raise_on: Mapped[date | None] = mapped_column(Date)  # a local date
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PacingLog(Base):
    __tablename__ = "pacing_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("pacing_activities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # baseline | done
    minutes: Mapped[int] = mapped_column(Integer)
    quota_minutes: Mapped[float | None] = mapped_column(Float)  # the quota that day (after any flare reduction)
    local_date: Mapped[date] = mapped_column(Date)
    logged_at: Mapped[datetime] = mapped_column(default=utcnow)


class VisitPrep(Base):
    """What the patient prepared for a visit, in their own words; the visit report includes it."""

    __tablename__ = "visit_preps"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    changes: Mapped[str | None] = mapped_column(EncryptedText)
    goals: Mapped[str | None] = mapped_column(EncryptedText)
    questions: Mapped[str | None] = mapped_column(EncryptedText)
    treatment: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Sprint(Base):
    """A treatment sprint (the seed's 4-6 weeks): the metrics the patient chose, and the review
    comparing the first and the last week, which the clinic sees too."""

    __tablename__ = "sprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    metrics: Mapped[list[Any]] = mapped_column()
    weeks: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[date] = mapped_column(Date)  # local dates
    ends_on: Mapped[date] = mapped_column(Date)
    review: Mapped[dict[str, Any] | None] = mapped_column()  # {metric: {"first": x, "last": y}}
    reviewed_at: Mapped[datetime | None]


class NotedQuestion(Base):
    """A medication question the coach declined to answer; if the patient asks, it goes into the
    questions for the next visit. The patient's words."""

    __tablename__ = "noted_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(EncryptedText)
    noted: Mapped[bool] = mapped_column(Boolean, default=False)  # the patient asked to keep it for the visit
    used_at: Mapped[datetime | None]  # put into a visit summary
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SafetyPlan(Base):
    """The safety plan the patient writes in advance, shown on the crisis path. Their words."""

    __tablename__ = "safety_plans"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    warning_signs: Mapped[str | None] = mapped_column(EncryptedText)
    what_helps: Mapped[str | None] = mapped_column(EncryptedText)
    people: Mapped[str | None] = mapped_column(EncryptedText)
    safe_places: Mapped[str | None] = mapped_column(EncryptedText)
    professionals: Mapped[str | None] = mapped_column(EncryptedText)
    safer_surroundings: Mapped[str | None] = mapped_column(EncryptedText)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SmallWin(Base):
    """A small win, as it was said: its kind and the facts behind it (numbers and codes, never a
    sentence), so "My small wins" words it again in the patient's language of the day. The
    activity's name is read from its row: no words of the patient's are copied here."""

    __tablename__ = "small_wins"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # dialogs/wins.py KINDS: longest_yet | more_sleep
    facts: Mapped[dict[str, Any]] = mapped_column()  # e.g. {"minutes": 25, "quota_minutes": 27.5}
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("pacing_activities.id", ondelete="CASCADE"), index=True)
    said_at: Mapped[datetime] = mapped_column(default=utcnow)
