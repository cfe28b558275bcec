"""Alerts that reach a person: a crisis, a red flag or a severe PHQ-4 goes to the clinic's
verified clinicians at once, with an Acknowledge button.

An alert is raised in the same transaction as what caused it, with one delivery row per
recipient (`storage.alerts.raise_alert`, called by the step); the patient's further messages
join the open alert (one alert per episode). Deliveries are retried until Telegram confirms
them (at least once: a process that dies between sending and recording sends again), and
Telegram's message id of each copy is kept. Every tick:
- an alert nobody acknowledged in the clinic's `alert_escalate_minutes` repeats to the
  clinicians and goes to the clinic's fallback contact, again every as many minutes, at most
  `alert_escalate_times` times; then it stays open (in /patients and `paincoach alerts`);
- due copies are sent;
- copies already sent are edited: to the episode's new count while it is open, and once it is
  acknowledged (in Telegram or with `paincoach alerts ack`, maybe by another process) to say by
  whom, without the button.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import locales
from dialogs.io import Button, Edit, Message, Output
from clinic.zones import chat_zones, clinic_zone, clinician_zone
from locales import N_, _, ngettext
from storage import audit
from storage import alerts as raised
from storage.alerts import clinician_chats, clinician_languages
from storage.db import Database
from storage.models import Alert, AlertDelivery, Clinic, Clinician, Patient, utcnow

UTC = ZoneInfo("UTC")

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
# edit(chat_id, message_id, message): the copy now reads `message`; raises if Telegram did not take it.
EditCopy = Callable[[int, int, Message], Awaitable[None]]


class Undeliverable(Exception):
    """Telegram will never take this call (the chat blocked the bot, or is gone): not retried."""


def zone_of(session: Session, alert: Alert) -> ZoneInfo:
    """Where the clinic's fallback chat reads its alerts' times: the clinic's `timezone` setting.
    Each clinician's copy is in their own zone (`clinic.zones`)."""
    return clinic_zone(session, alert.clinic_id)


def text(alert: Alert, patient: Patient | None, *, repeat: bool, for_clinician: bool = True, clinic: str | None = None,
         zone: ZoneInfo = UTC) -> str:
    """The alert in the current language. `patient` is None once the patient has deleted their
    data: the study code is all that is left. Only a verified clinician reads the clinic's
    reference and (if the clinic opted in) the patient's words; the fallback contact, who may serve
    several clinics, reads the clinic's name instead."""
    reference = patient.clinic_reference if patient is not None and for_clinician else None
    lines = [
        ("⚠️ " + _("Not acknowledged yet: {category}") if repeat else "⚠️ " + _("Alert: {category}")).format(
            category=_(CATEGORIES[alert.category])
        ),
        _("Patient {code}").format(code=alert.study_code) + (f" ({reference})" if reference else ""),
    ]
    if clinic:
        lines.append(_("Clinic: {clinic}").format(clinic=clinic))
    lines.append(_("At {time}").format(time=locales.moment(alert.created_at, zone)))
    if alert.message_count > 1:
        latest = locales.moment(alert.last_message_at or alert.created_at, zone)
        lines.append(ngettext("{n} message, the latest at {time}", "{n} messages, the latest at {time}",
                              alert.message_count).format(n=alert.message_count, time=latest))
    if patient is None:
        lines.append(_("The patient has since deleted their data from the bot."))
    if alert.words and for_clinician:
        lines.append(_("Their message: {words}").format(words=alert.words))
    return "\n".join(lines)


def acknowledger(session: Session, alert: Alert) -> str:
    """Who acknowledged the alert, in the current language."""
    if alert.acknowledged_by is not None:
        clinician = session.get(Clinician, alert.acknowledged_by)
        if clinician is not None and clinician.name:
            return clinician.name
    if (alert.acknowledged_actor or "").startswith("cli"):
        return _("{user} (command line)").format(user=alert.acknowledged_actor.partition(":")[2] or "cli")
    return _("a clinician")


def acknowledged_line(session: Session, alert: Alert, zone: ZoneInfo | None = None) -> str:
    """Who acknowledged it and when, in `zone` (the reader's; the clinic's when not given)."""
    # Translators: {name} is a clinician's name, or the words "a clinician" (translated on their own).
    return "✓ " + _("Acknowledged by {name} at {time}").format(
        name=acknowledger(session, alert), time=locales.moment(alert.acknowledged_at, zone or zone_of(session, alert)))


def copy_of(session: Session, alert: Alert, delivery: AlertDelivery, clinician: bool, zone: ZoneInfo | None = None) -> Message:
    """What one copy of the alert reads now, in the current language and the reader's `zone` (the
    clinic's when not given): with its button while the alert is open (a clinician's copy), else
    who acknowledged it and when."""
    patient = session.get(Patient, alert.patient_id) if alert.patient_id is not None else None
    clinic = None if clinician else session.get(Clinic, alert.clinic_id).name
    zone = zone or zone_of(session, alert)
    body = text(alert, patient, repeat=delivery.round > 0, for_clinician=clinician, clinic=clinic, zone=zone)
    if alert.acknowledged_at is not None:
        body += "\n\n" + acknowledged_line(session, alert, zone)
        if clinician and alert.acknowledged_note:
            body += "\n" + _("Note: {note}").format(note=alert.acknowledged_note)
        return Message(body)
    if clinician:
        return Message(body, ((Button(f"{ACK}{alert.id}", _("Acknowledge")),),))
    # The fallback contact is not a verified clinician: nothing to press.
    return Message(body + "\n" + _("A verified clinician of the clinic needs to acknowledge it."))


def answer_press(session: Session, clinician: Clinician, alert_id: int, message_id: int | None, now: datetime,
                 message_text: str | None = None) -> list[Output] | None:
    """A clinician pressed Acknowledge: the first press acknowledges (audited) and its copy is
    edited at once; the dispatcher edits every other copy. A later press (a stale button) says who
    acknowledged it. None if the alert is not one of their clinic's."""
    alert, acknowledged = raised.acknowledge(session, alert_id, now, f"clinician:{clinician.id}",
                                             clinic_id=clinician.clinic_id, clinician_id=clinician.id)
    if alert is None:
        return None
    zone = clinician_zone(session, clinician)
    if acknowledged:
        audit.record(session, f"clinician:{clinician.id}", "acknowledge", now, clinic_id=clinician.clinic_id,
                     subject=alert.study_code, alert=alert.id)
        outputs: list[Output] = [Message(_("Acknowledged. Thank you."))]
    else:
        outputs = [Message(_("Already acknowledged by {name} at {time}.").format(
            name=acknowledger(session, alert), time=locales.moment(alert.acknowledged_at, zone)))]
    if message_id is None:  # a message Telegram no longer shows us: the dispatcher edits it
        return outputs
    delivery = session.scalars(select(AlertDelivery).where(
        AlertDelivery.alert_id == alert.id, AlertDelivery.chat_id == int(clinician.telegram_id), AlertDelivery.message_id == message_id
    )).first()
    if delivery is not None:
        delivery.acknowledged_shown_at = now
        outputs.append(Edit(message_id, copy_of(session, alert, delivery, clinician=True, zone=zone).text))
    elif message_text:  # a copy we hold no row for: marked as before
        outputs.append(Edit(message_id, f"{message_text}\n\n{acknowledged_line(session, alert, zone)}"))
    return outputs


@dataclass
class Due:
    delivery_id: int
    chat_id: int
    message: Message
    edit_of: int | None = None  # the copy's Telegram message id, for an edit; None: a send
    shows: int = 1  # the episode's count the message shows
    acknowledged: bool = False  # it shows the acknowledgement


class AlertDispatcher:
    """Escalates, sends and edits; one `tick` every few seconds. Without `edit`, copies are never
    edited (a transport that cannot)."""

    def __init__(self, db: Database, send: Send, edit: EditCopy | None = None, *, clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.send = send
        self.edit = edit
        self.clock = clock

    async def tick(self) -> int:
        """Returns how many copies were sent. Chats are served side by side, each in order (a
        fallback group held to its per-minute limit must not hold up a clinician's alert)."""
        now = self.clock()
        await asyncio.to_thread(self.escalate, now)
        due = await asyncio.to_thread(self.claim, now)
        if self.edit is not None:
            due += await asyncio.to_thread(self.claim_edits, now)
        chats: dict[int, list[Due]] = defaultdict(list)
        for item in due:
            chats[item.chat_id].append(item)
        return sum(await asyncio.gather(*(self._serve(items) for items in chats.values())))

    async def _serve(self, items: list[Due]) -> int:
        sent = 0
        for due in items:
            try:
                if due.edit_of is None:
                    message_id = await self.send(due.chat_id, due.message)
                    await asyncio.to_thread(self._sent, due, message_id, self.clock())
                    sent += 1
                else:
                    await self.edit(due.chat_id, due.edit_of, due.message)
                    await asyncio.to_thread(self._edited, due, self.clock())
            except Undeliverable:
                log.info("alert delivery %s: the chat cannot be reached; its copy stays as it was", due.delivery_id)
                if due.edit_of is not None:
                    await asyncio.to_thread(self._edited, due, self.clock())
                else:
                    await asyncio.to_thread(self._failed, due.delivery_id, self.clock())
            except Exception:  # retried after a back-off; the next tick goes on with the others
                log.warning("alert delivery %s failed; will retry", due.delivery_id, exc_info=True)
                await asyncio.to_thread(self._failed, due.delivery_id, self.clock())
        return sent

    def escalate(self, now: datetime) -> None:
        with self.db.transaction() as session:
            for alert in session.scalars(
                select(Alert).where(Alert.escalation_due_at <= now, Alert.acknowledged_at.is_(None)).with_for_update(skip_locked=True)
            ):
                clinic = session.get(Clinic, alert.clinic_id)
                alert.escalations += 1
                alert.escalated_at = now
                more = alert.escalations < clinic.setting("alert_escalate_times")
                alert.escalation_due_at = now + timedelta(minutes=clinic.setting("alert_escalate_minutes")) if more else None
                chats = set(clinician_chats(session, clinic.id))
                if clinic.fallback_chat_id is not None:
                    chats.add(clinic.fallback_chat_id)
                session.add_all(AlertDelivery(alert_id=alert.id, chat_id=chat, round=alert.escalations, next_attempt_at=now)
                                for chat in sorted(chats))
                log.warning("alert %s not acknowledged: escalation %s of %s", alert.id, alert.escalations, clinic.setting("alert_escalate_times"))

    def claim(self, now: datetime) -> list[Due]:
        """Due deliveries, leased so another process (or the next tick) leaves them alone."""
        return self._claim(now, (AlertDelivery.sent_at.is_(None), Alert.acknowledged_at.is_(None)))

    def claim_edits(self, now: datetime) -> list[Due]:
        """Copies sent that no longer read right: the episode grew, or it was acknowledged."""
        return self._claim(now, (
            AlertDelivery.sent_at.is_not(None), AlertDelivery.message_id.is_not(None), AlertDelivery.acknowledged_shown_at.is_(None),
            or_(Alert.acknowledged_at.is_not(None), AlertDelivery.shown_count < Alert.message_count),
        ))

    def _claim(self, now: datetime, conditions) -> list[Due]:
        with self.db.transaction() as session:
            rows = session.execute(
                select(AlertDelivery, Alert)
                .join(Alert, Alert.id == AlertDelivery.alert_id)
                .where(AlertDelivery.next_attempt_at <= now, *conditions)
                .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
                .limit(100)
                .with_for_update(of=AlertDelivery, skip_locked=True)
            ).all()
            due = []
            # Per clinic: its verified clinicians' chats → the language and the zone each reads.
            languages: dict[int, dict[int, str]] = {}
            zones: dict[int, dict[int, ZoneInfo]] = {}
            for delivery, alert in rows:
                delivery.attempts += 1
                delivery.next_attempt_at = now + LEASE
                if alert.clinic_id not in languages:
                    languages[alert.clinic_id] = clinician_languages(session, alert.clinic_id)
                    zones[alert.clinic_id] = chat_zones(session, alert.clinic_id)
                clinician = delivery.chat_id in languages[alert.clinic_id]
                with locales.use(languages[alert.clinic_id].get(delivery.chat_id, locales.DEFAULT)):
                    message = copy_of(session, alert, delivery, clinician, zones[alert.clinic_id].get(delivery.chat_id))
                edit_of = delivery.message_id if delivery.sent_at is not None else None
                due.append(Due(delivery.id, delivery.chat_id, message, edit_of, alert.message_count, alert.acknowledged_at is not None))
            return due

    def _sent(self, due: Due, message_id: int | None, now: datetime) -> None:
        with self.db.transaction() as session:
            delivery = session.get(AlertDelivery, due.delivery_id)
            delivery.sent_at, delivery.message_id, delivery.shown_count = now, message_id, due.shows
            delivery.next_attempt_at = now  # an edit it may need is due at once

    def _edited(self, due: Due, now: datetime) -> None:
        with self.db.transaction() as session:
            delivery = session.get(AlertDelivery, due.delivery_id)
            delivery.shown_count = max(delivery.shown_count, due.shows)
            delivery.next_attempt_at = now
            if due.acknowledged:
                delivery.acknowledged_shown_at = now

    def _failed(self, delivery_id: int, now: datetime) -> None:
        with self.db.transaction() as session:
            delivery = session.get(AlertDelivery, delivery_id)
            delivery.next_attempt_at = now + min(timedelta(seconds=5 * 2 ** min(delivery.attempts, 10)), MAX_BACKOFF)
