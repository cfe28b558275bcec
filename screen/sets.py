"""The labelled sets (tests/screen_sets/, tests/safety_set/) as (outcome, kind, text, language) rows,
for training, choosing thresholds, tests and the benchmark."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "tests"
LANGUAGES = ("en", "es", "de")

# The first labelled set used the list categories; mapped here to the outcomes.
_OLD = {"ambiguous": "direct_question", "eating_disorder": "eating_disorder", "none": "none"}
_OLD_RED_FLAG = {"bladder_bowel": "red_flag_emergency", "saddle": "red_flag_emergency", "leg_weakness": "red_flag_emergency"}


@dataclass(frozen=True)
class Line:
    outcome: str
    kind: str
    text: str
    language: str


def read(name: str, languages=LANGUAGES) -> list[Line]:
    """One set: "train", "validation" or "heldout" (tests/screen_sets/NAME/LANG.tsv)."""
    lines = []
    for language in languages:
        for row in (ROOT / "screen_sets" / name / f"{language}.tsv").read_text(encoding="utf-8").splitlines():
            if row.strip() and not row.startswith("#"):
                outcome, kind, text = row.split("\t")
                lines.append(Line(outcome, kind, text, language))
    return lines


def read_first_set(languages=LANGUAGES) -> list[Line]:
    """tests/safety_set/ (category, kind, form, text), as outcomes."""
    lines = []
    for language in languages:
        for row in (ROOT / "safety_set" / f"{language}.tsv").read_text(encoding="utf-8").splitlines():
            if not row.strip() or row.startswith("#"):
                continue
            category, kind, _form, text = row.split("\t")
            if category == "crisis":
                outcome = "abuse" if kind == "abuse" else "crisis"
            elif category == "red_flag":
                outcome = _OLD_RED_FLAG.get(kind, "red_flag_today")
            else:
                outcome = _OLD[category]
            lines.append(Line(outcome, kind, text, language))
    return lines
