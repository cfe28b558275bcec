"""Alerts that reach a person: a crisis, a red flag or a severe PHQ-4 goes to the clinic's
verified clinicians at once, with an Acknowledge button.

An alert is raised in the same transaction as what caused it, with one delivery row per
recipient (`storage.alerts.raise_alert`, called by the step). Deliveries are retried until Telegram confirms them (at least once: a process that dies
between sending and recording sends again). Unacknowledged after the clinic's time, the alert
repeats to the clinicians and goes to the clinic's fallback contact.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

import locales
from dialogs.io import Button, Message
from locales import N_, _
from storage.alerts import clinician_chats, clinician_languages
from storage.db import Database
from storage.models import Alert, AlertDelivery, Clinic, Clinician, Patient, utcnow

log = logging.getLogger(__name__)

ACK = "ack:"  # callback data of the Acknowledge button: "ack:<alert id>"
CATEGORIES = {
    "crisis": N_("crisis message"),
    "overdose_taken": N_("has taken too much medicine"),
    "abuse": N_("disclosure of violence or fear at home"),
    "red_flag": N_("red-flag symptom"),
    "phq4_severe": N_("PHQ-4 in the severe range"),
    "eating_disorder": N_("disclosure of disordered eating"),
}
LEASE = timedelta(minutes=3)  # a claimed delivery is tried again after this if not confirmed (> the sender's retries)
MAX_BACKOFF = timedelta(minutes=5)

# send(chat_id, message) -> the sent message's id; raises if Telegram did not take it.
Send = Callable[[int, Message], Awaitable[int | None]]


def acknowledge(session: Session, clinician: Clinician, alert_id: int, now: datetime) -> tuple[Alert | None, bool]:
    """(The alert, whether this press acknowledged it): once; later presses change nothing. The
    alert is None if it is not one of their clinic's."""
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None or alert.clinic_id != clinician.clinic_id:
        return None, False
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, clinician.id
        return alert, True
    return alert, False


def text(alert: Alert, patient: Patient | None, *, repeat: bool, for_clinician: bool = True) -> str:
    """The alert in the current language. `patient` is None once the patient has deleted their
    data: the study code is all that is left. Only a verified clinician reads the clinic's
    reference and (if the clinic opted in) the patient's words; the fallback contact does not."""
    reference = patient.clinic_reference if patient is not None and for_clinician else None
    lines = [
        ("⚠️ " + _("Not acknowledged yet: {category}") if repeat else "⚠️ " + _("Alert: {category}")).format(
            category=_(CATEGORIES[alert.category])
        ),
        _("Patient {code}").format(code=alert.study_code) + (f" ({reference})" if reference else ""),
        _("At {time} UTC").format(time=alert.created_at.strftime("%Y-%m-%d %H:%M")),
    ]
    if patient is None:
        lines.append(_("The patient has since deleted their data from the bot."))
    if alert.words and for_clinician:
        lines.append(_("Their message: {words}").format(words=alert.words))
    return "\n".join(lines)


@dataclass
class Due:
    delivery_id: int
    chat_id: int
    message: Message


class AlertDispatcher:
    """Sends due deliveries and escalates unacknowledged alerts; one `tick` every few seconds."""

    def __init__(self, db: Database, send: Send, *, clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.send = send
        self.clock = clock

    async def tick(self) -> int:
        now = self.clock()
        await asyncio.to_thread(self.escalate, now)
        sent = 0
        for due in await asyncio.to_thread(self.claim, now):
            try:
                message_id = await self.send(due.chat_id, due.message)
            except Exception:  # retried after a back-off; the next tick goes on with the others
                log.warning("alert delivery %s failed; will retry", due.delivery_id, exc_info=True)
                await asyncio.to_thread(self._failed, due.delivery_id, now)
                continue
            await asyncio.to_thread(self._sent, due.delivery_id, message_id, self.clock())
            sent += 1
        return sent

    def escalate(self, now: datetime) -> None:
        with self.db.transaction() as session:
            for alert in session.scalars(
                select(Alert).where(Alert.acknowledged_at.is_(None), Alert.escalated_at.is_(None)).with_for_update(skip_locked=True)
            ):
                clinic = session.get(Clinic, alert.clinic_id)
                if alert.created_at > now - timedelta(minutes=clinic.setting("alert_escalate_minutes")):
                    continue
                alert.escalated_at = now
                chats = set(clinician_chats(session, clinic.id))
                if clinic.fallback_chat_id is not None:
                    chats.add(clinic.fallback_chat_id)
                session.add_all(AlertDelivery(alert_id=alert.id, chat_id=chat, round=1, next_attempt_at=now) for chat in sorted(chats))
                log.warning("alert %s not acknowledged after %s minutes: escalated", alert.id, clinic.setting("alert_escalate_minutes"))

    def claim(self, now: datetime) -> list[Due]:
        """Due deliveries, leased so another process (or the next tick) leaves them alone."""
        with self.db.transaction() as session:
            rows = session.execute(
                select(AlertDelivery, Alert)
                .join(Alert, Alert.id == AlertDelivery.alert_id)
                .where(AlertDelivery.sent_at.is_(None), AlertDelivery.next_attempt_at <= now, Alert.acknowledged_at.is_(None))
                .order_by(AlertDelivery.next_attempt_at)
                .limit(100)
                .with_for_update(of=AlertDelivery, skip_locked=True)
            ).all()
            due = []
            languages: dict[int, dict[int, str]] = {}  # per clinic: its verified clinicians' chats → language
            for delivery, alert in rows:
                delivery.attempts += 1
                delivery.next_attempt_at = now + LEASE
                patient = session.get(Patient, alert.patient_id) if alert.patient_id is not None else None
                if alert.clinic_id not in languages:
                    languages[alert.clinic_id] = clinician_languages(session, alert.clinic_id)
                clinician = delivery.chat_id in languages[alert.clinic_id]
                with locales.use(languages[alert.clinic_id].get(delivery.chat_id, locales.DEFAULT)):
                    body = text(alert, patient, repeat=delivery.round > 0, for_clinician=clinician)
                    if clinician:
                        message = Message(body, ((Button(f"{ACK}{alert.id}", _("Acknowledge")),),))
                    else:  # the fallback contact is not a verified clinician: the study code only, nothing to press
                        message = Message(body + "\n" + _("A verified clinician of the clinic needs to acknowledge it."))
                due.append(Due(delivery.id, delivery.chat_id, message))
            return due

    def _sent(self, delivery_id: int, message_id: int | None, now: datetime) -> None:
        with self.db.transaction() as session:
            delivery = session.get(AlertDelivery, delivery_id)
            delivery.sent_at, delivery.message_id = now, message_id

    def _failed(self, delivery_id: int, now: datetime) -> None:
        with self.db.transaction() as session:
            delivery = session.get(AlertDelivery, delivery_id)
            delivery.next_attempt_at = now + min(timedelta(seconds=5 * 2 ** min(delivery.attempts, 10)), MAX_BACKOFF)
