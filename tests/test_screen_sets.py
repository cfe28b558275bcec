"""The labelled sets are kept apart: the held-out set is the hashed, untouched measure, and none of its
lines has a near-duplicate among the phrase lists or the training lines (lines added later included,
since this runs on every change)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from screen import sets
from screen.phrases import SECTIONS, load_phrases
from screen.text import normalize

ROOT = Path(__file__).resolve().parent.parent
NEAR = 0.5  # character-trigram Jaccard similarity at which two lines count as near-duplicates


def trigrams(text: str) -> frozenset[str]:
    padded = f" {normalize(text)} "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def test_the_held_out_set_is_the_one_hashed_in_the_docs():
    recorded = dict(re.findall(r"`tests/screen_sets/heldout/(\w\w)\.tsv` \| `([0-9a-f]{64})`", (ROOT / "docs/safety.md").read_text()))
    assert set(recorded) == set(sets.LANGUAGES)
    for language, digest in recorded.items():
        assert hashlib.sha256((ROOT / f"tests/screen_sets/heldout/{language}.tsv").read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("name", ["heldout", "validation", "train"])
def test_sets_are_well_formed_with_every_kind_in_every_language(name):
    lines = sets.read(name)
    outcomes = {"crisis", "overdose_taken", "direct_question", "abuse", "eating_disorder", "red_flag_emergency",
                "red_flag_today", "medication", "diet", "none"}
    assert {line.outcome for line in lines} == outcomes
    if name == "heldout":  # at least 100 a language and 10 of each kind a language
        for language in sets.LANGUAGES:
            mine = [line for line in lines if line.language == language]
            assert len(mine) >= 100
            for outcome in outcomes:
                assert sum(line.outcome == outcome for line in mine) >= 10, (language, outcome)


def lists_at_freeze() -> set[tuple[str, str]]:
    rows = (ROOT / "tests/screen_sets/lists_at_freeze.tsv").read_text(encoding="utf-8").splitlines()
    return {tuple(row.split("\t", 1)) for row in rows if row and not row.startswith("#")}


def test_no_held_out_line_has_a_near_duplicate_in_the_lists_or_the_training_lines():
    """Every training line, and every list phrase added since the held-out set was frozen. (The
    phrases that existed before it was written could not have been taught by it; where a held-out
    line happens to resemble one, docs/safety.md counts it.)"""
    held_out = [(line.text, trigrams(line.text)) for line in sets.read("heldout")]
    sources = [line.text for line in sets.read("train") + sets.read_first_set()]
    before = lists_at_freeze()
    sources += [phrase.replace("*", " ").replace("~", "").replace("&", " ")
                for s in load_phrases() for section in SECTIONS for phrase in getattr(s, section)
                if (s.language, phrase) not in before]
    taught = [(text, trigrams(text)) for text in sources]
    close = [(held, text) for held, a in held_out for text, b in taught if len(b) > 6 and jaccard(a, b) >= NEAR]
    assert close == []


def test_the_measure_itself():
    same = trigrams("I want to end it all tonight")
    assert jaccard(same, trigrams("i want to end it all tonight!")) == 1.0
    assert jaccard(same, trigrams("my knee hurts after the walk")) < NEAR


def test_the_reserve_set_is_the_one_hashed_in_the_docs_and_complete():
    """Frozen for the next release and read by nothing else until then."""
    recorded = dict(re.findall(r"`tests/screen_sets/reserve/(\w\w)\.tsv` \| `([0-9a-f]{64})`", (ROOT / "docs/safety.md").read_text()))
    assert set(recorded) == set(sets.LANGUAGES)
    for language, digest in recorded.items():
        assert hashlib.sha256((ROOT / f"tests/screen_sets/reserve/{language}.tsv").read_bytes()).hexdigest() == digest
    lines = sets.read("reserve")
    for language in sets.LANGUAGES:
        assert sum(line.language == language for line in lines) >= 100
