"""The sleep routine: one wake time every day (weekends included), a bedtime, two or three
wind-down steps, a daylight step after waking, an optional wind-down nudge and the optional sleep
diary in the daily check-in. Diagram: docs/dialogs/sleep.md.

The coach never suggests less time in bed (sleep restriction is for a clinician to prescribe): a
night under 4 or over 12 hours is only confirmed, since shift workers sleep at any hour.
"""
from __future__ import annotations

from content.sleep import routine as content
from dialogs import sittings
from dialogs.base import Answer, Call, Choice, Dialog, Invalid, Question
from dialogs.daytime import BareHour, half_day_question, read_half_day, read_time, show
from locales import _, ngettext
from scheduler import nudges, planner
from scheduler.times import parse_hhmm, within
from storage import sleep
from storage.models import SleepRoutine

WAKE_TIMES = ["06:00", "06:30", "07:00", "07:30", "08:00", "09:00"]
BEDTIMES = ["21:30", "22:00", "22:30", "23:00", "23:30", "00:00"]
SHORTEST, LONGEST = 4 * 60, 12 * 60  # minutes in bed outside these are confirmed, never refused
WAKE, BED = "wake", "bed"  # what a time typed as a bare hour was for
CHANGE, DIARY_NOW, BACK, DONE, NONE = "change", "diary_now", "back", "done", "none"
DIARY_ON, DIARY_OFF = "diary_on", "diary_off"
TICK = "✓ "


class SleepRoutineDialog(Dialog):
    name = "sleep"
    states = ["overview", "wake", "bedtime", "half_day", "window", "steps", "daylight", "nudge", "diary", "diary_now", "done"]
    initial = "overview"
    transitions = [
        {"trigger": "set_up", "source": "overview", "dest": "wake"},
        {"trigger": "fill_diary", "source": "overview", "dest": "diary_now"},
        {"trigger": "diary_toggled", "source": "overview", "dest": "overview"},
        {"trigger": "leave", "source": "overview", "dest": "done"},
        {"trigger": "bare_hour", "source": ["wake", "bedtime"], "dest": "half_day"},
        {"trigger": "wake_set", "source": ["wake", "half_day"], "dest": "bedtime"},
        {"trigger": "unusual", "source": ["bedtime", "half_day"], "dest": "window"},
        {"trigger": "bed_set", "source": ["bedtime", "half_day", "window"], "dest": "steps"},
        {"trigger": "change_bedtime", "source": "window", "dest": "bedtime"},
        {"trigger": "change_wake", "source": "window", "dest": "wake"},
        {"trigger": "toggled", "source": "steps", "dest": "steps"},
        {"trigger": "steps_set", "source": "steps", "dest": "daylight"},
        {"trigger": "daylight_set", "source": "daylight", "dest": "nudge"},
        {"trigger": "nudge_set", "source": "nudge", "dest": "diary"},
        {"trigger": "saved", "source": "diary", "dest": "overview"},
        {"trigger": "diary_done", "source": "diary_now", "dest": "overview"},
    ]

    # -- what the patient has ---------------------------------------------------------------------

    def _routine(self) -> SleepRoutine | None:
        return sleep.routine_of(self.turn.session, self.patient.id)

    def ask_overview(self) -> Question:
        row = self._routine()
        if row is None:
            text = _("A steady sleep routine can make pain easier to live with: the same time to get up every day, "
                     "weekends included, a calm half hour or hour before bed, and daylight soon after waking. "
                     "Shall we set yours up? It takes a minute.")
            choices = [Choice(CHANGE, _("Set up my sleep routine"))]
        else:
            text, choices = summary(self.turn, row), [Choice(CHANGE, _("Change my routine"))]
        if sleep.diary_time(self.turn.session, self.patient.id) is not None:
            choices += [Choice(DIARY_NOW, _("Fill in the sleep diary now")), Choice(DIARY_OFF, _("Take the sleep diary out of my check-ins"))]
        else:
            choices.append(Choice(DIARY_ON, _("Add the sleep diary to my check-ins")))
        return Question(text, [*choices, Choice(BACK, _("Back to the menu"))])

    def read_overview(self, answer: Answer) -> str | None:
        if answer.choice in (DIARY_ON, DIARY_OFF):
            self._diary(answer.choice == DIARY_ON)
            self.say(_("The sleep diary is now part of your daily check-in.") if answer.choice == DIARY_ON
                     else _("The sleep diary is no longer in your check-ins. What you answered is kept."))
            return "diary_toggled"
        if answer.choice == CHANGE and (row := self._routine()) is not None:
            self.data["steps"] = list(row.wind_down)  # shown ticked, to keep or change
        return {CHANGE: "set_up", DIARY_NOW: "fill_diary", BACK: "leave"}.get(answer.choice)

    def _diary(self, on: bool) -> None:
        """The sleep diary in or out of the daily check-in, from the next one already planned."""
        sleep.set_diary(self.turn.session, self.patient, on)
        self.turn.session.flush()
        planner.replan(self.turn.session, self.patient, self.turn.now)

    # -- the times --------------------------------------------------------------------------------

    def ask_wake(self) -> Question:
        text = _("At what time do you want to get up? Keep it the same every day, weekends included: "
                 "a steady wake time sets your body clock. Tap one, or type a time such as 07:00.")
        return Question(text, [Choice(at, show(at)) for at in WAKE_TIMES], columns=3, expects_number=True)

    def read_wake(self, answer: Answer) -> str | Invalid:
        return self._typed(WAKE, answer)

    def ask_bedtime(self) -> Question:
        text = _("And at what time do you want to go to bed? Tap one, or type a time such as 22:30.")
        return Question(text, [Choice(at, show(at)) for at in BEDTIMES], columns=3, expects_number=True)

    def read_bedtime(self, answer: Answer) -> str | Invalid:
        return self._typed(BED, answer)

    def ask_half_day(self) -> Question:
        typed = self.data["typed"]
        context = _("When do you want to get up?") if typed["what"] == WAKE else _("When do you want to go to bed?")
        return half_day_question(BareHour(typed["hour"], typed["minute"]), context)

    def read_half_day(self, answer: Answer) -> str | None:
        typed = self.data["typed"]
        hhmm = read_half_day(BareHour(typed["hour"], typed["minute"]), answer.choice, answer.text)
        if hhmm is None:
            return None  # the two buttons again
        del self.data["typed"]
        return self._set(typed["what"], hhmm)

    def _typed(self, what: str, answer: Answer) -> str | Invalid:
        at = answer.choice if answer.choice is not None else read_time(answer.text)
        if at is None:
            example = "07:00" if what == WAKE else "22:30"
            return Invalid(_("I couldn't read that as a time of day. Please send a time such as {example}, "
                             "or 10pm, or half past ten.").format(example=example))
        if isinstance(at, BareHour):
            self.data["typed"] = {"what": what, "hour": at.hour, "minute": at.minute}
            return "bare_hour"
        return self._set(what, at)

    def _set(self, what: str, hhmm: str) -> str | Invalid:
        if what == WAKE:
            self.data["wake"] = hhmm
            return "wake_set"
        if hhmm == self.data["wake"]:
            return Invalid(_("That is the time you get up. Please send the time you want to go to bed."))
        self.data["bed"] = hhmm
        return "bed_set" if SHORTEST <= self._in_bed() <= LONGEST else "unusual"

    def _in_bed(self) -> int:
        """Minutes from bedtime to getting up (across midnight)."""
        bed, wake = parse_hhmm(self.data["bed"]), parse_hhmm(self.data["wake"])
        return (wake.hour * 60 + wake.minute - bed.hour * 60 - bed.minute) % (24 * 60)

    def ask_window(self) -> Question:
        minutes = self._in_bed()
        hours, rest = divmod(minutes, 60)
        length = (ngettext("{n} hour", "{n} hours", hours).format(n=hours) if not rest else
                  _("{hours} h {minutes} min").format(hours=hours, minutes=rest))
        text = _("From {bed} to {wake} is {length} between going to bed and getting up. That is fine if it fits your "
                 "life, for example with shift work. Is it right?").format(
            bed=show(self.data["bed"]), wake=show(self.data["wake"]), length=length)
        return Question(text, [Choice("yes", _("Yes, that's right")), Choice("bed", _("Change the bedtime")),
                               Choice("wake", _("Change the wake time"))])

    def read_window(self, answer: Answer) -> str | None:
        return {"yes": "bed_set", "bed": "change_bedtime", "wake": "change_wake"}.get(answer.choice)

    # -- the steps --------------------------------------------------------------------------------

    def ask_steps(self) -> Question:
        routine, chosen = content(), self.data.get("steps", [])
        text = _("Pick {low} or {high} steps for the hour before bed. Tap a step to add or remove it, then Done.").format(
            low=routine.min_steps, high=routine.max_steps)
        choices = [Choice(step.id, (TICK if step.id in chosen else "") + _(step.label)) for step in routine.wind_down.values()]
        return Question(text, [*choices, Choice(DONE, _("Done"))])

    def read_steps(self, answer: Answer) -> str | Invalid | None:
        routine, chosen = content(), list(self.data.get("steps", []))
        if answer.choice == DONE:
            if len(chosen) < routine.min_steps:
                return Invalid(ngettext("Please pick at least {n} step.", "Please pick at least {n} steps.",
                                        routine.min_steps).format(n=routine.min_steps))
            return "steps_set"
        if answer.choice not in routine.wind_down:
            return None
        if answer.choice in chosen:
            chosen.remove(answer.choice)
        elif len(chosen) >= routine.max_steps:
            return Invalid(_("That's {n} already: a short routine is easier to keep. Tap a step to remove it first, "
                             "or tap Done.").format(n=routine.max_steps))
        else:
            chosen.append(answer.choice)
        self.data["steps"] = chosen
        return "toggled"

    def ask_daylight(self) -> Question:
        text = _("And one step for the morning: daylight soon after waking helps your body clock. Which one suits you?")
        return Question(text, [Choice(step.id, _(step.label)) for step in content().daylight.values()])

    def read_daylight(self, answer: Answer) -> str | None:
        if answer.choice not in content().daylight:
            return None
        self.data["daylight"] = answer.choice
        return "daylight_set"

    def ask_nudge(self) -> Question:
        bed = parse_hhmm(self.data["bed"])
        choices = []
        for minutes in content().nudge_minutes:
            at = (bed.hour * 60 + bed.minute - minutes) % (24 * 60)
            label = ngettext("{n} minute before bedtime ({time})", "{n} minutes before bedtime ({time})", minutes)
            choices.append(Choice(str(minutes), label.format(n=minutes, time=show(f"{at // 60:02d}:{at % 60:02d}"))))
        text = _("Would you like a short reminder when it's time to start winding down? It comes at that time or not at all.")
        return Question(text, [*choices, Choice(NONE, _("No reminder"))])

    def read_nudge(self, answer: Answer) -> str | None:
        if answer.choice != NONE and answer.choice not in {str(m) for m in content().nudge_minutes}:
            return None
        session = self.turn.session
        row = self._routine()
        if row is None:
            row = SleepRoutine(patient_id=self.patient.id)
            session.add(row)
        row.wake_time, row.bedtime = self.data["wake"], self.data["bed"]
        row.wind_down, row.daylight = list(self.data["steps"]), self.data["daylight"]
        row.nudge_minutes = None if answer.choice == NONE else int(answer.choice)
        row.updated_at = self.turn.now
        session.flush()
        nudges.replan(session, self.patient, self.turn.now)
        if (at := nudges.nudge_time(row)) is not None and _in_quiet_hours(self.patient, at.strftime("%H:%M")):
            self.say(_("Note: {time} falls in your quiet hours, so the reminder will not come. You can change the quiet "
                       "hours under Settings, Check-in times.").format(time=show(at.strftime("%H:%M"))))
        return "nudge_set"

    def ask_diary(self) -> Question:
        text = _("Would you like to add a short sleep diary to your daily check-in (bedtime, getting-up time and how well "
                 "you slept)? It shows how steady your nights are.")
        return Question(text, [Choice("yes", _("Yes, add it")), Choice("no", _("No, thanks"))])

    def read_diary(self, answer: Answer) -> str | None:
        if answer.choice not in ("yes", "no"):
            return None
        self._diary(answer.choice == "yes")
        for key in ("wake", "bed", "steps", "daylight"):
            self.data.pop(key, None)
        self.say(_("Saved. Your routine is set."))
        return "saved"

    def ask_diary_now(self) -> Call:
        return sittings.start(self.turn, [sleep.DIARY], on_return="diary_done")


def summary(turn, row: SleepRoutine) -> str:
    """The routine as the patient sees it, in their language of the day."""
    routine = content()
    steps = ", ".join(_(routine.wind_down[s].label) for s in row.wind_down if s in routine.wind_down)
    at = nudges.nudge_time(row)
    lines = [_("Your sleep routine:"),
             "• " + _("Getting up: {time}, every day").format(time=show(row.wake_time)),
             "• " + _("Bedtime: {time}").format(time=show(row.bedtime)),
             "• " + _("Winding down: {steps}").format(steps=steps)]
    if row.daylight in routine.daylight:
        lines.append("• " + _("Morning daylight: {step}").format(step=_(routine.daylight[row.daylight].label)))
    lines.append("• " + (_("Wind-down reminder: {time}").format(time=show(at.strftime("%H:%M"))) if at else _("Wind-down reminder: none")))
    diary = sleep.diary_time(turn.session, turn.patient.id) is not None
    lines.append("• " + (_("Sleep diary: in your daily check-in") if diary else _("Sleep diary: not added")))
    return "\n".join(lines)


def _in_quiet_hours(patient, hhmm: str) -> bool:
    if not patient.quiet_start or not patient.quiet_end:
        return False
    return within(parse_hhmm(hhmm), parse_hhmm(patient.quiet_start), parse_hhmm(patient.quiet_end))
