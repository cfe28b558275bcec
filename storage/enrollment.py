"""Clinics, clinicians and the one-time invitations that bring patients and clinicians in.

A patient joins a clinic through a deep link (`https://t.me/<bot>?start=<code>`) and is known to
the clinic by a study code (PC-7K3Q) only. A clinician is verified when they open their own
one-time link. Codes are random and kept only as hashes.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from storage.models import Alert, AuditEntry, Clinic, Clinician, Invite, Patient

# No 0/O, 1/I/L: a code read aloud or copied from paper cannot be misread.
STUDY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITE_HOURS = {"patient": 14 * 24, "clinician": 72}
# A patient whose alerts reach the clinic (storage.alerts.raise_alert): consented, or withdrawn since.
ALERTING = ("given", "withdrawn")


class NotFound(LookupError):
    pass


def new_study_code(session: Session) -> str:
    while True:
        code = "PC-" + "".join(secrets.choice(STUDY_CODE_ALPHABET) for _ in range(4))
        # Never one a deleted patient had: the audit, alerts and the clinic's exports still use it.
        taken = [select(Patient.id).where(Patient.study_code == code), select(AuditEntry.id).where(AuditEntry.subject == code),
                 select(Alert.id).where(Alert.study_code == code)]
        if all(session.scalar(query.limit(1)) is None for query in taken):
            return code


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def deep_link(bot_username: str | None, code: str) -> str:
    """The link to hand out; without the bot's username, what to send the bot instead."""
    return f"https://t.me/{bot_username}?start={code}" if bot_username else f"/start {code}"


def clinic_named(session: Session, name: str) -> Clinic:
    clinic = session.scalars(select(Clinic).where(Clinic.name == name)).one_or_none()
    if clinic is None:
        raise NotFound(f"no clinic named {name!r}")
    return clinic


def patient_coded(session: Session, study_code: str, clinic_id: int | None = None) -> Patient:
    query = select(Patient).where(Patient.study_code == study_code.strip().upper())
    if clinic_id is not None:
        query = query.where(Patient.clinic_id == clinic_id)
    patient = session.scalars(query).one_or_none()
    if patient is None:
        raise NotFound(f"no patient {study_code!r}")
    return patient


def invite(
    session: Session, kind: str, clinic: Clinic, now: datetime, *, created_by: str,
    reference: str | None = None, clinician: Clinician | None = None, hours: float | None = None,
) -> str:
    """A new one-time code (deep-link payload: 1-64 of A-Z a-z 0-9 _ -)."""
    code = secrets.token_urlsafe(12)
    session.add(
        Invite(
            code_hash=hash_code(code), kind=kind, clinic_id=clinic.id, reference=reference,
            clinician_id=clinician.id if clinician else None, created_by=created_by, created_at=now,
            expires_at=now + timedelta(hours=hours if hours is not None else INVITE_HOURS[kind]),
        )
    )
    session.flush()
    return code


def invite_clinician(session: Session, clinic: Clinic, now: datetime, *, name: str | None, created_by: str,
                     admin: bool = False, hours: float | None = None) -> tuple[Clinician, str]:
    clinician = Clinician(clinic_id=clinic.id, name=name, is_admin=admin, created_at=now)
    session.add(clinician)
    session.flush()
    return clinician, invite(session, "clinician", clinic, now, created_by=created_by, clinician=clinician, hours=hours)


def open_invitations(session: Session, clinic_id: int, now: datetime) -> list[Invite]:
    """A clinic's patient invitations not yet used and not expired, newest first."""
    return list(session.scalars(select(Invite).where(
        Invite.clinic_id == clinic_id, Invite.kind == "patient", Invite.used_at.is_(None), Invite.expires_at > now,
    ).order_by(Invite.created_at.desc())))


def usable(session: Session, code: str, kind: str, now: datetime) -> bool:
    """Whether the code is a valid, unused, unexpired invitation of `kind` (nothing changes)."""
    if not code or len(code) > 64:
        return False
    found = session.get(Invite, hash_code(code))
    return found is not None and found.kind == kind and found.used_at is None and found.expires_at > now


def redeem(session: Session, code: str, kind: str, now: datetime) -> Invite | None:
    """The invite, marked used, if the code is one of `kind`, unused and unexpired; else None."""
    if not usable(session, code, kind, now):
        return None
    found = session.scalars(select(Invite).where(Invite.code_hash == hash_code(code)).with_for_update()).one_or_none()
    if found.used_at is not None:  # taken by someone else in the meantime
        return None
    found.used_at = now
    return found


def enroll(patient: Patient, invite: Invite, now: datetime) -> None:
    patient.clinic_id = invite.clinic_id
    patient.clinic_reference = invite.reference
    patient.enrolled_at = now


def verified_clinician(session: Session, telegram_id: str) -> Clinician | None:
    return session.scalars(
        select(Clinician).where(
            Clinician.telegram_id == telegram_id, Clinician.verified_at.is_not(None), Clinician.revoked_at.is_(None)
        )
    ).first()


def is_verified_clinician(telegram_id: str) -> ColumnElement[bool]:
    """Whether a Telegram account is a verified clinician's, as a condition (a step asks it
    together with its other reads)."""
    return exists().where(Clinician.telegram_id == telegram_id, Clinician.verified_at.is_not(None), Clinician.revoked_at.is_(None))


def enrolled_patient(session: Session, telegram_id: str) -> Patient | None:
    """The patient this Telegram account belongs to, if they consented (or withdrew since): their
    account cannot also speak for a clinic, whose alerts and patients' data it would receive."""
    return session.scalars(select(Patient).where(
        Patient.channel == "telegram", Patient.external_id == telegram_id, Patient.consent.in_(ALERTING))).first()


def clinics_nobody_hears(session: Session) -> list[tuple[Clinic, int]]:
    """Clinics with patients whose alerts would reach nobody, each with how many such patients."""
    unheard = {clinic.id: clinic for clinic in clinics_without_recipients(session)}
    counts = dict(session.execute(select(Patient.clinic_id, func.count()).where(
        Patient.clinic_id.in_(list(unheard)), Patient.consent.in_(ALERTING)).group_by(Patient.clinic_id)).all())
    return [(clinic, counts[clinic_id]) for clinic_id, clinic in unheard.items() if clinic_id in counts]


def clinics_without_recipients(session: Session) -> list[Clinic]:
    """Clinics whose alerts would reach nobody: no verified clinician and no fallback contact.
    (The default clinic counts too: patients who join without an invitation land there.)"""
    staffed = select(Clinician.clinic_id).where(Clinician.verified_at.is_not(None), Clinician.revoked_at.is_(None))
    return list(session.scalars(select(Clinic).where(Clinic.fallback_chat_id.is_(None), Clinic.id.not_in(staffed)).order_by(Clinic.name)))
