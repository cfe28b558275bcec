"""The dialog engine: one inbound event in, a list of outputs out, in one transaction.

Every step loads the patient and their dialog state, screens any text for safety first, runs
the dialog (a `Turn`, dialogs/turn.py), and saves the new state together with what the step
recorded and the update id. A crash before the commit leaves nothing behind; a redelivered
update is applied once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable


import locales
import screen
from dialogs import charts, helplines, prompts, records
from dialogs.buttons import Signer
from dialogs.records import Database, IntegrityError, Session
from dialogs.io import Command, Inbound, Message, Output, Who, text_of
from dialogs.turn import Turn
from locales import _
from scheduler import planner
from screen.policy import DANGER
from storage import enrollment, keys
from storage import updates
from storage.models import Patient, Prompt, utcnow


def region_of(patient: Patient, language_code: str | None = None) -> str | None:
    """The patient's country: their own choice, their time zone's, or their language code's."""
    return locales.region_of(patient.country, patient.timezone, language_code)


class Engine:
    def __init__(self, db: Database, *, source: str = "telegram", clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.source = source  # namespace of update ids
        self.clock = clock
        self._signer: Signer | None = None

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = Signer(keys.button_keys(self.db))
        return self._signer

    def handle(self, inbound: Inbound) -> list[Output]:
        """One step in a transaction of its own (a transport may instead run `step` inside its
        unit of work, as the Telegram transport does with the clinician check)."""
        signer = self.signer  # (read before the step's transaction: the first read may write the key)
        try:
            with self.db.transaction() as session:
                outputs = self.step(session, inbound, signer)
            return charts.drawn(outputs)  # after the commit: a chart never holds the database
        except NotInvited:  # nothing was stored: they are not a patient here
            return self.not_invited(inbound)

    def not_invited(self, inbound: Inbound) -> list[Output]:
        """The reply to someone who is no patient here and brings no invitation."""
        with locales.use(locales.negotiate(inbound.who.language_code)):
                text = text_of(inbound.event)
                if text and set(screen.screen(text).outcomes()) & DANGER:
                    # Not a patient of ours, but never left without the crisis lines.
                    return [Message(helplines.crisis_text(locales.territory_of(inbound.who.language_code), {}), urgent=True)]
                return [Message(_("Hello! I work with patients of a clinic, who join through their clinic's invitation link. "
                                  "Please ask your clinic for your link."))]

    def step(self, session: Session, inbound: Inbound, signer: Signer | None = None, *, patient: Patient | None = None) -> list[Output]:
        """The step, inside the caller's transaction; raises NotInvited (roll it back, then answer
        with `not_invited`) for a new person without an invitation where one is needed. `patient`:
        read and locked already in this transaction (`records.arriving`), not read again."""
        signer = signer or self.signer
        if inbound.update_id is not None and not self._first_delivery(session, inbound):
            return []  # applied already, and its replies kept in the outbox: nothing twice
        created = False
        if patient is None:
            patient, created = find_or_create_patient(session, self.db, inbound.who)
        if created and not patient.clinic.setting("join_without_invite") and not _brings_invite(session, inbound.event, self.clock()):
            raise NotInvited()
        if not patient.reachable:  # they wrote to us: blocked no longer, check-ins resume
            patient.reachable = True
            if patient.onboarded_at is not None:
                planner.replan(session, patient, self.clock())
        with locales.use(patient.language, region_of(patient, inbound.who.language_code)):
            turn = Turn(session, patient, self.clock(), signer, inbound.who.language_code)
            turn.handle(inbound.event, inbound.stopped_guide)
            return turn.outputs

    def current_question(self, who: Who) -> list[Output]:
        """The question the patient is at, asked again (after an error, for example); nothing for
        someone who is not a patient (uninvited, or just deleted)."""
        signer = self.signer
        with self.db.transaction() as session:
            patient = records.patient(session, who.channel, who.external_id)
            if patient is None:
                return []
            with locales.use(patient.language, region_of(patient, who.language_code)):
                turn = Turn(session, patient, self.clock(), signer, who.language_code)
                turn.ask()
                return turn.outputs

    def prompt_invitation(self, prompt_id: int, reminder: bool = False) -> tuple[str, list[Output]]:
        """The message inviting a patient to a scheduled check-in (or reminding them of it)."""
        signer = self.signer
        with self.db.transaction() as session:
            prompt = session.get(Prompt, prompt_id)
            patient = session.get(Patient, prompt.patient_id) if prompt is not None else None
            if patient is None or patient.consent != "given" or patient.discharged_at is not None:
                return "", []  # erased, withdrawn or discharged since the claim: nothing goes out
            with locales.use(patient.language, region_of(patient)):
                turn = Turn(session, patient, self.clock(), signer)
                prompts.invite(turn, prompt, reminder=reminder)
                return patient.external_id, turn.outputs

    def language_of(self, who: Who) -> str:
        with self.db.transaction() as session:
            patient = records.patient(session, who.channel, who.external_id)
            return patient.language if patient else locales.negotiate(who.language_code)

    def _first_delivery(self, session: Session, inbound: Inbound) -> bool:
        chat_id, message_id = inbound.message or (None, None)
        return updates.first_time(session, self.source, inbound.update_id, self.clock(), chat_id=chat_id, message_id=message_id)


class NotInvited(Exception):
    """A new person without an invitation, where the clinic takes only invited patients."""


def _brings_invite(session: Session, event, now: datetime) -> bool:
    return isinstance(event, Command) and event.name == "start" and enrollment.usable(session, event.args, "patient", now)


def find_or_create_patient(session: Session, db: Database, who: Who) -> tuple[Patient, bool]:
    # The row lock serialises one patient's steps across processes (PostgreSQL; SQLite has one writer).
    patient = records.patient(session, who.channel, who.external_id, lock=True)
    if patient is not None:
        return patient, False
    patient = Patient(
        clinic_id=db.default_clinic(session).id,
        study_code=enrollment.new_study_code(session),
        channel=who.channel,
        external_id=who.external_id,
        language=locales.negotiate(who.language_code),
    )
    try:
        with session.begin_nested():
            session.add(patient)
    except IntegrityError:  # the same new patient arrived twice at once
        other = records.patient(session, who.channel, who.external_id, lock=True)
        if other is None:
            raise RuntimeError("a new patient's row clashed with one that is not there")
        return other, False
    return patient, True
