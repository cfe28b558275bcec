"""During a flare: the patient's own plan shown back, how strong the pain is, and help offered
(the quick thought-check), never forced. Diagram: docs/dialogs/flare.md."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from dialogs import records
from dialogs.base import Answer, Call, Choice, Dialog, Question
from dialogs import flares, quotas
from dialogs.answers import read_value, scale_question
from content.instruments import Item
from locales import _

from storage.models import FlareEpisode, FlarePlan

if TYPE_CHECKING:
    pass

PAIN = Item(id="pain", text="", kind="scale", minimum=0, maximum=10)
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
        plan = flares.plan_text(self.turn.session.get(FlarePlan, self.patient.id))
        if plan:
            text = _("I'm sorry it's flaring. Let's take it one step at a time. Here is your plan:") + "\n\n" + plan
        else:  # nothing written yet: no "here is your plan" before an empty one
            text = _("I'm sorry it's flaring. Let's take it one step at a time. (When this has passed, you can write "
                     "a flare plan for next time under Plan and pace.)")
        text += "\n\n" + _("How strong is the pain right now, from 0 to 10?")
        return scale_question(text)

    def read_pain(self, answer: Answer) -> str | None:
        value = read_value(PAIN, answer)
        if value is None:
            return None
        episode = flares.open_episode(self.turn)
        if episode is not None:  # the same flare, told again: its peak may have risen
            episode.peak_pain = max(episode.peak_pain or 0, int(value))
        else:
            episode = FlareEpisode(patient_id=self.patient.id, started_at=self.turn.now, peak_pain=int(value))
            self.turn.session.add(episode)
            self.turn.session.flush()
            flares.schedule_follow_up(self.turn, episode)
        self.data["episode_id"] = episode.id
        # Activity blocks under way: their planned breaks come now, not at the old quota
        # (a second apart: a patient has one prompt per instant).
        pending = records.planned_breaks(self.turn.session, self.patient.id, self.turn.now)
        for offset, prompt in enumerate(pending):
            prompt.scheduled_for = self.turn.now + timedelta(seconds=offset)
            prompt.expires_at = prompt.scheduled_for + timedelta(hours=1)
        if note := quotas.boom_and_bust(self.turn):
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
