"""Sends due prompts: claim in the database, send through the transport, record what happened.

A prompt is marked `claimed` (in its own committed transaction) before it is sent and `sent` only
after Telegram confirms. Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED, so several
dispatchers on one PostgreSQL database never take the same prompt; SQLite has one process.
A prompt left `claimed` by a process that died is recorded as `unknown` and never resent.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, or_, select, true, update

from scheduler.times import instant, parse_hhmm
from storage.db import Database
from storage.models import DialogState, Patient, Prompt, utcnow

log = logging.getLogger(__name__)

# deliver(external_id, outputs) -> the id of the message that carries the buttons. The scheduler
# decides when and what; how it is worded (the dialogs) and sent (a transport) is handed in.
Deliver = Callable[[str, list[Any]], Awaitable[int | None]]


class Invitations(Protocol):
    """Words the invitation to a prompt (the dialog engine does)."""

    def prompt_invitation(self, prompt_id: int, reminder: bool = False) -> tuple[str, list[Any]]: ...


class Blocked(Exception):
    """The transport says the patient blocked the bot: nothing more goes to them until they write."""


class NotDelivered(Exception):
    """The transport could not deliver (and will not retry)."""


@dataclass
class Claim:
    prompt_id: int
    reminder: bool


def may_be_messaged():
    """Patients we may write to now: reachable, not in a crisis pause, and for check-ins, not
    paused. (A planned break the patient asked for is not a check-in: it goes out regardless.)"""
    in_crisis_pause = exists().where(DialogState.patient_id == Patient.id, DialogState.paused)
    return [Patient.reachable, or_(Patient.checkins_paused.is_(False), Prompt.kind == "pacing_break"), ~in_crisis_pause]


def quiet_hours_end(patient: Patient, now: datetime) -> datetime | None:
    """When the patient's quiet hours (e.g. 22:00-07:00 local) end, if `now` falls inside them."""
    zone = ZoneInfo(patient.timezone or "UTC")
    local = now.astimezone(zone)
    start, end = parse_hhmm(patient.quiet_start), parse_hhmm(patient.quiet_end)
    clock = local.time()
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return instant(day, end, zone)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        invitations: Invitations,
        deliver: Deliver,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 500,
        claim_timeout: timedelta = timedelta(minutes=10),
    ):
        self.db = db
        self.invitations = invitations
        self.deliver = deliver
        self.clock = clock
        self.batch = batch
        self.claim_timeout = claim_timeout

    async def tick(self) -> int:
        """One round: close what is overdue, claim what is due, send it. Returns prompts sent."""
        now = self.clock()
        await asyncio.to_thread(self.close_overdue, now)
        claims = await asyncio.to_thread(self.claim, now)
        results = await asyncio.gather(*(self.send(claim) for claim in claims))
        return sum(results)

    def close_overdue(self, now: datetime) -> None:
        started = Prompt.started_at.is_not(None)
        with self.db.transaction() as session:
            for statuses, condition, reason in [
                (("scheduled",), true(), "missed: not delivered before it expired"),
                (("sent", "snoozed"), started, "missed: partly answered before it expired"),
                (("sent", "snoozed"), ~started, "missed: no answer before it expired"),
            ]:
                session.execute(
                    update(Prompt)
                    .where(Prompt.status.in_(statuses), Prompt.expires_at <= now, condition)
                    .values(status="expired", reason=reason, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
            session.execute(
                update(Prompt)
                .where(Prompt.status == "claimed", Prompt.claimed_at <= now - self.claim_timeout)
                .values(status="unknown", reason="claimed, then the process stopped before Telegram confirmed; not resent", updated_at=now)
            )

    def claim(self, now: datetime) -> list[Claim]:
        with self.db.transaction() as session:
            due = session.scalars(
                select(Prompt)
                .join(Patient, Patient.id == Prompt.patient_id)
                .where(
                    or_(
                        and_(Prompt.status == "scheduled", Prompt.scheduled_for <= now),
                        and_(Prompt.status == "snoozed", Prompt.snoozed_until <= now),
                    ),
                    Prompt.expires_at > now,
                    *may_be_messaged(),
                )
                .order_by(Prompt.scheduled_for)
                .limit(self.batch)
                .with_for_update(skip_locked=True, of=Prompt)
            ).all()
            quiet = self._quiet_until(session, [p.patient_id for p in due if p.kind != "pacing_break"], now)
            claimed = []
            for prompt in due:
                if prompt.patient_id in quiet:  # wait for the end of the patient's quiet hours
                    prompt.status, prompt.snoozed_until, prompt.reason = "snoozed", quiet[prompt.patient_id], "quiet hours"
                else:
                    prompt.status, prompt.claimed_at = "claimed", now
                    claimed.append(prompt)
                prompt.updated_at = now
            remind = session.scalars(
                select(Prompt)
                .join(Patient, Patient.id == Prompt.patient_id)
                .where(
                    Prompt.status == "sent",
                    Prompt.remind_at <= now,
                    Prompt.reminded_at.is_(None),
                    Prompt.expires_at > now,
                    Prompt.started_at.is_(None),  # started: no reminder wanted
                    *may_be_messaged(),
                )
                .limit(self.batch)
                .with_for_update(skip_locked=True, of=Prompt)
            ).all()
            quiet = self._quiet_until(session, [p.patient_id for p in remind], now)
            reminders = []
            for prompt in remind:
                if prompt.patient_id in quiet:
                    prompt.remind_at = quiet[prompt.patient_id]
                else:
                    prompt.reminded_at = now  # claimed: one reminder at most, even if this send fails
                    reminders.append(prompt)
            return [Claim(p.id, False) for p in claimed] + [Claim(p.id, True) for p in reminders]

    def _quiet_until(self, session, patient_ids: list[int], now: datetime) -> dict[int, datetime]:
        """The patients (of these) now inside their quiet hours, with the instant those end."""
        if not patient_ids:
            return {}
        quiet = {}
        rows = session.scalars(select(Patient).where(Patient.id.in_(set(patient_ids)), Patient.quiet_start.is_not(None)))
        for patient in rows:
            if until := quiet_hours_end(patient, now):
                quiet[patient.id] = until
        return quiet

    async def send(self, claim: Claim) -> int:
        external_id, outputs = await asyncio.to_thread(self.invitations.prompt_invitation, claim.prompt_id, claim.reminder)
        if not outputs:
            return 0
        try:
            message_id = await self.deliver(external_id, outputs)
        except Blocked as error:
            await asyncio.to_thread(self._record, claim, "blocked", str(error))
            return 0
        except NotDelivered as error:
            log.warning("prompt %s not delivered: %s", claim.prompt_id, error)
            await asyncio.to_thread(self._record, claim, "failed", str(error))
            return 0
        await asyncio.to_thread(self._record, claim, "sent", None, message_id)
        return 1

    def _record(self, claim: Claim, outcome: str, reason: str | None, message_id: int | None = None) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            prompt = session.get(Prompt, claim.prompt_id, with_for_update=True)
            if outcome != "blocked" and not claim.reminder and prompt.status != "claimed":
                # The patient started (or finished) it while the invitation was on its way.
                prompt.message_id = message_id or prompt.message_id
                return
            if outcome == "blocked":
                prompt.status, prompt.reason = "blocked", reason
                patient = session.get(Patient, prompt.patient_id)
                patient.reachable = False  # not messaged again until they write to us
                session.execute(
                    update(Prompt)
                    .where(Prompt.patient_id == patient.id, Prompt.status == "scheduled")
                    .values(status="blocked", reason="the patient blocked the bot", updated_at=now)
                )
            elif claim.reminder:
                if outcome != "sent":
                    prompt.reason = f"reminder {outcome}: {reason}"
            elif outcome == "sent":
                prompt.status, prompt.message_id = "sent", message_id
                if prompt.sent_at is None:
                    prompt.sent_at = now
                    reminder_after = session.get(Patient, prompt.patient_id).clinic.setting("reminder_after_minutes")
                    prompt.remind_at = now + timedelta(minutes=reminder_after)
            else:
                prompt.status, prompt.reason = outcome, reason
            prompt.updated_at = now
