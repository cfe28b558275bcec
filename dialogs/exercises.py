"""Home exercises: the ones the clinic prescribed, today; each logged as done, part or skipped, with
the pain (0-10) just before and after; adherence week by week. Diagram: docs/dialogs/exercises.md.

The exercise is the prescriber's: the dose changes only by the progression they chose for it (none,
or the clinic's pacing rule, storage/exercises.py: a step only after a period done as prescribed,
never in a flare or while pain keeps rising after it), never by how a day felt. A rise in pain
of 3 or more points after an exercise, twice running, suggests telling the physio; the coach never
suggests pushing through, and never changes the exercise itself.
"""
from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date

import locales
from dialogs.answers import fmt, scale_question, zero_to_ten
from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from locales import _
from storage import exercises as stored
from storage.models import Exercise, ExerciseLog

BACK, CHART = "back", "chart"
WEEKS_SHOWN = 4
OUTCOMES = {"done": "did", "part": "did", "skipped": "skipped"}


def outcome_words() -> dict[str, str]:
    return {"done": _("done"), "part": _("part of it"), "skipped": _("skipped")}


class Exercises(Dialog):
    name = "exercises"
    states = ["overview", "outcome", "pain_before", "pain_after", "done"]
    initial = "overview"
    transitions = [
        {"trigger": "pick", "source": "overview", "dest": "outcome"},
        {"trigger": "showed", "source": "overview", "dest": "overview"},
        {"trigger": "did", "source": "outcome", "dest": "pain_before"},
        {"trigger": "skipped", "source": "outcome", "dest": "overview"},
        {"trigger": "rated", "source": "pain_before", "dest": "pain_after"},
        {"trigger": "logged", "source": "pain_after", "dest": "overview"},
        {"trigger": "back", "source": ["outcome", "pain_before", "pain_after"], "dest": "overview"},
        {"trigger": "leave", "source": "overview", "dest": "done"},
    ]

    # -- today's exercises -----------------------------------------------------------------------

    def ask_overview(self) -> Question:
        rows = stored.active(self.turn.session, self.patient.id)
        if not rows:
            return Question(_("Your clinic hasn't added any home exercises for you yet. When your physio adds them, "
                              "you'll find them here to log."), [Choice(BACK, _("Back to the menu"))])
        today = self.turn.local_date()
        weeks = self._this_week(rows)
        lines = [_("Your home exercises today:")]
        for row in rows:
            dose = stored.dose(self.turn.session, row, self.turn.now)
            line = "• " + _("{exercise}: {amount}").format(exercise=row.name, amount=stored.amount(row, dose))
            if round(dose) > (row.reps or row.minutes or 0):
                line += " " + _("(up from {start}, a step your physio planned)").format(start=row.reps or row.minutes)
            week = weeks.get(row.id)
            line += "\n  " + _("This week: {sessions} of {prescribed}").format(
                sessions=week.sessions if week else 0, prescribed=week.prescribed if week else row.days_per_week)
            logged = stored.log_of_day(self.turn.session, row.id, today)
            if logged is not None:
                line += " · " + _("today: {outcome}").format(outcome=outcome_words()[logged.outcome])
            lines.append(line)
        choices = [Choice(str(row.id), _("Log: {exercise}").format(exercise=row.name)) for row in rows]
        choices += [Choice(CHART, _("My exercise weeks")), Choice(BACK, _("Back to the menu"))]
        return Question("\n".join(lines), choices)

    def read_overview(self, answer: Answer) -> str | None:
        if answer.choice == BACK:
            return "leave"
        if answer.choice == CHART:
            self.say(self.chart())
            return "showed"
        ids = {str(row.id) for row in stored.active(self.turn.session, self.patient.id)}
        if answer.choice in ids:
            self.data["exercise_id"] = int(answer.choice)
            return "pick"
        return None

    # -- logging one ----------------------------------------------------------------------------

    def _exercise(self) -> Exercise:
        return self.turn.session.get(Exercise, self.data["exercise_id"])

    def ask_outcome(self) -> Question:
        row = self._exercise()
        text = _("{exercise}: {amount}, {days} days a week.").format(
            exercise=row.name, amount=stored.amount(row, stored.dose(self.turn.session, row, self.turn.now)), days=row.days_per_week)
        if row.note:
            text += "\n" + _("Your physio's note: {note}").format(note=row.note)
        text += "\n\n" + _("How did it go today?")
        return Question(text, [Choice("done", _("Done")), Choice("part", _("Part of it")), Choice("skipped", _("Skipped today")),
                               Choice(BACK, _("Back"))])

    def read_outcome(self, answer: Answer) -> str | None:
        if answer.choice == BACK:
            return "back"
        if answer.choice not in OUTCOMES:
            return None
        if self._stopped():
            return "back"
        self.data["outcome"] = answer.choice
        if answer.choice == "skipped":
            self._log(None, None)
            self.say(_("Noted as skipped. Some days are like that; the plan is still there tomorrow."))
        return OUTCOMES[answer.choice]

    def _stopped(self) -> bool:
        """Stopped by the clinic while a question about it was open: nothing is logged, and the
        patient is told why."""
        if self._exercise().stopped_at is None:
            return False
        self.say(_("Your clinic has just stopped this exercise, so there is nothing to log for it. Your other exercises are below."))
        return True

    def ask_pain_before(self) -> Question:
        return scale_question(_("What was your pain just before you started, from 0 to 10?"))

    def read_pain_before(self, answer: Answer) -> str | Invalid:
        if answer.choice == BACK:
            return "back"
        if isinstance(value := zero_to_ten(answer), Invalid):
            return value
        if self._stopped():
            return "back"
        self.data["pain_before"] = value
        return "rated"

    def ask_pain_after(self) -> Question:
        return scale_question(_("And your pain now, after it, from 0 to 10?"))

    def read_pain_after(self, answer: Answer) -> str | Invalid:
        if answer.choice == BACK:
            return "back"
        if isinstance(value := zero_to_ten(answer), Invalid):
            return value
        if self._stopped():
            return "back"
        before, after = self.data["pain_before"], value
        self._log(before, after)
        row = self._exercise()
        week = self._this_week([row]).get(row.id)
        self.say(_("Noted: {exercise}, {outcome}. Pain {before} before, {after} after. This week: {sessions} of {prescribed}.").format(
            exercise=row.name, outcome=outcome_words()[self.data["outcome"]], before=before, after=after,
            sessions=week.sessions if week else 1, prescribed=week.prescribed if week else row.days_per_week))
        if stored.rising_twice(self.turn.session, row.id):
            self.say(_("Your pain rose by 3 points or more after {exercise}, twice running. Please tell your physio before you do it "
                       "again, so they can look at it with you. I won't change the exercise: that is for you and your physio to decide."
                       ).format(exercise=row.name))
        elif after - before >= stored.PAIN_RISE:
            self.say(_("Your pain rose by {points} points after it. I've noted that. If it happens again next time, "
                       "it's worth telling your physio.").format(points=after - before))
        return "logged"

    def _log(self, before: int | None, after: int | None) -> None:
        """One log a day per exercise: logging it again the same day replaces the first."""
        row, today = self._exercise(), self.turn.local_date()
        log = stored.log_of_day(self.turn.session, row.id, today)
        if log is None:
            log = ExerciseLog(exercise_id=row.id, local_date=today)
            self.turn.session.add(log)
        log.outcome, log.pain_before, log.pain_after = self.data["outcome"], before, after
        log.dose, log.logged_at = stored.dose(self.turn.session, row, self.turn.now), self.turn.now
        self.turn.session.flush()

    # -- adherence ------------------------------------------------------------------------------

    def _weeks(self, rows: list[Exercise], since=None) -> list[stored.Week]:
        logs = stored.logs(self.turn.session, [row.id for row in rows], since=since)
        return stored.adherence(rows, logs, stored.zone_of(self.patient), self.turn.local_date(), since=since)

    def _this_week(self, rows: list[Exercise]) -> dict[int, stored.Week]:
        today = self.turn.local_date()
        monday = today - timedelta(days=today.weekday())
        return {week.exercise_id: week for week in self._weeks(rows, since=monday) if week.monday == monday}

    def chart(self) -> str:
        """The last weeks' sessions against those prescribed, all exercises together, as bars."""
        today = self.turn.local_date()
        since = today - timedelta(days=today.weekday() + 7 * (WEEKS_SHOWN - 1))
        rows = stored.every(self.turn.session, self.patient.id)
        totals = stored.weekly_totals(self._weeks(rows, since=since))
        if not totals:
            return _("Nothing logged yet. Your weeks will show here once you log your exercises.")
        lines = [_("Your exercise weeks (sessions logged of those planned):")]
        for monday, sessions, prescribed in totals:
            bar = "▰" * min(sessions, prescribed) + "▱" * max(prescribed - sessions, 0) + ("+" * max(sessions - prescribed, 0))
            day = format_date(monday, format="medium", locale=locales.formatting())
            lines.append(_("Week of {day}: {bar} {sessions} of {prescribed}").format(
                day=day, bar=bar, sessions=fmt(sessions), prescribed=fmt(prescribed)))
        return "\n".join(lines)
