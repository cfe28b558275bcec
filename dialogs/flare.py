"""During a flare: the patient's own plan shown back, how strong the pain is, and help offered
(the quick thought-check), never forced. Diagram: docs/dialogs/flare.md."""
from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from statistics import fmean
from typing import TYPE_CHECKING

import content
from dialogs.base import Answer, Call, Choice, Dialog, Question
from dialogs import pacing, wins
from screen.phrases import any_of
from screen.text import normalize
from dialogs.answers import read_value, scale_question
from dialogs.flareplan import plan_text
from content.instruments import Item
from locales import _
from sqlalchemy import select

from storage.models import FlareEpisode, FlarePlan, Prompt

if TYPE_CHECKING:
    from dialogs.base import Turn

PAIN = Item(id="pain", text="", kind="scale", minimum=0, maximum=10)
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
    return turn.session.scalars(
        select(FlareEpisode).where(FlareEpisode.patient_id == turn.patient.id, FlareEpisode.ended_at.is_(None),
                                   FlareEpisode.started_at > turn.now - timedelta(days=14))
        .order_by(FlareEpisode.started_at.desc())
    ).first()


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


class Flare(Dialog):
    name = "flare"
    states = ["pain", "offer", "quick", "breathe", "done"]
    initial = "pain"
    transitions = [
        {"trigger": "rated", "source": "pain", "dest": "offer"},
        {"trigger": "check", "source": "offer", "dest": "quick"},
        {"trigger": "checked", "source": ["quick", "breathe"], "dest": "offer"},
        {"trigger": "breathe_now", "source": "offer", "dest": "breathe"},
        {"trigger": "enough", "source": "offer", "dest": "done"},
    ]

    def ask_pain(self) -> Question:
        plan = plan_text(self.turn.session.get(FlarePlan, self.patient.id))
        text = _("I'm sorry it's flaring. Let's take it one step at a time. Here is your plan:") + "\n\n" + plan
        text += "\n\n" + _("How strong is the pain right now, from 0 to 10?")
        return scale_question(text)

    def read_pain(self, answer: Answer) -> str | None:
        value = read_value(PAIN, answer)
        if value is None:
            return None
        episode = open_episode(self.turn)
        if episode is not None:  # the same flare, told again: its peak may have risen
            episode.peak_pain = max(episode.peak_pain or 0, int(value))
        else:
            episode = FlareEpisode(patient_id=self.patient.id, started_at=self.turn.now, peak_pain=int(value))
            self.turn.session.add(episode)
            self.turn.session.flush()
            schedule_follow_up(self.turn, episode)
        self.data["episode_id"] = episode.id
        # Activity blocks under way: their planned breaks come now, not at the old quota
        # (a second apart: a patient has one prompt per instant).
        pending = self.turn.session.scalars(
            select(Prompt).where(Prompt.patient_id == self.patient.id, Prompt.kind == "pacing_break", Prompt.status == "scheduled",
                                 Prompt.scheduled_for > self.turn.now).order_by(Prompt.scheduled_for)
        ).all()
        for offset, prompt in enumerate(pending):
            prompt.scheduled_for = self.turn.now + timedelta(seconds=offset)
            prompt.expires_at = prompt.scheduled_for + timedelta(hours=1)
        if note := pacing.boom_and_bust(self.turn):
            self.say(note)
        return "rated"

    def ask_offer(self) -> Question:
        return Question(
            _("Flares pass. Pace yourself today: shorter spells of activity with breaks, rather than stopping everything. "
              "Would something help right now?"),
            [
                Choice("breathe", _("A breathing exercise")),
                Choice("quick", _("A quick thought-check")),
                Choice("enough", _("I'm all right for now")),
            ],
        )

    def read_offer(self, answer: Answer) -> str | None:
        return {"breathe": "breathe_now", "quick": "check", "enough": "enough"}.get(answer.choice)

    def ask_quick(self) -> Call:
        return Call("quickcheck", on_return="checked")

    def ask_breathe(self) -> Call:
        return Call("breathing", on_return="checked")

    def finished(self) -> None:
        self.say(_("Take good care. You can come back to the menu any time with /menu."))
