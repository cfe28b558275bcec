"""The tables. One class per concept; every later feature adds its own table here.

Times are stored as timezone-aware UTC. Free text a patient wrote lives only in
columns named for what it is (pain story, preferred name), so a later deletion can find it.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import JSON, MetaData, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.crypto import EncryptedText  # the patient's own words: encrypted when PAINCOACH_DATA_KEY is set


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, also on SQLite (which keeps no zone and returns naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store times as aware UTC")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    # Named constraints, so later migrations can alter them (SQLite rebuilds tables to do so).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where alerts go when no clinician acknowledges them in time: a Telegram chat id (an on-call
    # phone's account or a staff group).
    fallback_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    # Per-clinic settings (crisis resources by country, and the defaults later features add).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def setting(self, key: str) -> Any:
        """The clinic's own value, else the shipped default (content/clinic_defaults.toml)."""
        import content

        return self.settings[key] if key in self.settings else content.load("clinic_defaults")[key]


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    # Where the patient talks to us: "telegram" (external_id = Telegram user id) or "terminal".
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    # The pseudonym every export and every clinician view uses (e.g. PC-7K3Q).
    study_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    # The clinic's own reference (record number, initials) given at invitation: visible to that
    # clinic's clinicians only, never exported unless an admin asks for it explicitly.
    clinic_reference: Mapped[str | None] = mapped_column(EncryptedText)
    enrolled_at: Mapped[datetime | None]  # joined through a clinic's invitation
    discharged_at: Mapped[datetime | None]  # prompts stop; data kept per the clinic's retention
    language: Mapped[str] = mapped_column(String(8), default="en")
    consent: Mapped[str] = mapped_column(String(16), default="pending")  # pending | given | refused
    consent_at: Mapped[datetime | None]
    adult: Mapped[bool | None]
    timezone: Mapped[str | None] = mapped_column(String(64))  # an IANA name, never an offset
    country: Mapped[str | None] = mapped_column(String(2))  # overrides the timezone's country
    preferred_name: Mapped[str | None] = mapped_column(EncryptedText)
    onboarded_at: Mapped[datetime | None]
    # False after Telegram said the patient blocked the bot; true again when they write.
    reachable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    checkins_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00", local; reminders wait until quiet_end
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clinic: Mapped[Clinic] = relationship()


class PainStory(Base):
    """The story the clinic asks for at the start; one row per patient, kept current."""

    __tablename__ = "pain_stories"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    where_it_hurts: Mapped[str | None] = mapped_column(EncryptedText)
    since_when: Mapped[str | None] = mapped_column(EncryptedText)
    what_makes_it_worse: Mapped[str | None] = mapped_column(EncryptedText)
    what_has_been_tried: Mapped[str | None] = mapped_column(EncryptedText)
    good_day: Mapped[str | None] = mapped_column(EncryptedText)
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


class ProcessedUpdate(Base):
    """Telegram update ids already applied, so a redelivered update changes nothing."""

    __tablename__ = "processed_updates"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # pruned after a week


class Inbox(Base):
    """Telegram updates fetched but not yet handled. Kept until handled, so a killed process
    handles them on restart instead of losing them (Telegram forgets what it delivered)."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    blocked, unknown (claimed by a process that died before Telegram confirmed: never resent).
    """

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


class SendBudget(Base):
    """Telegram's overall limit is per bot, not per process: bot processes sharing a database
    take their send slots from this one row (next_free is seconds since the epoch)."""

    __tablename__ = "send_budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    next_free: Mapped[float] = mapped_column(Float, default=0.0)


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


class Clinician(Base):
    """A clinic's staff member. Invited from the command line; verified when they open their
    one-time invitation in Telegram; revoked when they leave."""

    __tablename__ = "clinicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    telegram_id: Mapped[str | None] = mapped_column(String(64), index=True)  # set when verified
    language: Mapped[str] = mapped_column(String(8), default="en")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    verified_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invite(Base):
    """A one-time code, for a patient (into a clinic) or a clinician (to verify). Only the
    code's hash is kept, so the table cannot be read back into working links."""

    __tablename__ = "invites"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # patient | clinician
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinicians.id"))  # who a clinician invite verifies
    reference: Mapped[str | None] = mapped_column(EncryptedText)  # the clinic's own reference for the patient
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Alert(Base):
    """Something a person at the clinic must see now: a crisis, a red flag, a severe PHQ-4."""

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
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("clinicians.id"))
    escalated_at: Mapped[datetime | None]  # repeated, and sent to the fallback contact


class AlertDelivery(Base):
    """One alert to one chat, retried until Telegram confirms it (at least once)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "chat_id", "round"), Index("ix_alert_deliveries_due", "sent_at", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    round: Mapped[int] = mapped_column(Integer, default=0)  # 0 at once, 1 the escalation
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)


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
