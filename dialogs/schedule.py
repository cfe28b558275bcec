"""The patient's check-in times, quiet hours, and pausing check-ins. Diagram: docs/dialogs/schedule.md.

Times are wall-clock times in the patient's own time zone; every change re-plans the prompts
not yet sent (nothing already sent is sent again).
"""
from __future__ import annotations

import re
from datetime import timedelta

from babel.dates import format_time, get_day_names

import locales
from dialogs import records
from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from locales import _
from scheduler import planner
from scheduler.times import parse_hhmm
from storage.models import Schedule

TIME = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|uhr|h)?\s*$", re.IGNORECASE)
QUIET = re.compile(r"^\s*(\S+)\s*(?:-|–|to|a|bis)\s*(\S+)\s*$", re.IGNORECASE)
TIMES = ["07:00", "08:00", "09:00", "10:00", "12:00", "18:00", "20:00"]
NONE = "none"


def read_time(text: str) -> str | None:
    """ "8", "8:30", "08.30", "8 pm", "20 Uhr" → "HH:MM"; None if it is not a time of day."""
    match = TIME.match(text or "")
    if not match:
        return None
    hour, minute, suffix = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


class ScheduleSettings(Dialog):
    name = "schedule"
    states = ["overview", "daily_time", "weekly_day", "weekly_time", "quiet", "done"]
    initial = "overview"
    transitions = [
        {"trigger": "change_daily", "source": "overview", "dest": "daily_time"},
        {"trigger": "change_weekly", "source": "overview", "dest": "weekly_day"},
        {"trigger": "day_chosen", "source": "weekly_day", "dest": "weekly_time"},
        {"trigger": "change_quiet", "source": "overview", "dest": "quiet"},
        {"trigger": "toggled", "source": "overview", "dest": "overview"},
        {"trigger": "saved", "source": ["daily_time", "weekly_time", "quiet"], "dest": "overview"},
        {"trigger": "leave", "source": "overview", "dest": "done"},
    ]

    def _schedules(self) -> dict[str, Schedule]:
        rows = records.schedules(self.turn.session, self.patient.id)
        return {row.instrument: row for row in rows}

    def _show(self, hhmm: str) -> str:
        return format_time(parse_hhmm(hhmm), format="short", locale=locales.formatting())

    def ask_overview(self) -> Question:
        schedules = self._schedules()
        days = get_day_names("wide", locale=locales.current())
        lines = [_("Your check-ins:")]
        if "daily" in schedules:
            lines.append("• " + _("Daily check-in: {time}").format(time=self._show(schedules["daily"].local_time)))
        if "peg3" in schedules:
            weekly = schedules["peg3"]
            lines.append("• " + _("Weekly check-in: {day} at {time}").format(day=days[weekly.weekday], time=self._show(weekly.local_time)))
        if self.patient.quiet_start:
            lines.append("• " + _("Quiet hours: {start} to {end}").format(start=self._show(self.patient.quiet_start), end=self._show(self.patient.quiet_end)))
        else:
            lines.append("• " + _("Quiet hours: none"))
        if self.patient.checkins_paused:
            lines.append("• " + _("Check-ins are paused."))
        pause = Choice("resume", _("Resume check-ins")) if self.patient.checkins_paused else Choice("pause", _("Pause check-ins"))
        return Question(
            "\n".join(lines),
            [Choice("daily", _("Daily time")), Choice("weekly", _("Weekly day and time")), Choice("quiet", _("Quiet hours")), pause,
             Choice("back", _("Back to the menu"))],
        )

    def read_overview(self, answer: Answer) -> str | None:
        if answer.choice in ("pause", "resume"):
            self.patient.checkins_paused = answer.choice == "pause"
            self._replan()
            self.say(_("Check-ins are paused. Nothing will be sent until you resume them.") if self.patient.checkins_paused
                     else _("Check-ins are back on."))
            return "toggled"
        return {"daily": "change_daily", "weekly": "change_weekly", "quiet": "change_quiet", "back": "leave"}.get(answer.choice)

    def ask_daily_time(self) -> Question:
        return Question(_("At what time should the daily check-in come? Tap one, or type a time such as 08:30."), self._time_choices(), columns=4)

    def read_daily_time(self, answer: Answer) -> str | Invalid:
        hhmm = answer.choice or read_time(answer.text)
        if hhmm is None:
            return self._not_a_time()
        self._schedules()["daily"].local_time = hhmm
        return self._saved()

    def ask_weekly_day(self) -> Question:
        days = get_day_names("wide", locale=locales.current())
        return Question(_("On which day should the weekly check-in come?"), [Choice(str(i), days[i]) for i in range(7)], columns=2)

    def read_weekly_day(self, answer: Answer) -> str | None:
        if answer.choice is None or not answer.choice.isdigit():
            return None
        self.data["weekday"] = int(answer.choice)
        return "day_chosen"

    def ask_weekly_time(self) -> Question:
        return Question(_("And at what time? Tap one, or type a time such as 08:30."), self._time_choices(), columns=4)

    def read_weekly_time(self, answer: Answer) -> str | Invalid:
        hhmm = answer.choice or read_time(answer.text)
        if hhmm is None:
            return self._not_a_time()
        weekday = self.data["weekday"]
        today = self.turn.local_date()  # for a schedule without an anchor
        for instrument in ("peg3", "phq4"):
            row = self._schedules().get(instrument)
            if row is not None:
                if row.every_weeks > 1:
                    # Same weeks as before, on the new day: a fortnightly measure stays fortnightly.
                    anchor = row.anchor or today
                    row.anchor = anchor + timedelta(days=weekday - anchor.weekday())
                row.weekday, row.local_time = weekday, hhmm
        return self._saved()

    def ask_quiet(self) -> Question:
        return Question(
            _("When should I never send you anything? Type it like 22:00-07:00, or tap one."),
            [Choice("22:00-07:00", "22:00–07:00"), Choice("23:00-08:00", "23:00–08:00"), Choice(NONE, _("No quiet hours"))],
        )

    def read_quiet(self, answer: Answer) -> str | Invalid:
        if answer.choice == NONE:
            self.patient.quiet_start = self.patient.quiet_end = None
            return self._saved()
        match = QUIET.match(answer.choice or answer.text or "")
        start, end = (read_time(match.group(1)), read_time(match.group(2))) if match else (None, None)
        if start is None or end is None or start == end:
            return Invalid(_("Please send two times, such as 22:00-07:00."))
        self.patient.quiet_start, self.patient.quiet_end = start, end
        return self._saved()

    def _not_a_time(self) -> Invalid:
        return Invalid(_("Please send a time of day, such as 08:30."))

    def _time_choices(self) -> list[Choice]:
        return [Choice(hhmm, self._show(hhmm)) for hhmm in TIMES]

    def _saved(self) -> str:
        self._replan()
        self.say(_("Saved."))
        return "saved"

    def _replan(self) -> None:
        self.turn.session.flush()
        planner.replan(self.turn.session, self.patient, self.turn.now)
