"""Scheduled check-in prompts as the patient sees them: the invitation, Start and Snooze, reminders.

The scheduler decides when; this module decides what is said and what a press on a prompt's
buttons does. Prompt buttons stand outside dialog steps, so they keep working while another
dialog is open.
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_time

import locales
from dialogs import records
from dialogs import learning, quotas, sittings
from dialogs.base import Call, Choice
from dialogs.daytime import show
from locales import N_, _, ngettext
from storage import sleep
from storage.models import PacingActivity, Prompt

if TYPE_CHECKING:
    from dialogs.base import Turn

ACTION = "prompt"
# A prompt the patient can still answer: its invitation went out (or may have: "claimed" is on
# its way, "unknown" was on its way when a process died), and it has not closed.
OPEN = ("sent", "snoozed", *Prompt.SEND_BEGUN)
# The wind-down's relaxation step, one press away: its buttons (as they read on the nudge) and the
# dialog each opens. Muscle relaxation first: it is the relaxation CBT for insomnia uses at bedtime;
# breathing stays for those who know it, or whose muscles are too sore to tense.
WIND_DOWN_DRILLS = {
    "relaxation": ("relaxation", N_("Start a muscle relaxation")),
    "relax": ("breathing", N_("Start a breathing exercise")),
}


def invited(prompt: Prompt) -> bool:
    """Its invitation went out, or may have (a quiet-hours snooze is not one)."""
    return prompt.sent_at is not None or prompt.status in Prompt.SEND_BEGUN


def open_prompt(turn: "Turn") -> Prompt | None:
    """The newest check-in the patient can still answer (a lesson's invitation is not one)."""
    return records.newest_open_prompt(turn.session, turn.patient.id, OPEN, turn.now)


def invite(turn: "Turn", prompt: Prompt, *, reminder: bool = False) -> None:
    """The message that opens a prompt (or reminds of it), with Start and Snooze buttons."""
    from content.instruments import instrument

    count = sum(len(instrument(i).items) for i in prompt.instruments)
    name = turn.patient.preferred_name or ""
    if prompt.kind == "pacing_break":
        activity = turn.session.get(PacingActivity, prompt.pacing_activity_id)
        text = _("Time for your planned break from {activity}. A rest now keeps tomorrow possible.").format(activity=activity.name)
        turn.say(text, [Choice(f"start:{prompt.id}", _("I'm taking my break"))], action=ACTION)
        return
    if prompt.kind == "wind_down":
        if not reminder:  # sent at its time or not at all: never a second time
            wind_down(turn, prompt)
        return
    if prompt.kind == "lesson":
        text = learning.invite(turn, prompt.id) or _("Your next pain lesson is ready.")
        turn.say(text, [Choice(f"start:{prompt.id}", _("Read it now"))], action=ACTION)
        return
    if prompt.kind == "flare_followup":
        text = _("Hello {name}. Could you tell me how the flare is going?").format(name=name)
    elif prompt.kind == "sprint_review":
        text = _("Hello {name}. Your sprint ends today. Shall we look back at how it went?").format(name=name)
    elif reminder:
        text = _("A gentle reminder: your check-in is still open until {time}.").format(time=local_time(turn, prompt.expires_at))
    else:
        text = ngettext(
            "Hello {name}, time for your check-in: {count} short question.",
            "Hello {name}, time for your check-in: {count} short questions.",
            count,
        ).format(name=name, count=count)
    # Only the snoozes that come back before the prompt closes.
    snoozes = [m for m in turn.patient.clinic.setting("snooze_minutes") if turn.now + timedelta(minutes=m) < prompt.expires_at]
    choices = [Choice(f"start:{prompt.id}", _("Start now"))]
    choices += [Choice(f"snooze:{minutes}:{prompt.id}", snooze_label(minutes)) for minutes in snoozes]
    turn.say(text, choices, columns=1, action=ACTION)


def wind_down(turn: "Turn", prompt: Prompt) -> None:
    """The evening nudge: time to start winding down, with the steps the patient chose."""
    from content.sleep import routine as steps_of_routine

    chosen = sleep.routine_of(turn.session, turn.patient.id)
    steps = steps_of_routine().wind_down
    lines = [_("Time to start winding down for the night. Your steps:")]
    lines += ["• " + _(steps[step].label) for step in (chosen.wind_down if chosen else []) if step in steps]
    if chosen is not None:
        lines.append(_("Bedtime: {time}.").format(time=show(chosen.bedtime)))
    choices = [Choice(f"start:{prompt.id}", _("Thanks, I'm winding down"))]
    if chosen is not None and "relax" in chosen.wind_down:  # the relaxation step, one press away: either drill
        choices[:0] = [Choice(f"{what}:{prompt.id}", _(label)) for what, (_name, label) in WIND_DOWN_DRILLS.items()]
    turn.say("\n".join(lines), choices, action=ACTION)


def snooze_label(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("In {n} hour", "In {n} hours", hours).format(n=hours)
    return ngettext("In {n} minute", "In {n} minutes", minutes).format(n=minutes)


def local_time(turn: "Turn", moment) -> str:
    zone = ZoneInfo(turn.patient.timezone or "UTC")
    return format_time(moment, format="short", tzinfo=zone, locale=locales.formatting())


def on_press(turn: "Turn", value: str) -> None:
    what, *rest = value.split(":")
    prompt = turn.session.get(Prompt, int(rest[-1]))
    if prompt is None or prompt.patient_id != turn.patient.id:
        turn.say(_("This button has expired."))
        turn.ask()
        return
    if prompt.kind == "lesson" and invited(prompt):  # a lesson keeps: its invitation opens it whenever pressed
        if prompt.status in OPEN:
            prompt.status, prompt.answered_at = "answered", turn.now
        if (call := learning.start(turn, prompt.id)) is not None:
            turn.call(call)
        else:
            turn.ask()
        return
    if prompt.kind == "wind_down" and what in WIND_DOWN_DRILLS and invited(prompt):
        # They asked for a drill: it opens whenever pressed, however long after the nudge.
        if prompt.status in OPEN:
            prompt.status, prompt.snoozed_until, prompt.answered_at = "answered", None, turn.now
            prompt.started_at = prompt.started_at or turn.now
        turn.call(Call(WIND_DOWN_DRILLS[what][0]))
        return
    if prompt.status not in OPEN or not invited(prompt) or prompt.expires_at <= turn.now:
        if prompt.kind == "wind_down":
            turn.say(_("Sleep well."))
        elif prompt.kind == "pacing_break":
            turn.say(_("That break is already noted."))
        elif prompt.status == "answered":
            turn.say(_("You've already done this. Thank you!"))
        elif prompt.kind == "checkin":
            turn.say(_("This check-in has closed. You can check in any time from the /menu."))
        else:
            turn.say(_("This has closed. You can find everything in the /menu."))
        turn.ask()
        return
    if what == "snooze":
        minutes = int(rest[0])
        prompt.status, prompt.snoozed_until = "snoozed", turn.now + timedelta(minutes=minutes)
        turn.say(_("All right, I'll ask again at {time}.").format(time=local_time(turn, prompt.snoozed_until)))
        turn.ask()
        return
    # Started: no reminder or second invitation is wanted any more.
    prompt.status, prompt.snoozed_until = "sent", None
    prompt.started_at = prompt.started_at or turn.now
    if prompt.kind == "flare_followup":
        turn.call(Call("flarefollowup", data={"episode_id": prompt.flare_episode_id, "prompt_id": prompt.id}))
        return
    if prompt.kind == "pacing_break":
        quotas.take_break(turn, prompt)
        turn.ask()
        return
    if prompt.kind == "sprint_review":
        prompt.status, prompt.answered_at = "answered", turn.now
        turn.call(Call("sprint"))
        return
    if prompt.kind == "wind_down":
        prompt.status, prompt.answered_at = "answered", turn.now
        turn.say(_("Sleep well."))
        turn.ask()
        return
    sitting = sittings.start(turn, list(prompt.instruments), prompt_id=prompt.id)
    if turn.state.dialog != "checkin":
        turn.call(sitting)
    elif turn.state.data.get("prompt_id") == prompt.id:
        turn.ask()  # already answering this one: carry on where they are
    else:
        turn.enter(sitting.dialog, sitting.data)  # another sitting was open: it stays resumable
