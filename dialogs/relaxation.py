"""Progressive muscle relaxation, guided in chat: tension before, the practice (one message edited
at each step, with a Stop button; tense lightly, skip any painful or injured area), tension after.
Diagram: docs/dialogs/relaxation.md. The steps are content/practices.toml; what the practices
share is dialogs/practices.py."""
from __future__ import annotations

from dialogs.base import in_order
from dialogs.practices import GuidedPractice


class Relaxation(GuidedPractice):
    name = "relaxation"
    family = "relaxation"
    ratings = ("tension",)
    states = ["tension_before", "running", "tension_after", "done"]
    initial = "tension_before"
    transitions = in_order(states)
