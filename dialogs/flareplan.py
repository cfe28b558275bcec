"""The flare-up plan, written in advance while well: warning signs, what helps, what to step
back from, who to tell, when to seek care. Diagram: docs/dialogs/flareplan.md."""
from __future__ import annotations

from dialogs.written_plan import WrittenPlan
from locales import N_, _
from screen import policy as outcomes
from storage.models import FlarePlan

PARTS = [
    ("warning_signs", "warning_signs", N_("What are your early warning signs that a flare is starting?")),
    ("what_helps", "what_helps", N_("What helps you during a flare?")),
    ("step_back", "step_back_from", N_("What will you step back from for a while (without stopping everything)?")),
    ("who_to_tell", "who_to_tell", N_("Who will you tell, and what can they do?")),
    ("seek_care", "when_to_seek_care", N_("When will you seek care, and from whom?")),
]


def plan_text(plan: FlarePlan | None) -> str:
    return FlarePlanDialog.text_of(plan) or _("You haven't written a flare plan yet.")


class FlarePlanDialog(WrittenPlan):
    name = "flareplan"
    model = FlarePlan
    parts = PARTS
    intro = N_("A flare plan, written now, is there for you when a flare comes. Five questions.")
    saved = N_("Your flare plan is saved. It will be shown to you when you tell me a flare has started.")

    def answers_may_mention(self) -> frozenset[str]:
        # "If my leg goes numb, the emergency department": the plan, not a symptom now.
        return outcomes.RED_FLAGS if self.state == "seek_care" else frozenset()
