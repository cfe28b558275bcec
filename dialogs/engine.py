"""The dialog engine: one inbound event in, a list of outputs out, in one transaction.

Every step loads the patient and their dialog state, screens any text for safety first, runs
the dialog, and saves the new state together with what the step recorded and the update id.
A crash before the commit leaves nothing behind; a redelivered update is applied once.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from babel.core import get_global
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import locales
from storage import enrollment
from dialogs import advice, flare, mydata, progress, prompts, safety
from dialogs.buttons import ACTION, GUIDE, STEP, Pressed, Signer
from dialogs.base import Answer, Call, Choice, Dialog, Frame, Invalid, Question, dialog_class
from dialogs.io import Button, Command, Edit, Edited, Inbound, Media, Message, Output, Press, Text, Who
import screen
from screen.policy import DANGER
from screen.text import normalize
from scheduler import planner
from locales import _
from storage import keys
from storage.db import Database
from storage.models import DialogState, Patient, ProcessedUpdate, Prompt, utcnow

ONBOARDING = "onboarding"
MENU = "menu"
NAVIGATION = {"start", "menu", "language", "timezone", "cancel", "progress", "withdraw", "delete"}  # commands that leave a crisis pause
MAX_BUTTON_LABEL = 100


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
        try:
            return self._handle(inbound)
        except NotInvited:  # nothing was stored: they are not a patient here
            with locales.use(locales.negotiate(inbound.who.language_code)):
                text = _text_of(inbound.event)
                if text and set(screen.screen(text).outcomes()) & DANGER:
                    # Not a patient of ours, but never left without the crisis lines.
                    return [Message(safety.crisis_text(locales.territory_of(inbound.who.language_code), {}), urgent=True)]
                return [Message(_("Hello! I work with patients of a clinic, who join through their clinic's invitation link. "
                                  "Please ask your clinic for your link."))]

    def _handle(self, inbound: Inbound) -> list[Output]:
        signer = self.signer  # (read before the step's transaction: the first read may write the key)
        with self.db.transaction() as session:
            patient, created = find_or_create_patient(session, self.db, inbound.who)
            if created and not patient.clinic.setting("join_without_invite") and not _brings_invite(session, inbound.event, self.clock()):
                raise NotInvited()
            if not patient.reachable:  # they wrote to us: blocked no longer, check-ins resume
                patient.reachable = True
                if patient.onboarded_at is not None:
                    planner.replan(session, patient, self.clock())
            with locales.use(patient.language, region_of(patient, inbound.who.language_code)):
                turn = Turn(session, patient, self.clock(), signer, inbound.who.language_code)
                if inbound.update_id is not None and not self._first_delivery(session, patient, inbound.update_id):
                    turn.ask()  # already applied: show where they are, change nothing
                else:
                    turn.handle(inbound.event)
                return turn.outputs

    def current_question(self, who: Who) -> list[Output]:
        """The question the patient is at, asked again (after an error, for example); nothing for
        someone who is not a patient (uninvited, or just deleted)."""
        signer = self.signer
        with self.db.transaction() as session:
            patient = session.scalars(_patient_query(who)).one_or_none()
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
            patient = session.get(Patient, prompt.patient_id)
            with locales.use(patient.language, region_of(patient)):
                turn = Turn(session, patient, self.clock(), signer)
                prompts.invite(turn, prompt, reminder=reminder)
                return patient.external_id, turn.outputs

    def language_of(self, who: Who) -> str:
        with self.db.transaction() as session:
            patient = session.scalars(_patient_query(who)).one_or_none()
            return patient.language if patient else locales.negotiate(who.language_code)

    def _first_delivery(self, session: Session, patient: Patient, update_id: int) -> bool:
        if session.get(ProcessedUpdate, (self.source, update_id)) is not None:
            return False
        session.add(ProcessedUpdate(source=self.source, update_id=update_id))
        return True


class NotInvited(Exception):
    """A new person without an invitation, where the clinic takes only invited patients."""


def _brings_invite(session: Session, event, now: datetime) -> bool:
    return isinstance(event, Command) and event.name == "start" and enrollment.usable(session, event.args, "patient", now)


def region_of(patient: Patient, language_code: str | None = None) -> str | None:
    """The patient's country: their own choice, their time zone's, or their language code's."""
    if patient.country:
        return patient.country
    if patient.timezone and (country := get_global("zone_territories").get(patient.timezone)):
        return country
    return locales.territory_of(language_code)


def _patient_query(who: Who):
    return select(Patient).where(Patient.channel == who.channel, Patient.external_id == who.external_id)


def find_or_create_patient(session: Session, db: Database, who: Who) -> tuple[Patient, bool]:
    # The row lock serialises one patient's steps across processes (PostgreSQL; SQLite has one writer).
    query = _patient_query(who).with_for_update()
    patient = session.scalars(query).one_or_none()
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
        return session.scalars(query).one(), False
    return patient, True


class Turn:
    """One step for one patient: the dialog position, the outputs, and the moves between dialogs."""

    def __init__(self, session: Session, patient: Patient, now: datetime, signer: Signer, language_code: str | None = None):
        self.session = session
        self.patient = patient
        self.now = now
        self.signer = signer
        self.language_code = language_code  # Telegram's, as sent with this update; never stored
        self.text: str | None = None  # what the patient wrote in this update, if anything
        self.replied = False  # the safety screen or the advice already answered what they wrote
        self.screened_with: str | None = None  # the screen's model version, recorded with safety events
        self.outputs: list[Output] = []
        state = session.get(DialogState, patient.id)
        if state is None:
            start = dialog_class(ONBOARDING)
            state = DialogState(patient_id=patient.id, dialog=start.name, state=start.initial, data={}, stack=[], step=1)
            session.add(state)
            self.fresh = True
        else:
            self.fresh = False
        self.state = state

    # -- what came in -------------------------------------------------------------------------

    def handle(self, event) -> None:
        text = self.text = _text_of(event)
        if text and safety.answer_screening(self, event, screen.screen(text)):
            return  # the crisis path or the direct question: the step waits
        if self.fresh:
            if isinstance(event, Command) and event.name == "start" and event.args:
                self.join_clinic(event.args)  # opened their clinic's invitation link
            self.ask()
        elif (self.patient.consent == "withdrawn" and self.state.dialog not in (ONBOARDING, "delete")
              and not (isinstance(event, Command) and event.name in ("start", "help", "mydata", "delete"))
              and not self._answers_safety(event)):
            self.say(_("You have withdrawn your consent, so I keep nothing new. Send /start if you'd like to take part again."))
        elif isinstance(event, Command):
            self.command(event)
        elif isinstance(event, Press):
            self.press(event)
        elif isinstance(event, Edited) and self.state.paused:
            safety.still_paused(self)  # the lines again, whatever was edited
        elif isinstance(event, (Edited, Media)):
            if isinstance(event, Edited):
                self.say(_("I keep answers as you first sent them. If you want to change one, just send it again."))
            else:
                number = safety.emergency_number(safety.country_of(self), self.patient.clinic.settings)
                self.say(_("I can only read text, so I can't open that. If you need help urgently, call {number}.").format(number=number))
            dialog = self.dialog()
            if not self.state.paused and (trigger := dialog.interrupted()):
                self.fire(dialog, trigger)
            elif isinstance(event, Media):
                self.ask()
        elif self.state.paused:
            safety.still_paused(self)
        elif safety.typed_direct_answer(self, event.text):
            pass
        else:
            if flare.mentions_flare(event.text):
                said = len(self.outputs)
                flare.offer(self)  # first, and no "please choose a button" after it
                self.replied = self.replied or len(self.outputs) > said
            self.answer(Answer(text=event.text))

    def _answers_safety(self, event) -> bool:
        """A press or typed answer to the direct question, or anything while the crisis pause
        holds: answered whatever the consent (withdrawing consent never ends the crisis path)."""
        if isinstance(event, Press):
            pressed = self.pressed_action(event)
            return pressed is not None and pressed.action in (safety.DIRECT, safety.RESUME)
        return self.state.paused or (isinstance(event, Text) and safety.typed_answer_value(self, event.text) is not None)

    def command(self, command: Command) -> None:
        consented = self.patient.consent == "given"
        onboarded = self.patient.onboarded_at is not None
        name = command.name
        if name in NAVIGATION and self.state.paused:
            safety.unpause(self)  # the patient chose where to go
        if name == "start":
            if command.args:
                self.join_clinic(command.args)
            self.start_command()
        elif name == "help":
            self.say(help_text(self))
            self.ask()
        elif name == "menu":
            if onboarded:
                self.restart_at(MENU)
            else:
                self.say(_("Let's finish setting up first; it only takes a few minutes."))
                self.ask()
        elif name == "language":
            self.call(Call("language"))
        elif name == "timezone":
            if consented:
                self.call(Call("timezone"))
            else:
                self.say(_("We'll set your time zone right after you've agreed to take part."))
                self.ask()
        elif name == "progress":
            if onboarded:
                progress.progress(self)
            else:
                self.say(_("Let's finish setting up first; it only takes a few minutes."))
            self.ask()
        elif name == "cancel":
            self.cancel()
        elif name == "withdraw":
            self.withdraw()
        elif name == "mydata":
            mydata.send(self)
            self.ask()
        elif name == "delete":
            self.call(Call("delete"))  # explains what deletion means, then asks to confirm
        else:
            self.say(_("I don't know that command. Try /menu, or /help to see what I can do."))
            self.ask()

    def withdraw(self) -> None:
        """Consent withdrawn: nothing more is sent or kept; what was shared stays with the clinic."""
        if self.patient.consent != "given":
            self.say(_("There is no consent to withdraw."))
            self.ask()
            return
        self.patient.consent, self.patient.consent_at = "withdrawn", self.now
        planner.replan(self.session, self.patient, self.now)  # plans for consenting patients only: none
        self.state.stack = []
        self.say(_("You have withdrawn your consent. I won't send you anything more, and I keep nothing new. "
                   "What you shared so far stays with your clinic; send /delete if you want it erased. "
                   "Send /start if you'd like to take part again."))

    def join_clinic(self, code: str) -> None:
        """/start <code> from a clinic's invitation link: enrolled into that clinic, once."""
        if self.patient.enrolled_at is not None:
            if enrollment.usable(self.session, code, "patient", self.now):
                self.say(_("You are already connected to your clinic, so this link isn't needed."))
            return
        invite = enrollment.redeem(self.session, code, "patient", self.now)
        if invite is None:
            self.say(_("This invitation link has expired or was already used. Please ask your clinic for a new one."))
            return
        enrollment.enroll(self.patient, invite, self.now)
        self.session.flush()
        self.session.refresh(self.patient, ["clinic"])
        self.say(_("Welcome! You are now connected to {clinic}.").format(clinic=self.patient.clinic.name))

    def start_command(self) -> None:
        if self.patient.consent == "withdrawn":  # taking part again: from the consent question
            self.state.stack, self.state.dialog, self.state.state, self.state.data = [], ONBOARDING, "consent", {}
            self.next_step()
            self.ask()
            return
        if self.patient.onboarded_at is not None:
            self.restart_at(MENU)
            return
        dialog = self.dialog()
        trigger = dialog.on_start_command() if hasattr(dialog, "on_start_command") else None
        if trigger:
            self.fire(dialog, trigger)
        else:
            self.ask()

    def cancel(self) -> None:
        stack = self.state.stack
        if stack and stack[-1].get("cancellable", True):  # back to what it interrupted
            self.say(_("Cancelled."))
            self.finish()
        elif self.patient.onboarded_at is not None and self.state.dialog != MENU:
            self.say(_("Cancelled."))
            self.restart_at(MENU)
        else:
            self.say(_("There's nothing to cancel here. We can carry on whenever you're ready."))
            self.ask()

    def press(self, press: Press) -> None:
        on_its_message = press.shown is None or press.button_id in press.shown
        if on_its_message and (pressed := self.pressed_action(press)) is not None:
            self.action(pressed)
            return
        choice = self._pressed_choice(press) if on_its_message else None
        if choice is None:
            self.say(_("This button has expired."))
            self.ask()
            return
        if self.state.paused:
            safety.still_paused(self)  # nothing takes them elsewhere until they choose to continue
            return
        if press.message_id is not None and press.message_text:
            # Leave the question in the chat with the answer under it, and no buttons to press twice.
            self.outputs.append(Edit(press.message_id, f"{press.message_text}\n\n✓ {choice.label}"))
        self.answer(Answer(choice=choice.value))

    def action(self, pressed: Pressed) -> None:
        """A button that stands outside the steps."""
        live = {safety.RESUME: self.state.paused, safety.DIRECT: safety.direct_question_open(self)}.get(pressed.action, True)
        if not live or pressed.action not in (safety.RESUME, safety.DIRECT, prompts.ACTION, flare.OFFER, advice.NOTE):
            self.say(_("This button has expired."))
            self.ask()
        elif self.state.paused and pressed.action != safety.RESUME:
            safety.still_paused(self)
        elif pressed.action == safety.RESUME:
            safety.resume(self)
        elif pressed.action == safety.DIRECT:
            safety.direct_answer(self, pressed.value)
        elif pressed.action == prompts.ACTION:
            prompts.on_press(self, pressed.value)
        elif pressed.action == flare.OFFER:
            flare.on_press(self)
        else:
            advice.note(self, pressed.value)

    def pressed_action(self, press: Press) -> Pressed | None:
        """The action a press carries, if it is one and signed for this patient."""
        pressed = self.signer.read(press.button_id)
        if pressed is None or pressed.kind != ACTION or not self.signer.verify(self.patient.id, pressed):
            return None
        return pressed

    def _pressed_choice(self, press: Press) -> Choice | None:
        """The choice a step button answers: shown at this step, and signed for this patient and
        this very choice. Anything else has expired."""
        pressed = self.signer.read(press.button_id)
        if pressed is None or pressed.kind != STEP or pressed.step != self.state.step:
            return None
        question = self.dialog().ask()
        if not isinstance(question, Question):
            return None
        if pressed.index == GUIDE:
            choice = question.guide_done
        else:
            choice = question.choices[pressed.index] if pressed.index < len(question.choices) else None
        if choice is None or not self.signer.verify(self.patient.id, pressed, choice.value):
            return None
        return choice

    def answer(self, answer: Answer) -> None:
        dialog = self.dialog()
        if answer.text is not None:
            answer = self._typed_choice(answer)
        result = dialog.read(answer)
        if isinstance(result, str):
            self.fire(dialog, result)
            return
        if isinstance(result, Invalid):
            self.say(result.message)
        elif isinstance(question := dialog.ask(), Question) and question.choices and not self.replied:
            # (Not after a safety or advice reply: that message was not meant as an answer.)
            self.say(_("Please choose one of the buttons below."))
        self.ask()

    def _typed_choice(self, answer: Answer) -> Answer:
        """Typing a button counts as pressing it: its label, the start of its label ("yes" for
        "Yes, I agree"), or a plain yes or no in any of our languages; case, accents and
        punctuation aside."""
        typed = normalize(answer.text)
        if not typed:
            return answer
        question = self.dialog().ask()
        buttons = [(choice.label, choice.value) for choice in question.choices] if isinstance(question, Question) else []
        # Number buttons match only exactly: normalising "-3" would drop the sign.
        exact = answer.text.strip()
        labelled = [(normalize(label), value) for label, value in buttons if any(ch.isalpha() for ch in label)]
        for matches in (
            [value for label, value in buttons if label == exact]
            + [value for label, value in labelled if label == typed or normalize(value) == typed],
            [value for label, value in labelled if label.startswith(typed + " ")],
            [value for label, value in labelled if _polarity(label) and _polarity(label) == _polarity(typed)],
        ):
            if len(set(matches)) == 1:
                return Answer(choice=matches[0])
        return answer

    # -- moving between states and dialogs --------------------------------------------------------

    def dialog(self) -> Dialog:
        dialog = dialog_class(self.state.dialog)(self, dict(self.state.data))
        dialog.state = self.state.state
        return dialog

    def fire(self, dialog: Dialog, trigger: str) -> None:
        machine = type(dialog).machine
        machine.add_model(dialog, initial=self.state.state)
        try:
            dialog.trigger(trigger)
        finally:
            machine.remove_model(dialog)
        self.state.state = dialog.state
        self.state.data = dict(dialog.data)
        if dialog.state in dialog.final:
            dialog.finished()
            self.finish()
        else:
            self.next_step()
            self.ask()

    def call(self, call: Call) -> None:
        if call.dialog == self.state.dialog:  # /language inside the language dialog: start it afresh
            self.enter(call.dialog, call.data)
            return
        frame = Frame(self.state.dialog, self.state.state, dict(self.state.data), call.on_return, call.cancellable)
        self.state.stack = [*self.state.stack, frame.__dict__]
        self.enter(call.dialog, call.data)

    def enter(self, name: str, data: dict | None = None) -> None:
        self.state.dialog = name
        self.state.state = dialog_class(name).initial
        self.state.data = dict(data or {})
        self.next_step()
        self.ask()

    def restart_at(self, name: str) -> None:
        self.state.stack = []
        self.enter(name)

    def finish(self) -> None:
        """The current dialog ended: return to the one it interrupted, or to the menu."""
        if not self.state.stack:
            self.enter(MENU if self.patient.onboarded_at else ONBOARDING)
            return
        *rest, top = self.state.stack
        frame = Frame(**top)
        self.state.stack = rest
        self.state.dialog, self.state.state, self.state.data = frame.dialog, frame.state, frame.data
        if frame.on_return:
            self.fire(self.dialog(), frame.on_return)
        else:
            self.next_step()
            self.ask()

    def next_step(self) -> None:
        self.state.step += 1  # buttons of earlier steps now read as expired

    # -- what goes out ----------------------------------------------------------------------------

    def ask(self) -> None:
        if self.state.paused:  # after a crisis message, nothing but the pause until they continue
            safety.still_paused(self)
            return
        question = self.dialog().ask()
        if isinstance(question, Call):
            self.call(question)
            return
        if question.guide:
            done = self.signer.step(self.patient.id, self.state.step, GUIDE, question.guide_done.value)  # never shown
            self.say(question.text, question.choices, question.columns)
            self.outputs[-1] = replace(self.outputs[-1], guide=question.guide, guide_done=done)
            return
        self.say(question.text, question.choices, question.columns, expects_number=question.expects_number)

    def say(
        self, text: str, choices: Iterable[Choice] = (), columns: int = 1, *, action: str | None = None,
        expects_number: bool = False, standalone: bool = False,
    ) -> None:
        """Send a message; choices become buttons that answer this step (or stand for `action`)."""
        buttons = [self._button(index, choice, action) for index, choice in enumerate(choices)]
        rows = tuple(tuple(buttons[i : i + columns]) for i in range(0, len(buttons), columns))
        self.outputs.append(Message(text, rows, expects_number, standalone=standalone))

    def _button(self, index: int, choice: Choice, action: str | None) -> Button:
        label = choice.label[:MAX_BUTTON_LABEL]
        if action:
            return Button(self.signer.action(self.patient.id, action, choice.value), label)
        return Button(self.signer.step(self.patient.id, self.state.step, index, choice.value), label)

    def local_date(self, moment: datetime | None = None) -> date:
        """A moment (now by default) as a date on the patient's own calendar."""
        return (moment or self.now).astimezone(ZoneInfo(self.patient.timezone or "UTC")).date()

    def switch_language(self, language: str) -> None:
        self.patient.language = language
        locales.switch(language)


YES = {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "si", "claro", "vale", "ja", "jawohl", "jep", "genau"}
NO = {"no", "nope", "nah", "nein", "ne", "noe"}


def _polarity(text: str) -> str | None:
    """Whether a normalised text starts with a yes or a no word (None if neither)."""
    first = text.split(" ", 1)[0]
    return "yes" if first in YES else "no" if first in NO else None


def _text_of(event) -> str | None:
    if isinstance(event, (Text, Edited)):
        return event.text
    if isinstance(event, Media):
        return event.caption
    if isinstance(event, Command):
        return event.args
    return None


def help_text(turn: Turn) -> str:
    return "\n".join(
        [
            _("I'm paincoach, your clinic's companion between visits."),
            "",
            _("/menu – the main menu"),
            _("/progress – your chart of the last weeks"),
            _("/language – change the language"),
            _("/timezone – change your time zone"),
            _("/cancel – leave what you're doing"),
            _("/mydata – everything I keep about you, as a file"),
            _("/withdraw – withdraw your consent"),
            _("/delete – delete everything I keep about you"),
            _("/help – this message"),
            "",
            safety.not_an_emergency_line(turn),
        ]
    )
