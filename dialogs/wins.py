"""Small wins: when something the patient logs improves, say so, specifically and briefly, and keep
it, so "My small wins" can show it again later.

A win is kept as its kind and the facts behind it (numbers, and the activity by its row), never
as the sentence said: the list words each one again, in the patient's language of the day. It is
stored by the step that says it, in that step's transaction. A new kind of win is a finder here
and an entry in KINDS.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean
from typing import TYPE_CHECKING, Any, Callable

from babel.dates import format_date

import locales
from dialogs import records
from dialogs.answers import fmt
from locales import _
from storage.models import PacingActivity, SmallWin

if TYPE_CHECKING:
    from dialogs.base import Turn

SLEEP_GAIN = 0.5  # hours above the recent average that count as "more sleep"
MIN_DAYS = 4
SHOWN = 10  # wins in "My small wins"


@dataclass(frozen=True)
class Win:
    kind: str
    facts: dict[str, Any] = field(default_factory=dict)
    activity_id: int | None = None  # the pacing activity it was won in


# -- finding them -------------------------------------------------------------------------------

def longest_yet(turn: "Turn", activity_id: int, minutes: int, quota: float) -> Win | None:
    """A new best for an activity, done within the quota (overdoing is not a win)."""
    if minutes > quota * 1.2:
        return None
    best = records.longest_done(turn.session, activity_id)
    if best is None or minutes <= best:
        return None
    return Win("longest_yet", {"minutes": minutes, "quota_minutes": round(quota, 1), "previous_best": best}, activity_id)


def recent_daily(turn: "Turn", item_id: str, response_id: int) -> list[tuple[datetime, float]]:
    """(answered at, value) of a daily item over the last 7 days, oldest first, leaving out the
    check-in just answered and skips."""
    return records.recent_daily_values(turn.session, turn.patient.id, item_id, response_id, turn.now - timedelta(days=7))


def more_sleep(turn: "Turn", hours: float, response_id: int) -> Win | None:
    previous = [value for _at, value in recent_daily(turn, "sleep_hours", response_id)]
    if len(previous) < MIN_DAYS or hours < fmean(previous) + SLEEP_GAIN:
        return None
    return Win("more_sleep", {"hours": hours, "average_hours": round(fmean(previous), 1), "nights": len(previous)})


# -- saying and keeping them --------------------------------------------------------------------

def said(turn: "Turn", win: Win) -> str:
    """Keep the win, in the step's transaction, and word it for now."""
    row = SmallWin(patient_id=turn.patient.id, kind=win.kind, facts=dict(win.facts), activity_id=win.activity_id, said_at=turn.now)
    turn.session.add(row)
    return KINDS[row.kind].said(_facts(turn, row))


def listing(turn: "Turn") -> str:
    """"My small wins": the last ones, newest first, each with its date on the patient's calendar
    and what made it possible; a kind word when there are none yet."""
    rows = [row for row in records.last_wins(turn.session, turn.patient.id, SHOWN) if row.kind in KINDS]
    if not rows:
        return _("No small wins noted yet, and that's all right. They come from the everyday things you log, such as a check-in "
                 "or an activity done within your plan. When one happens, I'll keep it here for you.")
    lines = [_("Your small wins, newest first:")]
    for row in rows:
        day = format_date(turn.local_date(row.said_at), format="medium", locale=locales.formatting())
        kind, facts = KINDS[row.kind], _facts(turn, row)
        lines.append(f"\n{day}: {kind.listed(facts)}\n" + _("What made it possible: {behind}").format(behind=kind.behind(facts)))
    return "\n".join(lines)


def _facts(turn: "Turn", row: SmallWin) -> dict[str, str]:
    """The facts as words: numbers as the patient writes them, the activity by its current name."""
    facts = {key: fmt(value) if isinstance(value, (int, float)) else str(value) for key, value in (row.facts or {}).items()}
    if row.activity_id is not None:
        activity = turn.session.get(PacingActivity, row.activity_id)
        facts["activity"] = activity.name if activity is not None else _("an activity")
    return facts


# -- their words --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    said: Callable[[dict[str, str]], str]  # at the moment it happens
    listed: Callable[[dict[str, str]], str]  # in "My small wins"
    behind: Callable[[dict[str, str]], str]  # what made it possible


KINDS: dict[str, Kind] = {
    "longest_yet": Kind(
        said=lambda f: _("That's your longest {activity} yet, within your plan: {minutes} minutes.").format(**f),
        listed=lambda f: _("Your longest {activity} yet, within your plan: {minutes} minutes.").format(**f),
        behind=lambda f: _("pacing {activity}, {minutes} of your {quota_minutes} planned minutes (your best before: {previous_best})."
                           ).format(**f),
    ),
    "more_sleep": Kind(
        said=lambda f: _("More sleep than your recent average: {hours} hours last night.").format(**f),
        listed=lambda f: _("More sleep than your recent average: {hours} hours.").format(**f),
        behind=lambda f: _("your daily check-ins: {nights} nights before it, {average_hours} hours on average.").format(**f),
    ),
}
