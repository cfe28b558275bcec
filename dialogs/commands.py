"""The slash commands a patient can send at any step: /start, /menu, /help, /cancel and the rest."""
from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs import mydata, pausing, progress, safety
from dialogs.base import MENU, ONBOARDING, Call
from dialogs.io import Command
from locales import _
from scheduler import planner
from storage import enrollment

if TYPE_CHECKING:
    from dialogs.base import Turn

NAVIGATION = {"start", "menu", "language", "timezone", "cancel", "progress", "withdraw", "delete"}  # commands that leave a crisis pause


def command(turn: "Turn", command: Command) -> None:
    consented = turn.patient.consent == "given"
    onboarded = turn.patient.onboarded_at is not None
    setting_up = _("Let's finish setting up first; it only takes a few minutes.")  # for what needs onboarding done
    name = command.name
    if name in NAVIGATION and turn.state.paused:
        safety.unpause(turn)  # the patient chose where to go
    if name == "start":
        if command.args:
            join_clinic(turn, command.args)
        start_command(turn)
    elif name == "help":
        turn.say(help_text(turn))
        turn.ask()
    elif name == "menu":
        if onboarded:
            turn.restart_at(MENU)
        else:
            turn.say(setting_up)
            turn.ask()
    elif name == "language":
        turn.call(Call("language"))
    elif name == "timezone":
        if consented:
            turn.call(Call("timezone"))
        else:
            turn.say(_("We'll set your time zone right after you've agreed to take part."))
            turn.ask()
    elif name == "progress":
        if onboarded:
            progress.progress(turn)
        else:
            turn.say(setting_up)
        turn.ask()
    elif name == "cancel":
        cancel(turn)
    elif name == "withdraw":
        withdraw(turn)
    elif name == "mydata":
        mydata.send(turn)
        turn.ask()
    elif name in ("pause", "resume"):
        turn.say(pausing.switch(turn, name == "pause") if onboarded else setting_up)  # (a withdrawn patient is answered before)
        turn.ask()
    elif name == "delete":
        turn.call(Call("delete"))  # explains what deletion means, then asks to confirm
    else:
        turn.say(_("I don't know that command. Try /menu, or /help to see what I can do."))
        turn.ask()

def withdraw(turn: "Turn") -> None:
    """Consent withdrawn: nothing more is sent or kept; what was shared stays with the clinic."""
    if turn.patient.consent != "given":
        turn.say(_("There is no consent to withdraw."))
        turn.ask()
        return
    turn.patient.consent, turn.patient.consent_at = "withdrawn", turn.now
    planner.replan(turn.session, turn.patient, turn.now)  # plans for consenting patients only: none
    turn.state.stack = []
    turn.say(_("You have withdrawn your consent. I won't send you anything more, and I keep nothing new. "
               "What you shared so far stays with your clinic; send /delete if you want it erased. "
               "Send /start if you'd like to take part again."))

def join_clinic(turn: "Turn", code: str) -> None:
    """/start <code> from a clinic's invitation link: enrolled into that clinic, once."""
    if turn.patient.enrolled_at is not None:
        if enrollment.usable(turn.session, code, "patient", turn.now):
            turn.say(_("You are already connected to your clinic, so this link isn't needed."))
        return
    invite = enrollment.redeem(turn.session, code, "patient", turn.now)
    if invite is None:
        turn.say(_("This invitation link has expired or was already used. Please ask your clinic for a new one."))
        return
    enrollment.enroll(turn.patient, invite, turn.now)
    turn.session.flush()
    turn.session.refresh(turn.patient, ["clinic"])
    turn.say(_("Welcome! You are now connected to {clinic}.").format(clinic=turn.patient.clinic.name))

def start_command(turn: "Turn") -> None:
    if turn.patient.consent == "withdrawn":  # taking part again: from the consent question
        turn.state.stack, turn.state.dialog, turn.state.state, turn.state.data = [], ONBOARDING, "consent", {}
        turn.next_step()
        turn.ask()
        return
    if turn.patient.onboarded_at is not None:
        turn.restart_at(MENU)
        return
    dialog = turn.dialog()
    trigger = dialog.on_start_command() if hasattr(dialog, "on_start_command") else None
    if trigger:
        turn.fire(dialog, trigger)
    else:
        turn.ask()

def cancel(turn: "Turn") -> None:
    stack = turn.state.stack
    if stack and stack[-1].get("cancellable", True):  # back to what it interrupted
        turn.say(_("Cancelled."))
        turn.finish()
    elif turn.patient.onboarded_at is not None and turn.state.dialog != MENU:
        turn.say(_("Cancelled."))
        turn.restart_at(MENU)
    else:
        turn.say(_("There's nothing to cancel here. We can carry on whenever you're ready."))
        turn.ask()


def help_text(turn: "Turn") -> str:
    return "\n".join(
        [
            _("I'm paincoach, your clinic's companion between visits."),
            "",
            _("/menu – the main menu"),
            _("/progress – your chart of the last weeks"),
            _("/language – change the language"),
            _("/timezone – change your time zone"),
            _("/cancel – leave what you're doing"),
            _("/pause – pause reminders; /resume – switch them back on"),
            _("/mydata – everything I keep about you, as a file"),
            _("/withdraw – withdraw your consent"),
            _("/delete – delete everything I keep about you"),
            _("/help – this message"),
            "",
            safety.not_an_emergency_line(turn),
        ]
    )
