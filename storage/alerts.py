"""Raising an alert: the rows a step writes, in its own transaction, when a patient needs a person.

The step that found the concern (a crisis, a red flag, a severe PHQ-4) writes the alert and one
delivery row per recipient; the clinic's dispatcher (`clinic.alerts`) sends and escalates them.

One alert per episode: while a patient's alert is open (not acknowledged), their further
messages of the same category, or of a lower one, join it (a count, the latest time, the lower
categories named), and its copies are edited to say so, without notifying anyone again. A
higher category opens a new alert, which notifies at once (the open one stays as it was: each
alert's category never changes, so no copy ever understates what it is about). After an
acknowledgement the next message opens a new alert.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Alert, AlertDelivery, Clinician, Patient

log = logging.getLogger(__name__)

# What an alert can be about (their words for a clinician: clinic.alerts.CATEGORIES), by how
# urgently a person must act: a message joins an open alert of its own rank or higher.
RANK = {"crisis": 3, "overdose_taken": 3, "red_flag": 2, "abuse": 2, "phq4_severe": 1, "eating_disorder": 1}
ALERT_CATEGORIES = frozenset(RANK)


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
    if (episode := open_episode(session, patient.id)) is not None and RANK[category] <= RANK[episode.category]:
        episode.message_count += 1
        episode.last_message_at = max(now, episode.last_message_at or episode.created_at)
        if category != episode.category and category not in (episode.also or "").split(","):
            episode.also = ",".join(filter(None, [episode.also, category]))
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


def open_episode(session: Session, patient_id: int) -> Alert | None:
    """The patient's open alert of the highest category (the newest of equals), locked."""
    rows = session.scalars(
        select(Alert).where(Alert.patient_id == patient_id, Alert.acknowledged_at.is_(None)).order_by(Alert.id.desc()).with_for_update()
    ).all()
    return max(rows, key=lambda alert: RANK.get(alert.category, 0), default=None)


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


