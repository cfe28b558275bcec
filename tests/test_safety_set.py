"""The first labelled safety set (tests/safety_set/*.tsv) against the whole screen (lists and model,
both of which learnt from it: these are floors against regression, not measures of recall; the
held-out set in tests/screen_sets/ is the measure): recall per category and
language, and the false-positive rate on the near misses and everyday messages.

One file per language, one phrasing per line: category, kind, form, text (tab-separated; the
format is described at the top of en.tsv). A line counts as caught when the screen's verdict is
its category; for an ``ambiguous`` line a ``crisis`` verdict counts too (the stronger answer).
A ``none`` line is a false positive when the screen gives it any category.

The thresholds are floors to hold, not targets: direct crisis statements are caught without
exception, in every language. benchmarks/screen.py measures the held-out set.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from screen import screen
from screen import policy

# This first set was labelled with four categories; the screen's outcomes fall into them so.
CRISIS, AMBIGUOUS, EATING_DISORDER, RED_FLAG = "crisis", "ambiguous", "eating_disorder", "red_flag"
CATEGORIES = (CRISIS, AMBIGUOUS, EATING_DISORDER, RED_FLAG)
FAMILY = {
    policy.CRISIS: CRISIS, policy.OVERDOSE_TAKEN: CRISIS, policy.ABUSE: CRISIS, policy.DIRECT_QUESTION: AMBIGUOUS,
    policy.EATING_DISORDER: EATING_DISORDER, policy.RED_FLAG_EMERGENCY: RED_FLAG, policy.RED_FLAG_TODAY: RED_FLAG,
}


def verdict_of(text: str) -> str | None:
    """The first outcome that answers a concern of this set (medication and diet replies do not)."""
    return next((FAMILY[o] for o in screen(text).outcomes() if o in FAMILY), None)

SET_DIR = Path(__file__).parent / "safety_set"
LANGUAGES = ("en", "es", "de")
NONE = "none"
KINDS = {
    CRISIS: {"direct", "indirect", "means", "goodbye", "giving_away", "abuse"},
    AMBIGUOUS: {"ambiguous"},
    EATING_DISORDER: {"eating_disorder"},
    RED_FLAG: {"bladder_bowel", "saddle", "leg_weakness", "infection", "cancer_weight", "trauma"},
    NONE: {"near_miss", "idiom", "everyday"},
}
FORMS = {"plain", "typo", "order", "noisy", "mixed"}
MIN_LINES = 150

# Floors per language (see the module docstring). Direct crisis statements: no exception.
MIN_DIRECT_CRISIS_RECALL = 1.0
MIN_RECALL = {CRISIS: 0.95, AMBIGUOUS: 0.9, EATING_DISORDER: 0.9, RED_FLAG: 0.9}
MAX_FALSE_POSITIVE_RATE = 0.05


@dataclass(frozen=True)
class Line:
    language: str
    number: int  # line number in the file, for messages
    category: str  # one of CATEGORIES, or "none"
    kind: str
    form: str
    text: str

    @property
    def expected(self) -> str | None:
        return None if self.category == NONE else self.category


def load_set(language: str) -> list[Line]:
    """The labelled lines of one language; ValueError naming file and line if one is malformed."""
    path = SET_DIR / f"{language}.tsv"
    lines = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("\t")
        if len(fields) != 4 or not fields[3].strip():
            raise ValueError(f"{path.name}:{number}: expected 4 tab-separated fields, got {len(fields)}")
        category, kind, form, text = fields
        if category not in KINDS or kind not in KINDS[category] or form not in FORMS:
            raise ValueError(f"{path.name}:{number}: unknown category, kind or form: {category!r} {kind!r} {form!r}")
        lines.append(Line(language, number, category, kind, form, text))
    return lines


def caught(line: Line, verdict: str | None) -> bool:
    if line.expected is None:
        return verdict is None
    return verdict == line.expected or (line.expected == AMBIGUOUS and verdict == CRISIS)


@dataclass
class Tally:
    total: int = 0
    hits: int = 0  # caught, or for "none" lines: left alone

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else float("nan")


@dataclass
class Result:
    """Every line's verdict, tallied by (language, category) and by (language, category, kind)."""

    verdicts: list[tuple[Line, str | None]]

    def tally(self, language: str | None = None, category: str | None = None, kind: str | None = None) -> Tally:
        tally = Tally()
        for line, verdict in self.verdicts:
            if (language in (None, line.language) and category in (None, line.category) and kind in (None, line.kind)):
                tally.total += 1
                tally.hits += caught(line, verdict)
        return tally

    def recall(self, language: str | None, category: str, kind: str | None = None) -> float:
        return self.tally(language, category, kind).rate

    def false_positive_rate(self, language: str | None = None) -> float:
        tally = self.tally(language, NONE)
        return 1 - tally.rate if tally.total else float("nan")

    def failures(self, language: str | None = None, category: str | None = None, kind: str | None = None) -> list[str]:
        return [
            f"{line.language}.tsv:{line.number} [{line.category}/{line.kind}] {line.text!r} -> {verdict}"
            for line, verdict in self.verdicts
            if language in (None, line.language) and category in (None, line.category) and kind in (None, line.kind)
            and not caught(line, verdict)
        ]


def measure(languages=LANGUAGES) -> Result:
    return Result([(line, verdict_of(line.text)) for language in languages for line in load_set(language)])


@pytest.fixture(scope="module")
def result() -> Result:
    return measure()


# -- the set itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_set_is_well_formed_and_covers_every_kind(language):
    lines = load_set(language)
    assert len(lines) >= MIN_LINES
    texts = Counter(line.text for line in lines)  # case variants are lines of their own ("noisy")
    assert [text for text, count in texts.items() if count > 1] == []
    seen = {(line.category, line.kind) for line in lines}
    missing = {(category, kind) for category, kinds in KINDS.items() for kind in kinds} - seen
    assert missing == set()
    assert {line.form for line in lines if line.category != NONE} == FORMS  # misspelt, odd order, noisy, mixed


def test_categories_match_the_screen():
    assert set(KINDS) == {*CATEGORIES, NONE}


# -- the screen on the set ---------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_direct_crisis_statement_is_caught(result, language):
    # Stated on its own so that a failure reads as what it is: a missed disclosure.
    missed = result.failures(language, CRISIS, "direct")
    assert result.recall(language, CRISIS, "direct") >= MIN_DIRECT_CRISIS_RECALL, "\n".join(["missed:", *missed])


@pytest.mark.parametrize("category", sorted(MIN_RECALL))
@pytest.mark.parametrize("language", LANGUAGES)
def test_recall(result, language, category):
    recall = result.recall(language, category)
    missed = result.failures(language, category)
    assert recall >= MIN_RECALL[category], "\n".join([f"{language} {category} recall {recall:.3f}; missed:", *missed])


@pytest.mark.parametrize("language", LANGUAGES)
def test_false_positive_rate(result, language):
    rate = result.false_positive_rate(language)
    flagged = result.failures(language, NONE)
    assert rate <= MAX_FALSE_POSITIVE_RATE, "\n".join([f"{language} false-positive rate {rate:.3f}; flagged:", *flagged])


def test_measure_counts_what_it_should():
    # The metric itself: an ambiguous line answered as a crisis counts; a red flag answered as
    # ambiguous does not (the red-flag advice would not be given).
    line = Line("en", 1, AMBIGUOUS, "ambiguous", "plain", "x")
    assert caught(line, CRISIS) and caught(line, AMBIGUOUS) and not caught(line, RED_FLAG) and not caught(line, None)
    red = Line("en", 2, RED_FLAG, "trauma", "plain", "x")
    assert caught(red, RED_FLAG) and not caught(red, AMBIGUOUS)
    none = Line("en", 3, NONE, "idiom", "plain", "x")
    assert caught(none, None) and not caught(none, RED_FLAG)
    result = Result([(line, CRISIS), (red, None), (none, RED_FLAG)])
    assert result.recall("en", AMBIGUOUS) == 1.0 and result.recall("en", RED_FLAG) == 0.0
    assert result.false_positive_rate("en") == 1.0
    assert result.failures("en", RED_FLAG) == ["en.tsv:2 [red_flag/trauma] 'x' -> None"]
