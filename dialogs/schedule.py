"""The patient's check-in times and quiet hours (pausing reminders is dialogs/reminders.py). Diagram: docs/dialogs/schedule.md.

Times are wall-clock times in the patient's own time zone; every change re-plans the prompts
not yet sent (nothing already sent is sent again).
"""
from __future__ import annotations

from datetime import timedelta

from babel.dates import get_day_names

import locales
from dialogs import records
from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from dialogs.daytime import BareHour, half_day_question, read_half_day, read_range, read_time, show
from locales import _
from scheduler import planner
from storage.models import Schedule

TIMES = ["07:00", "08:00", "09:00", "10:00", "12:00", "18:00", "20:00"]
NONE = "none"
DAILY, WEEKLY, QUIET = "daily", "weekly", "quiet"  # what a time typed as a bare hour was for


class ScheduleSettings(Dialog):
    name = "schedule"
    states = ["overview", "daily_time", "weekly_day", "weekly_time", "quiet", "half_day", "done"]
    initial = "overview"
    transitions = [
        {"trigger": "change_daily", "source": "overview", "dest": "daily_time"},
        {"trigger": "change_weekly", "source": "overview", "dest": "weekly_day"},
        {"trigger": "day_chosen", "source": "weekly_day", "dest": "weekly_time"},
        {"trigger": "change_quiet", "source": "overview", "dest": "quiet"},
        {"trigger": "bare_hour", "source": ["daily_time", "weekly_time", "quiet", "half_day"], "dest": "half_day"},
        {"trigger": "saved", "source": ["daily_time", "weekly_time", "quiet", "half_day"], "dest": "overview"},
        {"trigger": "same_ends", "source": "half_day", "dest": "quiet"},
        {"trigger": "leave", "source": "overview", "dest": "done"},
    ]

    def _schedules(self) -> dict[str, Schedule]:
        rows = records.schedules(self.turn.session, self.patient.id)
        return {row.instrument: row for row in rows}

    def ask_overview(self) -> Question:
        schedules = self._schedules()
        days = get_day_names("wide", locale=locales.current())
        lines = [_("Your check-ins:")]
        if "daily" in schedules:
            lines.append("• " + _("Daily check-in: {time}").format(time=show(schedules["daily"].local_time)))
        if "peg3" in schedules:
            weekly = schedules["peg3"]
            lines.append("• " + _("Weekly check-in: {day} at {time}").format(day=days[weekly.weekday], time=show(weekly.local_time)))
        if self.patient.quiet_start:
            lines.append("• " + _("Quiet hours: {start} to {end}").format(start=show(self.patient.quiet_start), end=show(self.patient.quiet_end)))
        else:
            lines.append("• " + _("Quiet hours: none"))
        if self.patient.checkins_paused:
            lines.append("• " + _("Reminders are paused (Settings → Pause reminders, or /resume)."))
        return Question(
            "\n".join(lines),
            [Choice("daily", _("Daily time")), Choice("weekly", _("Weekly day and time")), Choice("quiet", _("Quiet hours")),
             Choice("back", _("Back to the menu"))],
        )

    def read_overview(self, answer: Answer) -> str | None:
        return {"daily": "change_daily", "weekly": "change_weekly", "quiet": "change_quiet", "back": "leave"}.get(answer.choice)

    def ask_daily_time(self) -> Question:
        return Question(_("At what time should the daily check-in come? Tap one, or type a time such as 08:30."), self._time_choices(),
                        columns=4, expects_number=True)

    def read_daily_time(self, answer: Answer) -> str | Invalid:
        return self._typed_time(DAILY, answer)

    def ask_weekly_day(self) -> Question:
        days = get_day_names("wide", locale=locales.current())
        return Question(_("On which day should the weekly check-in come?"), [Choice(str(i), days[i]) for i in range(7)], columns=2)

    def read_weekly_day(self, answer: Answer) -> str | None:
        if answer.choice is None or not answer.choice.isdigit():
            return None
        self.data["weekday"] = int(answer.choice)
        return "day_chosen"

    def ask_weekly_time(self) -> Question:
        return Question(_("And at what time? Tap one, or type a time such as 08:30."), self._time_choices(), columns=4, expects_number=True)

    def read_weekly_time(self, answer: Answer) -> str | Invalid:
        return self._typed_time(WEEKLY, answer)

    def ask_quiet(self) -> Question:
        return Question(
            _("When should I never send you anything? Type it like 22:00-07:00, or tap one."),
            [Choice("22:00-07:00", "22:00–07:00"), Choice("23:00-08:00", "23:00–08:00"), Choice(NONE, _("No quiet hours"))],
            expects_number=True,
        )

    def read_quiet(self, answer: Answer) -> str | Invalid:
        if answer.choice == NONE:
            self.patient.quiet_start = self.patient.quiet_end = None
            return self._saved()
        ends = read_range(answer.choice or answer.text)
        if ends is None or ends[0] == ends[1]:
            return Invalid(_("Please send two times, such as 22:00-07:00."))
        return self._settle(QUIET, list(ends))

    def ask_half_day(self) -> Question:
        """A bare hour ("7") was typed: in the morning or in the evening?"""
        what, index, bare = self._first_bare()
        context = ""
        if what == QUIET:
            context = _("When should the quiet hours start?") if index == 0 else _("When should the quiet hours end?")
        return half_day_question(bare, context)

    def read_half_day(self, answer: Answer) -> str | Invalid | None:
        what, index, bare = self._first_bare()
        hhmm = read_half_day(bare, answer.choice, answer.text)
        if hhmm is None:
            return None  # the buttons again
        times = [BareHour(*at) if isinstance(at, list) else at for at in self.data.pop("typed")["times"]]
        times[index] = hhmm
        result = self._settle(what, times)
        if isinstance(result, Invalid):  # quiet hours that start when they end: ask for both again
            self.say(result.message)
            return "same_ends"
        return result

    def _typed_time(self, what: str, answer: Answer) -> str | Invalid:
        at = answer.choice or read_time(answer.text)
        if at is None:
            return Invalid(_("Please send a time of day, such as 08:30."))
        return self._settle(what, [at])

    def _settle(self, what: str, times: list) -> str | Invalid:
        """Save the times, or, while one is a bare hour, ask which half of the day it is first."""
        if any(isinstance(at, BareHour) for at in times):
            self.data["typed"] = {"what": what, "times": [[at.hour, at.minute] if isinstance(at, BareHour) else at for at in times]}
            return "bare_hour"
        if what == DAILY:
            for instrument in ("daily", "sleep_diary"):  # the sleep diary, if added, stays in the same sitting
                if (row := self._schedules().get(instrument)) is not None:
                    row.local_time = times[0]
        elif what == WEEKLY:
            self._set_weekly(times[0])
        else:
            start, end = times
            if start == end:
                return Invalid(_("Please send two times, such as 22:00-07:00."))
            self.patient.quiet_start, self.patient.quiet_end = start, end
        return self._saved()

    def _first_bare(self) -> tuple[str, int, BareHour]:
        typed = self.data["typed"]
        index = next(i for i, at in enumerate(typed["times"]) if isinstance(at, list))
        return typed["what"], index, BareHour(*typed["times"][index])

    def _set_weekly(self, hhmm: str) -> None:
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

    def _time_choices(self) -> list[Choice]:
        return [Choice(hhmm, show(hhmm)) for hhmm in TIMES]

    def _saved(self) -> str:
        self._replan()
        self.say(_("Saved."))
        return "saved"

    def _replan(self) -> None:
        self.turn.session.flush()
        planner.replan(self.turn.session, self.patient, self.turn.now)
