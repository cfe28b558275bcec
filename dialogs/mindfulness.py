"""Mindfulness and acceptance, guided in chat: the patient picks a practice (a body scan, making room
for pain, leaves on a stream), rates tension and how much the pain is in charge, follows it (one
message edited at each step, with a Stop button), and rates both again. Diagram:
docs/dialogs/mindfulness.md. The practices are content/practices.toml; what they share with
muscle relaxation is dialogs/practices.py."""
from __future__ import annotations

from dialogs.base import in_order
from dialogs.practices import GuidedPractice


class Mindfulness(GuidedPractice):
    name = "mindfulness"
    family = "mindfulness"
    ratings = ("tension", "in_charge")
    states = ["pick", "tension_before", "in_charge_before", "running", "tension_after", "in_charge_after", "done"]
    initial = "pick"
    transitions = in_order(states)
