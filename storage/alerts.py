"""Raising an alert: the rows a step writes, in its own transaction, when a patient needs a person.

The step that found the concern (a crisis, a red flag, a severe PHQ-4) writes the alert and one
delivery row per recipient; the clinic's dispatcher (`clinic.alerts`) sends and escalates them.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Alert, AlertDelivery, Clinician, Patient

log = logging.getLogger(__name__)

# What an alert can be about (their words for a clinician: clinic.alerts.CATEGORIES).
ALERT_CATEGORIES = frozenset({"crisis", "overdose_taken", "abuse", "red_flag", "phq4_severe", "eating_disorder"})


def raise_alert(session: Session, patient: Patient, category: str, now: datetime, *, words: str | None = None) -> Alert | None:
    """Record an alert and its first deliveries. Nothing for a patient who never consented; for
    one who withdrew consent or was discharged, the alert still goes, without their words (the
    clinic must know of a crisis; what they wrote is no longer the clinic's to read).
    Never fails the patient's step: the crisis lines matter more than the alert (logged loudly)."""
    if patient.consent not in ("given", "withdrawn") or category not in ALERT_CATEGORIES:
        return None
    if patient.consent != "given" or patient.discharged_at is not None:
        words = None
    try:
        with session.begin_nested():
            return _raise(session, patient, category, now, words)
    except Exception:
        log.exception("could not raise a %s alert for patient %s", category, patient.id)
        return None


def _raise(session: Session, patient: Patient, category: str, now: datetime, words: str | None) -> Alert:
    clinic = patient.clinic
    alert = Alert(
        clinic_id=patient.clinic_id, patient_id=patient.id, study_code=patient.study_code, category=category, created_at=now,
        words=words if words and clinic.setting("alert_include_words") else None,
    )
    session.add(alert)
    session.flush()
    recipients = clinician_chats(session, clinic.id)
    if not recipients and clinic.fallback_chat_id is not None:
        recipients = [clinic.fallback_chat_id]  # nobody to ask first: the fallback at once
    if not recipients:
        log.warning("alert %s: clinic %s has no verified clinician and no fallback contact", alert.id, clinic.id)
    session.add_all(AlertDelivery(alert_id=alert.id, chat_id=chat, round=0, next_attempt_at=now) for chat in recipients)
    return alert


def clinician_chats(session: Session, clinic_id: int) -> list[int]:
    """The chats of the clinic's verified clinicians, each once."""
    return sorted(clinician_languages(session, clinic_id))


def clinician_languages(session: Session, clinic_id: int) -> dict[int, str]:
    """The clinic's verified clinicians: chat id → the language they read."""
    return {
        int(telegram_id): language
        for telegram_id, language in session.execute(
            select(Clinician.telegram_id, Clinician.language).where(
                Clinician.clinic_id == clinic_id, Clinician.verified_at.is_not(None), Clinician.revoked_at.is_(None)
            )
        )
    }


