"""Small wins: when something the patient logs improves, say so, specifically and briefly."""
from __future__ import annotations

from datetime import timedelta
from statistics import fmean
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from dialogs.answers import fmt
from locales import _
from storage.models import Answer, PacingLog, Response

if TYPE_CHECKING:
    from dialogs.engine import Turn

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


def more_sleep(turn: "Turn", hours: float, response_id: int) -> str | None:
    previous = turn.session.execute(
        select(Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.patient_id == turn.patient.id, Response.id != response_id, Response.instrument == "daily",
            Response.completed_at > turn.now - timedelta(days=7), Answer.item_id == "sleep_hours", Answer.value.is_not(None),
        )
    ).scalars().all()
    if len(previous) < MIN_DAYS or hours < fmean(previous) + SLEEP_GAIN:
        return None
    return _("More sleep than your recent average: {hours} hours last night.").format(hours=fmt(hours))
