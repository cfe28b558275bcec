"""The one "pause reminders" switch, shared by Settings (dialogs/reminders.py) and /pause, /resume.

Paused, nothing comes on the bot's own initiative but what the patient asked for (the breaks they
planned in an activity) and the clinic's safety follow-ups (how a flare they told us about is
going): scheduler/outbound.py, ASKED_FOR and SAFETY. Check-ins are not planned while paused; on
resume they are planned again from the patient's times (nothing missed is sent late).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from locales import _
from scheduler import planner

if TYPE_CHECKING:
    from dialogs.base import Turn


def stays_on() -> str:
    return _("Still on while paused: the breaks you planned in an activity, and my question about how a flare "
             "you told me about is going. Anything you open yourself works as always.")


def status(turn: "Turn") -> str:
    if turn.patient.checkins_paused:
        return _("Reminders are paused: no check-ins, reminders, lessons or nudges.") + "\n" + stays_on()
    return _("Reminders are on.")


def switch(turn: "Turn", paused: bool) -> str:
    """Pause or resume; what to tell the patient."""
    if turn.patient.checkins_paused == paused:
        return _("Reminders are already paused.") + "\n" + stays_on() if paused else _("Reminders are already on.")
    turn.patient.checkins_paused = paused
    turn.session.flush()
    planner.replan(turn.session, turn.patient, turn.now)
    if paused:
        return (_("Reminders are paused: no check-ins, reminders, lessons or nudges until you send /resume "
                  "or switch them back on in Settings.") + "\n" + stays_on())
    return _("Reminders are back on. Your check-ins come at their usual times again.")
