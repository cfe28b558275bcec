"""Sends due prompts, one at a time: claim it, send it, record what Telegram said.

A prompt is claimed just before it is sent, in its own committed transaction: that record is
the send's record, written before the HTTP call. At most `in_flight` prompts per process are
between claim and confirmation, so a process killed mid-burst leaves at most that many whose
delivery is unknown; every other due prompt is still `scheduled`, and goes out after a restart.
A claim whose process died is marked `unknown` after `lease`, and never sent again (the patient
may have it: its buttons still work). Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED, so
several dispatchers on one PostgreSQL database never take the same prompt. What may go out at
all is decided in the claiming transaction by the consent gate (scheduler/outbound.py), and so is
the daily cap: a prompt over it is dropped or deferred there, and that transaction ends at once
(one patient's day counted per transaction, so dispatchers waiting on each other cannot deadlock).
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import DBAPIError

from scheduler import lessons, planner
from scheduler.outbound import blocked, held_by_pause, may_be_messaged, over_cap
from scheduler.planner import quiet_hours_end
from storage.db import Database
from storage.models import Patient, Prompt, utcnow
from storage.retry import retrying, transient

log = logging.getLogger(__name__)

# deliver(external_id, outputs) -> the id of the message that carries the buttons. The scheduler
# decides when and what; how it is worded (the dialogs) and sent (a transport) is handed in.
Deliver = Callable[[str, list[Any]], Awaitable[int | None]]
IN_FLIGHT = 5  # prompts between claim and Telegram's answer, per process: what a kill can leave unknown
CLAIMED = Prompt.SEND_BEGUN  # a send was started: the patient may have the invitation


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


QUIET = "quiet hours"  # the reason on a prompt snoozed to the end of the patient's quiet hours
HELD = Claim(0, False)  # the daily cap held one back: its transaction commits, then the next is looked for


class Dispatcher:
    def __init__(
        self,
        db: Database,
        invitations: Invitations,
        deliver: Deliver,
        *,
        clock: Callable[[], datetime] = utcnow,
        in_flight: int = IN_FLIGHT,
        lease: timedelta = timedelta(minutes=1),
    ):
        self.db = db
        self.invitations = invitations
        self.deliver = deliver
        self.clock = clock
        self.in_flight = in_flight
        self.lease = lease
        self._stopping = False
        self._ticking: asyncio.Task | None = None

    async def tick(self) -> int:
        """One round: close what is overdue, then send what is due, `in_flight` at a time, until
        nothing due is left. Returns prompts sent."""
        if self._stopping:
            return 0
        self._ticking = asyncio.current_task()
        now = self.clock()
        await asyncio.to_thread(retrying, self.db, lambda session: self.close_overdue(session, now))
        sent = 0

        async def sender() -> None:
            nonlocal sent
            while not self._stopping and (claim := await asyncio.to_thread(self.claim_one, self.clock())) is not None:  # a burst takes minutes
                try:
                    delivered = await self.send(claim)  # (not `sent += await …`: that reads `sent` before the wait)
                except Exception:  # wording or recording failed: this claim ends, the other senders stop with it
                    log.exception("prompt %s: the send failed", claim.prompt_id)
                    raise
                sent += delivered

        async with asyncio.TaskGroup() as senders:  # one failing cancels the rest: never more than `in_flight`
            for _ in range(self.in_flight):
                senders.create_task(sender())
        return sent

    async def drain(self, timeout: float = 10) -> None:
        """Claim nothing more; let the sends in flight finish and be recorded (SIGTERM). A send
        cancelled midway would leave its prompt claimed, to end "unknown" and never be resent."""
        self._stopping = True
        if self._ticking is not None and not self._ticking.done():
            await asyncio.wait([self._ticking], timeout=timeout)

    def close_overdue(self, session, now: datetime) -> None:
        started, never_sent = Prompt.started_at.is_not(None), Prompt.sent_at.is_(None)
        for statuses, condition, reason in [  # the first that matches gives the reason
            (("scheduled", "snoozed"), held_by_pause() & never_sent, "not sent: the patient paused reminders"),
            (("snoozed",), never_sent & (Prompt.reason == QUIET), "not sent: quiet hours until it expired"),
            (("scheduled", "snoozed"), never_sent, "not sent: expired before it could go"),
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
            .where(Prompt.status == "claimed", Prompt.claimed_at <= now - self.lease)
            .values(status="unknown", reason="claimed, then the process stopped before Telegram answered; not resent", updated_at=now)
        )

    def claim_one(self, now: datetime) -> Claim | None:
        """The next prompt (or reminder) to send, claimed in its own transaction; None when
        nothing is due. Due prompts inside a patient's quiet hours are snoozed to their end; those
        over the patient's daily cap are held back (scheduler/outbound.py)."""
        while (claim := retrying(self.db, lambda session: self._claim_prompt(session, now) or self._claim_reminder(session, now))) is HELD:
            pass
        return claim

    def _claim_prompt(self, session, now: datetime) -> Claim | None:
        while True:
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
                .order_by(Prompt.scheduled_for, Prompt.id)
                .limit(1)
                .with_for_update(skip_locked=True, of=Prompt)
            ).first()
            if due is None:
                return None
            due.updated_at = now
            quiet = self._quiet_until(session, [due.patient_id] if due.kind != "pacing_break" else [], now)
            if due.patient_id in quiet:  # wait for the end of the patient's quiet hours
                due.status, due.snoozed_until, due.reason = "snoozed", quiet[due.patient_id], QUIET
                session.flush()
                continue
            if over_cap(session, due, now):
                return HELD
            due.status, due.claimed_at = "claimed", now
            return Claim(due.id, False)

    def _claim_reminder(self, session, now: datetime) -> Claim | None:
        while True:
            prompt = session.scalars(
                select(Prompt)
                .join(Patient, Patient.id == Prompt.patient_id)
                .where(
                    Prompt.status == "sent",
                    Prompt.remind_at <= now,
                    Prompt.reminded_at.is_(None),
                    Prompt.expires_at > now,
                    Prompt.started_at.is_(None),  # started: no reminder wanted
                    Prompt.kind == "checkin",  # only a check-in has a reminder: every other kind is one message
                    *may_be_messaged(),
                )
                .order_by(Prompt.remind_at, Prompt.id)
                .limit(1)
                .with_for_update(skip_locked=True, of=Prompt)
            ).first()
            if prompt is None:
                return None
            quiet = self._quiet_until(session, [prompt.patient_id], now)
            if prompt.patient_id in quiet:
                prompt.remind_at = quiet[prompt.patient_id]
                session.flush()
                continue
            if over_cap(session, prompt, now, reminder=True):
                return HELD
            prompt.reminded_at = now  # claimed: one reminder at most, even if this send fails
            return Claim(prompt.id, True)

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
        external_id, outputs = await asyncio.to_thread(self._invitation, claim)
        if not outputs:  # consent ended (or the patient was erased) since the claim
            await asyncio.to_thread(self._record, claim, "cancelled", "consent ended before it went out")
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

    def _invitation(self, claim: Claim) -> tuple[str, list[Any]]:
        """Worded in a transaction of its own: once more if the connection it took had dropped (no
        ping per checkout: the first use after a database restart meets the dead connection), so
        one stale connection does not fail the send and, with it, the sends in flight beside it."""
        for delay in (0.05, 0.5, None):
            try:
                return self.invitations.prompt_invitation(claim.prompt_id, claim.reminder)
            except DBAPIError as error:
                if delay is None or not transient(error):
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _record(self, claim: Claim, outcome: str, reason: str | None, message_id: int | None = None) -> None:
        retrying(self.db, lambda session: self._record_in(session, claim, outcome, reason, message_id))

    def _record_in(self, session, claim: Claim, outcome: str, reason: str | None, message_id: int | None) -> None:
        now = self.clock()
        prompt = session.get(Prompt, claim.prompt_id, with_for_update=True)
        if prompt is None:  # erased with the patient meanwhile
            return
        if outcome != "blocked" and not claim.reminder and prompt.status not in CLAIMED:
            # The patient started (or finished) it while the invitation was on its way.
            prompt.message_id = message_id or prompt.message_id
            return
        if outcome == "blocked":
            prompt.status, prompt.reason = "blocked", reason
            blocked(session, session.get(Patient, prompt.patient_id), now)
        elif claim.reminder:
            if outcome != "sent":
                prompt.reason = f"reminder {outcome}: {reason}"
        elif outcome == "sent":
            prompt.status, prompt.message_id = "sent", message_id
            if prompt.sent_at is None:
                prompt.sent_at = now
                clinic = session.get(Patient, prompt.patient_id).clinic
                prompt.remind_at = now + timedelta(minutes=clinic.setting("reminder_after_minutes"))
                # Sent late (a long wave, quiet hours, a restart): the patient still gets the whole time to answer,
                # as planned (at most the clinic's expire_after_minutes: a deferred prompt's was stretched).
                lifetime = min(prompt.expires_at - prompt.scheduled_for, timedelta(minutes=clinic.setting("expire_after_minutes")))
                prompt.expires_at = max(prompt.expires_at, now + lifetime)
                self._plan_next(session, prompt, now)
        else:
            prompt.status, prompt.reason = outcome, reason
        prompt.updated_at = now

    @staticmethod
    def _plan_next(session, prompt: Prompt, now: datetime) -> None:
        """The patient's next prompts, planned in the transaction that records this one sent: the
        background sweep is then only a safety net (a handful of queries for one patient; one whose
        dialog step holds their row is left to the sweep, never waited for). In a savepoint: if
        planning fails (a race with the sweep, say), the send is still recorded and the sweep plans."""
        try:
            with session.begin_nested():
                planner.plan(session, now, patient_ids=[prompt.patient_id])
                if prompt.kind == "lesson":  # the next lesson can be planned only once this one is out
                    lessons.plan(session, now, patient_ids=[prompt.patient_id])
        except Exception:
            log.exception("prompt %s: planning the patient's next prompts failed; the sweep will", prompt.id)
