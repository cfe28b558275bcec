"""Clinics, their patients (and the story they tell on joining), their clinicians and invitations."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.crypto import EncryptedText
from storage.models.base import Base, utcnow


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


class Clinician(Base):
    """A clinic's staff member. Invited from the command line; verified when they open their
    one-time invitation in Telegram; revoked when they leave."""

    __tablename__ = "clinicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    telegram_id: Mapped[str | None] = mapped_column(String(64), index=True)  # set when verified
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str | None] = mapped_column(String(64))  # an IANA name; None: the clinic's `timezone` setting
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
