"""Typed text that means a button: the one place where words a patient types are read as a press
on one of the current question's buttons (dialogs/turn.py asks it before the dialog reads text).

A typed label is its button whatever the case, accents, punctuation around it, or an emoji on
the label ("✅ Yes" is "yes"); so is the start of a label ("yes" for "Yes, I agree") and, on a
question that offers both a yes and a no, a plain yes or no in any of our languages ("Yeah, I'm
64"). Numbers stay numbers where a typed number is itself an answer (a 0-10 scale, a time of
day): there only a label typed exactly as shown counts.
"""
from __future__ import annotations

from dialogs.answers import NO, YES, polarity
from dialogs.base import Choice, Question
from content.text import normalize


def typed_choice(question: object, text: str) -> Choice | None:
    """The button of `question` that `text` stands for, or None (free text, for the dialog)."""
    if not isinstance(question, Question) or not question.choices:
        return None
    typed, exact = normalize(text), text.strip()
    if not typed:
        return None
    choices = question.choices
    # A number button matches only as typed: normalising "-3" would drop the sign.
    if found := _one(c for c in choices if c.label == exact):
        return found
    has_letters = any(ch.isalpha() for ch in typed)
    if question.expects_number and not has_letters:
        return None  # "7" on a 0-10 scale is 7, at a time question the hour 7, never a button's start
    worded = [(normalize(c.label), c) for c in choices if any(ch.isalpha() for ch in c.label)]
    for candidates in (
        [c for label, c in worded if label == typed]
        + [c for c in choices if has_letters and normalize(c.value) == typed],
        [c for label, c in worded if label.startswith(typed + " ")],
        _yes_or_no(worded, typed),
    ):
        if found := _one(candidates):
            return found
    return None


def _yes_or_no(worded: list[tuple[str, Choice]], typed: str) -> list[Choice]:
    """A yes or a no typed first, on a question offering both: the button that starts the same way.
    (Where only a "No …" button stands beside free text, "No, but…" is that free text.)"""
    sides = {polarity(label) for label, _choice in worded} - {None}
    if sides != {"yes", "no"} or typed.split(" ", 1)[0] not in YES | NO:
        return []
    return [c for label, c in worded if polarity(label) == polarity(typed)]


def _one(candidates) -> Choice | None:
    """The choice when the candidates name exactly one (by value); None when none or several."""
    found = {c.value: c for c in candidates}
    return next(iter(found.values())) if len(found) == 1 else None
