"""Raising an alert: the rows a step writes, in its own transaction, when a patient needs a person.

The step that found the concern (a crisis, a red flag, a severe PHQ-4) writes the alert and one
delivery row per recipient; the clinic's dispatcher (`clinic.alerts`) sends and escalates them.

One alert per episode: while a patient's alert is open (not acknowledged) and still escalating,
their further messages of the same category join it (a count, the latest time), and its copies
are edited to say so, without notifying anyone again. Another category opens an alert of its own,
which notifies at once: categories never merge, so no copy ever understates what it is about. So
does a message after an acknowledgement, after the last escalation round (nobody answered: ring
again), or when the open alert reached nobody.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Alert, AlertDelivery, Clinician, Patient

log = logging.getLogger(__name__)

# What an alert can be about (their words for a clinician: clinic.alerts.CATEGORIES).
ALERT_CATEGORIES = frozenset({"crisis", "overdose_taken", "red_flag", "abuse", "phq4_severe", "eating_disorder"})


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
    words = words if words and clinic.setting("alert_include_words") else None
    if (episode := open_episode(session, patient, category)) is not None:
        episode.message_count += 1
        episode.last_message_at = max(now, episode.last_message_at or episode.created_at)
        if words:
            episode.words = words  # the latest (an earlier message's words stay when this one's may not be kept)
        return episode
    alert = Alert(
        clinic_id=patient.clinic_id, patient_id=patient.id, study_code=patient.study_code, category=category, created_at=now,
        last_message_at=now, words=words, escalation_due_at=now + timedelta(minutes=clinic.setting("alert_escalate_minutes")),
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


def open_episode(session: Session, patient: Patient, category: str) -> Alert | None:
    """The alert a message of this category joins, locked: the patient's newest open one of that
    category, for their clinic, still escalating and sent to someone."""
    return session.scalars(
        select(Alert).where(
            Alert.patient_id == patient.id, Alert.clinic_id == patient.clinic_id, Alert.category == category,
            Alert.acknowledged_at.is_(None), Alert.escalation_due_at.is_not(None),
            select(AlertDelivery.id).where(AlertDelivery.alert_id == Alert.id).exists(),
        ).order_by(Alert.id.desc()).limit(1).with_for_update()
    ).first()


def acknowledge(session: Session, alert_id: int, now: datetime, actor: str, *, clinic_id: int | None = None,
                clinician_id: int | None = None, note: str | None = None) -> tuple[Alert | None, bool]:
    """(The alert, whether this acknowledged it): once; later calls change nothing. None when there
    is no such alert (or, with `clinic_id`, not one of that clinic's). The dispatcher then edits
    every copy sent (clinic.alerts)."""
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None or (clinic_id is not None and alert.clinic_id != clinic_id):
        return None, False
    if alert.acknowledged_at is not None:
        return alert, False
    alert.acknowledged_at, alert.acknowledged_by, alert.acknowledged_actor = now, clinician_id, actor
    alert.acknowledged_note = note or None
    alert.escalation_due_at = None
    return alert, True


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


