"""Activity quotas, shared by pacing, flares and prompts: today's quota (lower in a flare, then
restored step by step), raising it when due, feedback on a logged spell, boom and bust, and a
planned break taken."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING


from dialogs import records
from dialogs.answers import fmt
from locales import _
from storage.models import PacingActivity, PacingLog, Prompt

if TYPE_CHECKING:
    from dialogs.base import Turn

STEADY, OVER = (0.8, 1.2), 1.5  # within 20 % of the quota is steady; half again is well over


def activities(turn: "Turn") -> list[PacingActivity]:
    return records.activities(turn.session, turn.patient.id)


def effective_quota(turn: "Turn", activity: PacingActivity) -> float | None:
    """Today's quota: reduced during a flare, then restored step by step."""
    if activity.quota_minutes is None:
        return None
    clinic = turn.patient.clinic
    reduction = clinic.setting("flare_reduction_percent") / 100
    hold = timedelta(hours=clinic.setting("flare_reduction_hours"))
    restore = timedelta(days=clinic.setting("flare_restore_days"))
    started = records.latest_flare_start(turn.session, turn.patient.id, turn.now - hold - restore)
    if started is None:
        return activity.quota_minutes
    since = turn.now - started
    if since <= hold:
        return activity.quota_minutes * (1 - reduction)
    return activity.quota_minutes * (1 - reduction * (1 - (since - hold) / restore))


def raise_if_due(turn: "Turn", activity: PacingActivity) -> str | None:
    """The weekly raise, when its day has come; none in a week with a flare."""
    if activity.next_raise_on is None or turn.local_date() < activity.next_raise_on:
        return None
    clinic = turn.patient.clinic
    every = timedelta(days=clinic.setting("pacing_raise_every_days"))
    activity.next_raise_on = turn.local_date() + every  # one step at a time, even after weeks away
    flare = records.latest_flare_start(turn.session, turn.patient.id, turn.now - every)
    if flare is not None:
        return _("No raise for {activity} this week, because of the flare. That's part of the plan.").format(activity=activity.name)
    activity.quota_minutes += activity.baseline_minutes * clinic.setting("pacing_raise_percent") / 100
    return _("Your quota for {activity} goes up to {minutes} minutes: a step planned in advance, not by how today feels.").format(
        activity=activity.name, minutes=fmt(round(activity.quota_minutes)))


def feedback(minutes: int, quota: float) -> str:
    ratio = minutes / quota if quota else 1
    if STEADY[0] <= ratio <= STEADY[1]:
        return _("Steady pacing: {minutes} of {quota} minutes. That's how capacity grows.")
    if ratio >= OVER:
        return _("That's well over your quota ({minutes} of {quota} minutes). On good days it's tempting to do more, "
                 "and a flare often follows. Try stopping at the quota, even when you feel you could go on.")
    if ratio > STEADY[1]:
        return _("A bit over your quota today ({minutes} of {quota} minutes). Stopping at the quota keeps tomorrow possible.")
    return _("Less than your quota today ({minutes} of {quota} minutes), and that's all right.")


def boom_and_bust(turn: "Turn") -> str | None:
    """A note when a flare comes within two days of doing well over a quota."""
    rows = records.done_against_quota(turn.session, turn.patient.id, turn.now - timedelta(days=2))
    for name, minutes, quota in rows:
        if quota and minutes >= OVER * quota:
            return _("I noticed you did well over your quota for {activity} recently. Doing a lot on a good day and then "
                     "crashing is very common; it's called boom and bust. Steady quotas help break the cycle.").format(activity=name)
    return None


def take_break(turn: "Turn", prompt: Prompt) -> None:
    """The patient took the planned break: the block is logged at today's quota, well paced."""
    activity = turn.session.get(PacingActivity, prompt.pacing_activity_id)
    quota = effective_quota(turn, activity)
    minutes = round(quota)
    turn.session.add(PacingLog(activity_id=activity.id, kind="done", minutes=minutes, quota_minutes=quota,
                               local_date=turn.local_date(), logged_at=turn.now))
    prompt.status, prompt.answered_at = "answered", turn.now
    turn.say(_("Well paced: {minutes} minutes of {activity}, then a break. Enjoy the rest.").format(
        minutes=fmt(minutes), activity=activity.name))
