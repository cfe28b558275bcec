"""During a flare: the patient's own plan shown back, how strong the pain is, and help offered
(the quick thought-check), never forced. Diagram: docs/dialogs/flare.md."""
from __future__ import annotations

from dialogs.base import Answer, Call, Choice, Dialog, Question
from dialogs.checkin import read_value
from dialogs.flareplan import plan_text
from content.instruments import Item
from locales import _
from storage.models import FlareEpisode, FlarePlan

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
        plan = plan_text(self.turn.session.get(FlarePlan, self.patient.id))
        text = _("I'm sorry it's flaring. Let's take it one step at a time. Here is your plan:") + "\n\n" + plan
        text += "\n\n" + _("How strong is the pain right now, from 0 to 10?")
        return Question(text, [Choice(str(n), str(n)) for n in range(11)], columns=6)

    def read_pain(self, answer: Answer) -> str | None:
        value = read_value(PAIN, answer)
        if value is None:
            return None
        episode = FlareEpisode(patient_id=self.patient.id, started_at=self.turn.now, peak_pain=int(value))
        self.turn.session.add(episode)
        self.turn.session.flush()
        self.data["episode_id"] = episode.id
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
