"""Treatment sprints: the patient picks 1-3 metrics that matter and a length (4-6 weeks); at the
end, a review compares the first week with the last. Diagram: docs/dialogs/sprint.md."""
from __future__ import annotations

from datetime import date, time, timedelta
from statistics import fmean
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date

import locales
from dialogs import records
from dialogs.answers import fmt
from dialogs.base import Answer, Choice, Dialog, Question
from locales import N_, _, ngettext
from scheduler.times import instant
from storage.models import Prompt, Sprint

if TYPE_CHECKING:
    from dialogs.base import Turn

# metric: (label, lower is better)
METRICS = {
    "activity": (N_("Paced activity (minutes a day)"), False),
    "active": (N_("Active minutes a day"), False),
    "sleep": (N_("Hours of sleep"), False),
    "pain": (N_("Daily pain"), True),
    "interference": (N_("Pain interference (PEG)"), True),
}
MAX_METRICS, WEEKS, DONE = 3, (4, 5, 6), "done"


def week_value(turn: "Turn", metric: str, start: date) -> float | None:
    """The metric's mean over the seven local days from `start` (None without data)."""
    end = start + timedelta(days=7)
    if metric == "activity":
        rows = records.done_minutes(turn.session, turn.patient.id, start, end)
        per_day: dict[date, int] = {}
        for day, minutes in rows:
            per_day[day] = per_day.get(day, 0) + minutes
        return fmean(per_day.values()) if per_day else None
    items = {"active": ["active_minutes"], "sleep": ["sleep_hours"], "pain": ["pain_now"], "interference": ["peg_enjoyment", "peg_activity"]}
    rows = records.answered_values(turn.session, turn.patient.id, items[metric])
    values = [value for at, value in rows if start <= turn.local_date(at) < end]
    return fmean(values) if values else None


def active_sprint(turn: "Turn") -> Sprint | None:
    return records.open_sprint(turn.session, turn.patient.id)


def review(turn: "Turn", sprint: Sprint) -> str:
    """Compare the first week with the last, store it, and say it plainly."""
    last_week = sprint.ends_on - timedelta(days=7)
    results, lines = {}, [_("Your {weeks}-week sprint: the first week against the last.").format(weeks=sprint.weeks)]
    for metric in sprint.metrics:
        first, last = week_value(turn, metric, sprint.started_on), week_value(turn, metric, last_week)
        results[metric] = {"first": first, "last": last}
        label, lower_better = METRICS[metric]
        if first is None or last is None:
            lines.append("• " + _("{metric}: not enough answers to compare").format(metric=_(label)))
            continue
        better = last < first if lower_better else last > first
        verdict = _("better") if better and round(last, 1) != round(first, 1) else _("about the same") if round(last, 1) == round(first, 1) else _("not better yet")
        lines.append("• " + _("{metric}: {first} → {last} ({verdict})").format(
            metric=_(label), first=fmt(round(first, 1)), last=fmt(round(last, 1)), verdict=verdict))
    sprint.review, sprint.reviewed_at = results, turn.now
    if any(r["first"] is not None and r["last"] is not None for r in results.values()):
        lines.append(_("Whatever the numbers say, you kept at it for {weeks} weeks.").format(weeks=sprint.weeks))
    else:
        lines.append(_("There weren't enough answers to compare this time. That's all right: a next sprint can start any day."))
    lines.append(_("This review is saved for your clinic team."))
    return "\n".join(lines)


class SprintDialog(Dialog):
    name = "sprint"
    states = ["overview", "metrics", "weeks", "done"]
    initial = "overview"
    transitions = [
        {"trigger": "plan", "source": "overview", "dest": "metrics"},
        {"trigger": "toggled", "source": "metrics", "dest": "metrics"},
        {"trigger": "chosen", "source": "metrics", "dest": "weeks"},
        {"trigger": "started", "source": "weeks", "dest": "done"},
        {"trigger": "leave", "source": "overview", "dest": "done"},
    ]

    def ask_overview(self) -> Question:
        sprint = active_sprint(self.turn)
        today = self.turn.local_date()
        if sprint is not None and today >= sprint.ends_on:
            self.say(review(self.turn, sprint))
            sprint = None
        if sprint is None:
            text = _("A sprint is a few weeks of working on 1 to 3 things that matter to you, with a look back at the end. "
                     "Many people notice clearer routines in 2 to 4 weeks.")
            return Question(text, [Choice("plan", _("Start a sprint")), Choice("back", _("Back to the menu"))])
        days_left = (sprint.ends_on - today).days
        labels = ", ".join(_(METRICS[m][0]) for m in sprint.metrics)
        days = ngettext("{n} day to go.", "{n} days to go.", days_left).format(n=days_left)
        return Question(_("Your sprint: {metrics}.").format(metrics=labels) + " " + days,
                        [Choice("back", _("Back to the menu"))])

    def read_overview(self, answer: Answer) -> str | None:
        return {"plan": "plan", "back": "leave"}.get(answer.choice)

    def ask_metrics(self) -> Question:
        chosen = self.data.get("metrics", [])
        choices = [Choice(m, ("✓ " if m in chosen else "") + _(label)) for m, (label, _lower) in METRICS.items()]
        if chosen:
            choices.append(Choice(DONE, _("Done")))
        return Question(_("Pick 1 to 3 things to work on (tap again to remove):"), choices)

    def read_metrics(self, answer: Answer) -> str | None:
        chosen = list(self.data.get("metrics", []))
        if answer.choice == DONE and chosen:
            return "chosen"
        if answer.choice in METRICS:
            if answer.choice in chosen:
                chosen.remove(answer.choice)
            elif len(chosen) < MAX_METRICS:
                chosen.append(answer.choice)
            self.data["metrics"] = chosen
            return "toggled"
        return None

    def ask_weeks(self) -> Question:
        return Question(_("For how many weeks?"), [Choice(str(w), _("{n} weeks").format(n=w)) for w in WEEKS], columns=3)

    def read_weeks(self, answer: Answer) -> str | None:
        if answer.choice not in {str(w) for w in WEEKS}:
            return None
        weeks = int(answer.choice)
        start = self.turn.local_date()
        sprint = Sprint(patient_id=self.patient.id, metrics=self.data["metrics"], weeks=weeks, started_on=start,
                        ends_on=start + timedelta(weeks=weeks))
        self.turn.session.add(sprint)
        if self.patient.timezone:  # the review comes as a prompt on the last day
            at = instant(sprint.ends_on, time(10, 0), ZoneInfo(self.patient.timezone))
            self.turn.session.add(Prompt(patient_id=self.patient.id, kind="sprint_review", instruments=[], local_date=sprint.ends_on,
                                         scheduled_for=at, expires_at=at + timedelta(days=3)))
        self.say(_("Your sprint starts today and ends on {day}. I'll ask you to look back with me then.").format(
            day=format_date(sprint.ends_on, format="long", locale=locales.formatting())))
        return "started"
