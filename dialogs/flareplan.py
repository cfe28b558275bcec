"""The flare-up plan, written in advance while well: warning signs, what helps, what to step
back from, who to tell, when to seek care. Diagram: docs/dialogs/flareplan.md."""
from __future__ import annotations

from dialogs.flares import PLAN
from dialogs.written_plan import WrittenPlan
from locales import N_
from screen import policy as outcomes
from storage.models import FlarePlan

class FlarePlanDialog(WrittenPlan):
    name = "flareplan"
    model = FlarePlan
    parts = PLAN
    intro = N_("A flare plan, written now, is there for you when a flare comes. Five questions.")
    saved = N_("Your flare plan is saved. It will be shown to you when you tell me a flare has started.")

    def answers_may_mention(self) -> frozenset[str]:
        # "If my leg goes numb, the emergency department": the plan, not a symptom now.
        return outcomes.RED_FLAGS if self.state == "seek_care" else frozenset()
