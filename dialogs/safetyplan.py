"""The safety plan, written in advance: warning signs, what helps, people to contact, places
that feel safe, professionals, making the surroundings safer. Shown on the crisis path.
Diagram: docs/dialogs/safetyplan.md."""
from __future__ import annotations

from dialogs.safety import PLAN
from dialogs.written_plan import WrittenPlan
from locales import N_
from screen import policy as outcomes
from storage.models import SafetyPlan

class SafetyPlanDialog(WrittenPlan):
    name = "safetyplan"
    model = SafetyPlan
    parts = PLAN
    intro = N_("A safety plan, written on a calmer day, is there for you on a hard one. Six questions; answer in your own words.")
    saved = N_("Your safety plan is saved. I'll show it to you if you ever tell me you are in crisis.")

    def answers_may_mention(self) -> frozenset[str]:
        # "My partner keeps my tablets" is how the surroundings are made safer, not control.
        return frozenset({outcomes.ABUSE}) if self.state == "safer" else frozenset()

    def expects_crisis_words(self) -> bool:
        return self.state == "warning_signs"  # describing them is the point here
