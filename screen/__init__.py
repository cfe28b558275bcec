"""The safety screen: every text a patient sends passes through here before any dialog logic.

Rules (`screen.rules`, phrase lists per language in content/safety/), a statistical classifier
(`screen.classifier`, a model shipped in screen/model/) and the policy that combines them into one
leading reply (`screen.policy`). It imports nothing from the dialogs; the dialogs call it.
See docs/safety.md for what it catches and what it misses, measured on a held-out set.
"""
from __future__ import annotations

from screen.classifier import ModelError
from screen.policy import Finding, Screening, screen

__all__ = ["Finding", "ModelError", "Screening", "check", "screen"]


def check() -> None:
    """Load the lists and the model now: a broken phrase file raises ContentError naming it, a
    missing or corrupt model ModelError, so that start-up stops with one clear line."""
    from screen import classifier, phrases, rules

    phrases.load_phrases()
    rules.screen_all("")
    rules.advice_all("")
    classifier.load()
    screen("warm up")  # compiles the lists now, not on the first patient's message
