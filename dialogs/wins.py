"""Small wins: when something the patient logs improves, say so, specifically and briefly."""
from __future__ import annotations

from datetime import datetime, timedelta
from statistics import fmean
from typing import TYPE_CHECKING


from dialogs import records
from dialogs.answers import fmt
from locales import _

if TYPE_CHECKING:
    from dialogs.base import Turn

SLEEP_GAIN = 0.5  # hours above the recent average that count as "more sleep"
MIN_DAYS = 4


def longest_yet(turn: "Turn", activity_id: int, name: str, minutes: int, quota: float) -> str | None:
    """A new best for an activity, done within the quota (overdoing is not a win)."""
    if minutes > quota * 1.2:
        return None
    best = records.longest_done(turn.session, activity_id)
    if best is None or minutes <= best:
        return None
    return _("That's your longest {activity} yet, within your plan: {minutes} minutes.").format(activity=name, minutes=minutes)


def recent_daily(turn: "Turn", item_id: str, response_id: int) -> list[tuple[datetime, float]]:
    """(answered at, value) of a daily item over the last 7 days, oldest first, leaving out the
    check-in just answered and skips."""
    return records.recent_daily_values(turn.session, turn.patient.id, item_id, response_id, turn.now - timedelta(days=7))


def more_sleep(turn: "Turn", hours: float, response_id: int) -> str | None:
    previous = [value for _at, value in recent_daily(turn, "sleep_hours", response_id)]
    if len(previous) < MIN_DAYS or hours < fmean(previous) + SLEEP_GAIN:
        return None
    return _("More sleep than your recent average: {hours} hours last night.").format(hours=fmt(hours))
