"""Flares, as any step meets them: flare words in a message, a pain score well above the week's,
the offer of the flare steps, an episode opened and followed up, and the patient's flare plan
shown back. (The flare steps themselves are the `flare` dialog; the plan is written in the
`flareplan` dialog.)"""
from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from statistics import fmean
from typing import TYPE_CHECKING


import content
from dialogs import records
from dialogs import wins
from dialogs.base import Call, Choice
from dialogs.written_plan import plan_text as written
from locales import N_, _
from screen.phrases import any_of
from screen.text import normalize
from storage.models import FlareEpisode, FlarePlan, Prompt

if TYPE_CHECKING:
    from dialogs.base import Turn

OFFER = "offer"  # the action of the button that offers the flare steps
BUSY = {"flare", "flareplan", "quickcheck", "breathing"}  # already in the flare steps or helping


@cache
def _flare_words() -> re.Pattern[str]:
    phrases = [p for table in content.load("flare_words").values() for p in table["phrases"]]
    return any_of(phrases)


NEGATIONS = {"no", "not", "isnt", "without", "sin", "ni", "nicht", "kein", "keine", "keinen", "ohne"}


def mentions_flare(text: str) -> bool:
    """Flare words in any of our languages ("flare-up", "brote", "Schub"), not negated
    ("no flare today", "kein Schub")."""
    padded = f" {normalize(text)} "
    for match in _flare_words().finditer(padded):
        nearby = padded[: match.start()].split()[-2:] + match.group(0).split()  # just before, and within
        if not NEGATIONS.intersection(nearby):
            return True
    return False


def offer(turn: "Turn") -> None:
    """Offer, never force, the flare steps (plan shown back, breathing, quick thought-check)."""
    if turn.patient.onboarded_at is None or turn.state.dialog in BUSY or turn.state.paused:
        return
    turn.say(_("It sounds like a flare. Would you like to go through your flare steps?"),
             [Choice("flare", _("Yes, I'm having a flare"))], action=OFFER)


def pain_spike(turn: "Turn", pain: float, response_id: int) -> bool:
    """Is today's pain well above the mean of the previous 7 days (clinic settings: 2 points,
    with at least 4 days answered)? One value a day: the day's last answer."""
    rows = wins.recent_daily(turn, "pain_now", response_id)
    by_day = {turn.local_date(at): value for at, value in rows if turn.local_date(at) != turn.local_date()}
    clinic = turn.patient.clinic
    return len(by_day) >= clinic.setting("flare_spike_min_days") and pain >= fmean(by_day.values()) + clinic.setting("flare_spike_points")


def open_episode(turn: "Turn") -> FlareEpisode | None:
    """A flare still going on: not ended, started within the last two weeks."""
    return records.open_flare(turn.session, turn.patient.id, turn.now - timedelta(days=14))


def schedule_follow_up(turn: "Turn", episode: FlareEpisode) -> None:
    """A prompt 48 hours on (clinic setting) that asks how the flare went; sent like a check-in."""
    if turn.patient.timezone is None:
        return
    at = turn.now + timedelta(hours=turn.patient.clinic.setting("flare_followup_hours"))
    turn.session.add(
        Prompt(
            patient_id=turn.patient.id, kind="flare_followup", flare_episode_id=episode.id, instruments=[],
            local_date=turn.local_date(at), scheduled_for=at,
            expires_at=at + timedelta(minutes=turn.patient.clinic.setting("expire_after_minutes")),
        )
    )


def on_press(turn: "Turn") -> None:
    if turn.state.dialog in BUSY:
        turn.ask()
        return
    turn.call(Call("flare"))


# The flare plan's parts: (state, column, question).
PLAN = [
    ("warning_signs", "warning_signs", N_("What are your early warning signs that a flare is starting?")),
    ("what_helps", "what_helps", N_("What helps you during a flare?")),
    ("step_back", "step_back_from", N_("What will you step back from for a while (without stopping everything)?")),
    ("who_to_tell", "who_to_tell", N_("Who will you tell, and what can they do?")),
    ("seek_care", "when_to_seek_care", N_("When will you seek care, and from whom?")),
]


def plan_text(plan: FlarePlan | None) -> str | None:
    """The patient's flare plan as they wrote it; None before they wrote any of it."""
    return written(PLAN, plan)
