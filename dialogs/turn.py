"""One step for one patient: the dialog position, the outputs, and the moves between dialogs.

A `Turn` lives inside the engine's one transaction (dialogs/engine.py). It routes what came in
(a text, a press, a command, an edit, media) after the safety screen, moves between states and
dialogs, and collects what goes out. Dialogs see it as `dialogs.base.Turn`.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Iterable
from zoneinfo import ZoneInfo


import locales
import screen
from dialogs import advice, commands, flares, helplines, prompts, safety
from dialogs.base import MENU, ONBOARDING, STOP, Answer, Call, Choice, Dialog, Frame, Invalid, Question
from dialogs.registry import dialog_class
from dialogs.buttons import ACTION, GUIDE, STEP, Pressed, Signer
from dialogs.records import Session
from dialogs.typed import typed_choice
from storage import keys
from dialogs.io import Button, Command, Edit, Edited, Media, Message, Output, Press, Text, text_of
from locales import _
from storage.models import DialogState, Patient

MAX_BUTTON_LABEL = 100


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

    def handle(self, event, stopped_guide: int | None = None) -> None:
        """One event; `stopped_guide`: the message of a guided exercise the transport stopped for it."""
        if stopped_guide is not None and not (isinstance(event, Press) and event.message_id == stopped_guide):
            # Its Stop button would go on reacting to nothing: the message loses it (a press on it
            # is answered on that message itself).
            self.outputs.append(Edit(stopped_guide, _("Exercise stopped.")))
        text = self.text = text_of(event)
        if text and safety.answer_screening(self, event, screen.screen(text)):
            return  # the crisis path or the direct question: the step waits
        if self.fresh:
            if isinstance(event, Command) and event.name == "start" and event.args:
                commands.join_clinic(self, event.args)  # opened their clinic's invitation link
            self.ask()
        elif (self.patient.consent == "withdrawn" and self.state.dialog not in (ONBOARDING, "delete")
              and not (isinstance(event, Command) and event.name in ("start", "help", "mydata", "delete"))
              and not self._answers_safety(event)):
            self.say(_("You have withdrawn your consent, so I keep nothing new. Send /start if you'd like to take part again."))
        elif isinstance(event, Command):
            self.stop_guide()
            commands.command(self, event)
        elif isinstance(event, Press):
            self.press(event)
        elif isinstance(event, Edited) and self.state.paused:
            safety.still_paused(self)  # the lines again, whatever was edited
        elif isinstance(event, (Edited, Media)):
            if isinstance(event, Edited):
                self.say(_("I keep answers as you first sent them. If you want to change one, just send it again."))
            else:
                number = helplines.emergency_number(safety.country_of(self), self.patient.clinic.settings)
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
            if flares.mentions_flare(event.text):
                said = len(self.outputs)
                flares.offer(self)  # first, and no "please choose a button" after it
                self.replied = self.replied or len(self.outputs) > said
            self.answer(Answer(text=event.text))

    def _answers_safety(self, event) -> bool:
        """A press or typed answer to the direct question, or anything while the crisis pause
        holds: answered whatever the consent (withdrawing consent never ends the crisis path)."""
        if isinstance(event, Press):
            pressed = self.pressed_action(event)
            return pressed is not None and pressed.action in (safety.DIRECT, safety.RESUME)
        return self.state.paused or (isinstance(event, Text) and safety.typed_answer_value(self, event.text) is not None)

    def press(self, press: Press) -> None:
        if press.button_id and not self.signer.knows(press.button_id):
            self.signer.learn(keys.read(self.session))  # another process may have rotated the key in
        on_its_message = press.shown is None or press.button_id in press.shown
        pressed = self.signer.read(press.button_id)
        if on_its_message and pressed is not None and pressed.kind == ACTION and self.signer.verify(self.patient.id, pressed):
            self.action(pressed)
            return
        choice = self._pressed_choice(pressed) if on_its_message and pressed is not None and pressed.kind == STEP else None
        if choice is None and pressed is not None and pressed.kind == STEP and self.signer.verify(self.patient.id, pressed, STOP):
            # The Stop of an exercise that is over: nothing to stop, and no button to press again.
            if on_its_message and press.message_id is not None and press.message_text:
                self.outputs.append(Edit(press.message_id, press.message_text))
            self.say(_("That exercise has already ended."))
            self.ask()
            return
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
        live = {safety.RESUME: self.state.paused, safety.DIRECT: safety.direct_question_open(self, pressed.value)}.get(pressed.action, True)
        if not live or pressed.action not in (safety.RESUME, safety.DIRECT, prompts.ACTION, flares.OFFER, advice.NOTE):
            self.say(_("This button has expired."))
            self.ask()
        elif self.state.paused and pressed.action != safety.RESUME:
            safety.still_paused(self)
        elif pressed.action == safety.RESUME:
            safety.resume(self)
        elif pressed.action == safety.DIRECT:
            safety.direct_answer(self, pressed.value.partition(":")[2])
        elif pressed.action == prompts.ACTION:
            prompts.on_press(self, pressed.value)
        elif pressed.action == flares.OFFER:
            flares.on_press(self)
        else:
            advice.note(self, pressed.value)

    def pressed_action(self, press: Press) -> Pressed | None:
        """The action a press carries, if it is one and signed for this patient."""
        pressed = self.signer.read(press.button_id)
        if pressed is None or pressed.kind != ACTION or not self.signer.verify(self.patient.id, pressed):
            return None
        return pressed

    def _pressed_choice(self, pressed: Pressed) -> Choice | None:
        """The choice a step button answers: shown at this step, and signed for this patient and
        this very choice. Anything else has expired."""
        if pressed.step != self.state.step:
            return None
        dialog = self.dialog()
        question = dialog.ask()
        if not isinstance(question, Question):
            return None
        if pressed.index == GUIDE:
            choice = question.guide_done
        else:
            choice = question.choices[pressed.index] if pressed.index < len(question.choices) else None
        if choice is None or not self.signer.verify(self.patient.id, pressed, choice.value):
            # A button of the question as it was laid out before (signed for its own value) still counts.
            return next((old for old in dialog.also_answers() if self.signer.verify(self.patient.id, pressed, old.value)), None)
        return choice

    def answer(self, answer: Answer) -> None:
        dialog = self.dialog()
        if answer.text is not None:
            answer = self._typed_choice(answer, dialog)
        result = dialog.read(answer)
        if isinstance(result, str):
            self.fire(dialog, result)
            return
        if isinstance(result, Invalid):
            self.say(result.message)
        elif isinstance(question := dialog.ask(), Question) and question.choices and not self.replied:
            # (Not after a safety or advice reply: that message was not meant as an answer.)
            if dialog.name == "menu":
                self.say(_("Please choose one of the buttons below."))
            else:  # inside a tool: say the way out too, where a question has no Back button of its own
                self.say(_("Please choose one of the buttons below. (/menu takes you back to the menu.)"))
        self.ask()

    def _typed_choice(self, answer: Answer, dialog: Dialog) -> Answer:
        """Typing a button counts as pressing it (dialogs/typed.py says when text is a button)."""
        choice = typed_choice(dialog.ask(), answer.text)
        return Answer(choice=choice.value) if choice is not None else answer

    # -- moving between states and dialogs --------------------------------------------------------

    def dialog(self) -> Dialog:
        dialog = dialog_class(self.state.dialog)(self, dict(self.state.data))
        dialog.state = self.state.state
        return dialog

    def fire(self, dialog: Dialog, trigger: str) -> None:
        if self._advance(dialog, trigger):
            self.ask()

    def _advance(self, dialog: Dialog, trigger: str) -> bool:
        """Move; a dialog that reached its end finishes. True if it goes on, at its next step."""
        self._move(dialog, trigger)
        if dialog.state in dialog.final:
            dialog.finished()
            self.finish()
            return False
        self.next_step()
        return True

    def _move(self, dialog: Dialog, trigger: str) -> None:
        machine = type(dialog).machine
        machine.add_model(dialog, initial=self.state.state)
        try:
            dialog.trigger(trigger)
        finally:
            machine.remove_model(dialog)
        self.state.state = dialog.state
        self.state.data = dict(dialog.data)

    def stop_guide(self) -> bool:
        """A command, or a message the safety screen answers, during a guided exercise: it stops
        first, as the transport stopped it (its length recorded), and what came in then goes where
        it goes, without the exercise's next question in between (after a crisis pause, that
        question is where they carry on: the exercise is never played again). True if one stopped."""
        dialog = self.dialog()
        if self.state.paused or not dialog.plays_guide():
            return False
        if (trigger := dialog.interrupted()) is not None:
            self._advance(dialog, trigger)
            return True
        return False

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
