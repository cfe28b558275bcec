"""Small wins: when something the patient logs improves, say so, specifically and briefly."""
from __future__ import annotations

from datetime import datetime, timedelta
from statistics import fmean
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from dialogs.answers import fmt
from locales import _
from storage.models import Answer, PacingLog, Response

if TYPE_CHECKING:
    from dialogs.base import Turn

SLEEP_GAIN = 0.5  # hours above the recent average that count as "more sleep"
MIN_DAYS = 4


def longest_yet(turn: "Turn", activity_id: int, name: str, minutes: int, quota: float) -> str | None:
    """A new best for an activity, done within the quota (overdoing is not a win)."""
    if minutes > quota * 1.2:
        return None
    best = turn.session.scalar(
        select(func.max(PacingLog.minutes)).where(PacingLog.activity_id == activity_id, PacingLog.kind == "done")
    )
    if best is None or minutes <= best:
        return None
    return _("That's your longest {activity} yet, within your plan: {minutes} minutes.").format(activity=name, minutes=minutes)


def recent_daily(turn: "Turn", item_id: str, response_id: int) -> list[tuple[datetime, float]]:
    """(answered at, value) of a daily item over the last 7 days, oldest first, leaving out the
    check-in just answered and skips."""
    return list(turn.session.execute(
        select(Response.completed_at, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.patient_id == turn.patient.id, Response.id != response_id, Response.instrument == "daily",
            Response.completed_at > turn.now - timedelta(days=7), Answer.item_id == item_id, Answer.value.is_not(None),
        )
        .order_by(Response.completed_at)
    ).all())


def more_sleep(turn: "Turn", hours: float, response_id: int) -> str | None:
    previous = [value for _at, value in recent_daily(turn, "sleep_hours", response_id)]
    if len(previous) < MIN_DAYS or hours < fmean(previous) + SLEEP_GAIN:
        return None
    return _("More sleep than your recent average: {hours} hours last night.").format(hours=fmt(hours))
