"""The safety plan, written in advance: warning signs, what helps, people to contact, places
that feel safe, professionals, making the surroundings safer. Shown on the crisis path.
Diagram: docs/dialogs/safetyplan.md."""
from __future__ import annotations

from dialogs.written_plan import WrittenPlan
from locales import N_
from screen import policy as outcomes
from storage.models import SafetyPlan

PARTS = [
    ("warning_signs", "warning_signs", N_("What are your warning signs that a crisis may be building (thoughts, feelings, situations)?")),
    ("what_helps", "what_helps", N_("What can you do on your own that helps, even a little?")),
    ("people", "people", N_("Who can you contact for support or distraction? Names and numbers.")),
    ("safe_places", "safe_places", N_("Which places feel safe or calming to you?")),
    ("professionals", "professionals", N_("Which professionals or services can you call (your clinic, your doctor, a crisis line)?")),
    ("safer", "safer_surroundings", N_("How can you make your surroundings safer (for example, giving medicines to someone to keep)?")),
]


class SafetyPlanDialog(WrittenPlan):
    name = "safetyplan"
    model = SafetyPlan
    parts = PARTS
    intro = N_("A safety plan, written on a calmer day, is there for you on a hard one. Six questions; answer in your own words.")
    saved = N_("Your safety plan is saved. I'll show it to you if you ever tell me you are in crisis.")

    def answers_may_mention(self) -> frozenset[str]:
        # "My partner keeps my tablets" is how the surroundings are made safer, not control.
        return frozenset({outcomes.ABUSE}) if self.state == "safer" else frozenset()

    def expects_crisis_words(self) -> bool:
        return self.state == "warning_signs"  # describing them is the point here
