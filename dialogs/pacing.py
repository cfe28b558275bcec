"""Pacing (graded activity): name the activities that matter, log a few baseline days, then a
quota that rises on a calendar, not by how a day feels. Diagram: docs/dialogs/pacing.md.

Quotas start at 80 % of the baseline average and rise by 10 % of the baseline each week, with no
raise in a week with a flare; during a flare they drop by 25 % for 48 hours and come back over the
next days (all clinic settings). A planned break is sent during an activity block.
"""
from __future__ import annotations

import re
from datetime import timedelta
from statistics import fmean
from typing import TYPE_CHECKING


import content
from content.instruments import Item
from dialogs import records
from dialogs import wins
from dialogs import quotas
from dialogs.answers import fmt, read_value
from dialogs.base import Answer, Call, Choice, Dialog, Invalid, Question
from locales import _
from storage.models import PacingActivity, PacingLog, Prompt

if TYPE_CHECKING:
    pass

MINUTES = Item(id="minutes", text="", kind="number", minimum=0, maximum=24 * 60)
HOURS_ITEM = Item(id="hours", text="", kind="number", minimum=0, maximum=24, decimals=True)
HOURS = re.compile(r"\b(hours?|hrs?|h|horas?|stunden?|std)\b", re.IGNORECASE)
OWN, BACK = "own", "back"


class Pacing(Dialog):
    name = "pacing"
    states = ["overview", "add", "add_own", "pick_log", "log", "pick_block", "breathe_offer", "breathe", "done"]
    initial = "overview"
    transitions = [
        {"trigger": "add", "source": "overview", "dest": "add"},
        {"trigger": "own", "source": "add", "dest": "add_own"},
        {"trigger": "added", "source": ["add", "add_own"], "dest": "overview"},
        {"trigger": "log", "source": "overview", "dest": "pick_log"},
        {"trigger": "picked", "source": "pick_log", "dest": "log"},
        {"trigger": "logged", "source": "log", "dest": "overview"},
        {"trigger": "block", "source": "overview", "dest": "pick_block"},
        {"trigger": "chosen", "source": "pick_block", "dest": "breathe_offer"},
        {"trigger": "breathe_first", "source": "breathe_offer", "dest": "breathe"},
        {"trigger": "started", "source": "breathe_offer", "dest": "overview"},
        {"trigger": "started", "source": "breathe", "dest": "overview", "after": "_start_block"},
        {"trigger": "back", "source": ["add", "add_own", "pick_log", "pick_block"], "dest": "overview"},
        {"trigger": "leave", "source": "overview", "dest": "done"},
    ]

    def ask_overview(self) -> Question:
        rows = quotas.activities(self.turn)
        if not rows:
            text = _("Pacing means doing a steady amount of an activity, with breaks, and building up on a schedule. "
                     "Which activities matter to you?")
            return Question(text, [Choice("add", _("Add an activity")), Choice(BACK, _("Back to the menu"))])
        lines = [_("Your pacing plan:")]
        days = self.patient.clinic.setting("pacing_baseline_days")
        for row in rows:
            self._say_raise(row)
            quota = quotas.effective_quota(self.turn, row)
            if quota is None:
                logged = len(self._logs(row, "baseline"))
                lines.append("• " + _("{activity}: finding your baseline, day {n} of {total}").format(
                    activity=row.name, n=min(logged + 1, days), total=days))
            else:
                lines.append("• " + _("{activity}: {minutes} minutes at a time").format(activity=row.name, minutes=fmt(round(quota))))
        choices = [Choice("log", _("Log today's activity"))]
        if any(row.quota_minutes is not None for row in rows):
            choices.append(Choice("block", _("Start an activity block")))
        choices += [Choice("add", _("Add an activity")), Choice(BACK, _("Back to the menu"))]
        return Question("\n".join(lines), choices)

    def read_overview(self, answer: Answer) -> str | None:
        return {"add": "add", "log": "log", "block": "block", BACK: "leave"}.get(answer.choice)

    def ask_add(self) -> Question:
        names = content.load("pacing")["activities"]
        return Question(_("Which activity would you like to pace?"),
                        [Choice(name, _(name)) for name in names] + [Choice(OWN, _("Something else")), Choice(BACK, _("Back"))],
                        columns=2)

    def read_add(self, answer: Answer) -> str | None:
        if answer.choice == OWN:
            return "own"
        if answer.choice == BACK:
            return "back"
        if answer.choice in content.load("pacing")["activities"]:
            return self._add(_(answer.choice))
        return None

    def ask_add_own(self) -> Question:
        return Question(_("What is the activity? A few words, such as “playing with my grandchildren”."), [Choice(BACK, _("Back"))])

    def read_add_own(self, answer: Answer) -> str | Invalid | None:
        if answer.choice == BACK:
            return "back"
        name = " ".join((answer.text or "").split())
        if not any(ch.isalnum() for ch in name) or len(name) > 100:
            return Invalid(_("A few words are enough, in your own way."))
        return self._add(name)

    def _add(self, name: str) -> str:
        self.turn.session.add(PacingActivity(patient_id=self.patient.id, name=name, created_at=self.turn.now))
        days = self.patient.clinic.setting("pacing_baseline_days")
        self.say(_("Added: {activity}. For the next {days} days, log how long you could do it before the pain climbed. "
                   "From that, we'll set a quota a little below it.").format(activity=name, days=days))
        return "added"

    def ask_pick_log(self) -> Question:
        return self._pick(_("Which activity?"))

    def read_pick_log(self, answer: Answer) -> str | None:
        return self._picked(answer, "picked")

    def ask_log(self) -> Question:
        row = self.turn.session.get(PacingActivity, self.data["activity_id"])
        if row.quota_minutes is None:
            text = _("How long could you do {activity} today before the pain climbed? In minutes.")
        else:
            text = _("How many minutes of {activity} did you do today?")
        return Question(text.format(activity=row.name), expects_number=True)

    def read_log(self, answer: Answer) -> str | Invalid:
        if HOURS.search(answer.text or ""):  # "1 hour", "1,5 horas": counted in minutes
            hours = read_value(HOURS_ITEM, answer)
            value = hours * 60 if hours is not None else None
        else:
            value = read_value(MINUTES, answer)
        if value is None:
            return Invalid(_("Please send the number of minutes, such as 20."))
        row = self.turn.session.get(PacingActivity, self.data["activity_id"])
        minutes = int(value)
        if row.quota_minutes is None and minutes < 1:
            return Invalid(_("Even a minute counts. How many minutes could you do it?"))
        if row.quota_minutes is None:
            # One baseline per day: logging again the same day replaces it (days, not entries, make a baseline).
            same_day = next((log for log in self._logs(row, "baseline") if log.local_date == self.turn.local_date()), None)
            if same_day is None:
                self.turn.session.add(PacingLog(activity_id=row.id, kind="baseline", minutes=minutes, local_date=self.turn.local_date(),
                                                logged_at=self.turn.now))
            else:
                same_day.minutes, same_day.logged_at = minutes, self.turn.now
            self.turn.session.flush()
            self._finish_baseline(row)
        else:
            quota = quotas.effective_quota(self.turn, row)
            win = wins.longest_yet(self.turn, row.id, minutes, quota)
            self.turn.session.add(PacingLog(activity_id=row.id, kind="done", minutes=minutes, quota_minutes=quota,
                                            local_date=self.turn.local_date(), logged_at=self.turn.now))
            self.say(quotas.feedback(minutes, quota).format(minutes=minutes, quota=fmt(round(quota))))
            if win:
                self.say(wins.said(self.turn, win))
        return "logged"

    def _finish_baseline(self, row: PacingActivity) -> None:
        clinic = self.patient.clinic
        logs = self._logs(row, "baseline")
        if len(logs) < clinic.setting("pacing_baseline_days"):
            self.say(_("Noted. Thank you."))
            return
        row.baseline_minutes = fmean(log.minutes for log in logs)
        row.quota_minutes = row.baseline_minutes * clinic.setting("pacing_start_percent") / 100
        row.next_raise_on = self.turn.local_date() + timedelta(days=clinic.setting("pacing_raise_every_days"))
        self.say(_("Your baseline for {activity} is {baseline} minutes. Your quota starts a little below it: {quota} minutes "
                   "at a time, with a break after. It will rise a little each week.").format(
            activity=row.name, baseline=fmt(round(row.baseline_minutes)), quota=fmt(round(row.quota_minutes))))

    def ask_pick_block(self) -> Question:
        return self._pick(_("Which activity are you starting?"), with_quota=True)

    def read_pick_block(self, answer: Answer) -> str | None:
        return self._picked(answer, "chosen")

    def ask_breathe_offer(self) -> Question:
        return Question(_("Before you start: a minute of slow breathing can ease the tension of bracing against pain. Would you like that?"),
                        [Choice("yes", _("Yes, a short breathing exercise")), Choice("no", _("No, start now"))])

    def read_breathe_offer(self, answer: Answer) -> str | None:
        if answer.choice == "yes":
            return "breathe_first"
        if answer.choice == "no":
            self._start_block()
            return "started"
        return None

    def ask_breathe(self) -> Call:
        return Call("breathing", on_return="started")

    def _start_block(self) -> None:
        """Schedule the planned break at the end of today's quota (sent like a check-in)."""
        row = self.turn.session.get(PacingActivity, self.data["activity_id"])
        quota = quotas.effective_quota(self.turn, row)
        at = self.turn.now + timedelta(minutes=quota)
        self.turn.session.add(Prompt(
            patient_id=self.patient.id, kind="pacing_break", pacing_activity_id=row.id, instruments=[],
            local_date=self.turn.local_date(), scheduled_for=at, expires_at=at + timedelta(hours=1),
        ))
        self.say(_("Go ahead with {activity}. I'll remind you to take your break in {minutes} minutes.").format(
            activity=row.name, minutes=fmt(round(quota))))

    def _pick(self, text: str, with_quota: bool = False) -> Question:
        rows = [row for row in quotas.activities(self.turn) if row.quota_minutes is not None or not with_quota]
        return Question(text, [Choice(str(row.id), row.name) for row in rows] + [Choice(BACK, _("Back"))])

    def _picked(self, answer: Answer, trigger: str) -> str | None:
        if answer.choice == BACK:
            return "back"
        ids = {str(row.id) for row in quotas.activities(self.turn)}
        if answer.choice in ids:
            self.data["activity_id"] = int(answer.choice)
            return trigger
        return None

    def _logs(self, row: PacingActivity, kind: str) -> list[PacingLog]:
        return records.logs(self.turn.session, row.id, kind)

    def _say_raise(self, row: PacingActivity) -> None:
        if message := quotas.raise_if_due(self.turn, row):
            self.say(message)


