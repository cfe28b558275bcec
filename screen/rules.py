"""The phrase lists applied to a message: which categories match, and by which phrase.

Phrase files and their syntax: `screen.phrases`; misspellings: `screen.speller`.

How a message is screened
-------------------------
1. The message is normalised (`normalize`) and its misspelt words corrected (above).
2. Every language's ``not_crisis`` phrases are found and the words they cover are blanked out.
   Only those words: "my back is killing me and I want to die" still matches "want~ * die".
   Blanked words still count as words for ``*`` and ``&``. Masks apply to every category, which
   lets "fell asleep" stop "i fell" from raising a trauma flag.
3. Every language's phrases of each category are tried in the order crisis, ambiguous,
   eating_disorder, red_flag (patients mix languages; a German speaker may write English); the
   first category with a match is the verdict. `screen_all` returns every category that matched.

The phrases of each category (all languages together) are compiled once into a single regex.
Words never contain spaces after normalisation, words and gaps use possessive quantifiers, a gap
has a fixed bound, and every phrase starts at a space, so each match attempt does a bounded amount
of work per word: no input can make the screen backtrack catastrophically.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

import content
from screen.phrases import (
    AMBIGUOUS, CRISIS, CATEGORIES, OVERDOSE_TAKEN, MARKERS, NEW, PAST, RED_FLAG_HISTORY, RED_FLAG_TODAY, PhraseSet, _expand, _parts, _variants,
    any_of, load_phrases, phrase_pattern,
)
from screen.speller import Speller
from screen.text import normalize


@dataclass(frozen=True)
class Verdict:
    category: str | None  # one of CATEGORIES, or None
    phrase: str | None  # the content phrase that matched (for the log; never the patient's text);
    # for a phrase with word alternatives, the alternatives that matched: "husband * hits me"
    language: str | None  # the phrase file it came from ("en", "es", "de")


CLEAR = Verdict(None, None, None)


# -- compiled form ---------------------------------------------------------------------------
#
# All phrases are applied to " " + normalized text + " ": each starts after a space and must be
# followed by one (a lookahead, so that adjacent matches can share it).
#
# One category's phrases, all languages together, become one regex shaped as a trie over the
# characters of each phrase's first word, with an empty group "()" at the end of each phrase.
# A flat alternation of ~500 phrases costs ~40 ms on a 10,000-character message, because every
# alternative is tried at every word; the trie rejects most words after a character or two.
# The empty group is the only group in its branch, so `match.lastindex` says which phrase matched.


@dataclass(frozen=True)
class _Category:
    name: str
    regex: re.Pattern[str]
    phrases: tuple[tuple[str, str], ...]  # (language, phrase) for group 1, 2, ...


def _trie(entries: list[tuple[str, str, tuple[str, str]]], depth: int, order: list) -> str:
    """Regex for entries (escaped first word, rest, payload) that share the first `depth` characters."""
    alternatives = []
    by_next: dict[str, list] = {}
    for entry in entries:
        head = entry[0]
        if len(head) > depth:
            by_next.setdefault(head[depth], []).append(entry)
    for char, group in by_next.items():
        alternatives.append(char + _trie(group, depth + 1, order))
    for head, tail, payload in entries:
        if len(head) == depth:
            order.append(payload)  # groups are numbered in the order they appear in the pattern
            alternatives.append(f"{tail}(?= )()")
    return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"


def verdict_phrases(sets: tuple[PhraseSet, ...], category: str) -> list[tuple[str, str]]:
    """(language, phrase) for every phrase a verdict of this category can name: each phrase with
    word alternatives stands for its plain phrases ("husband * hits me"), which are what is named."""
    return [(s.language, plain) for s in sets for phrase in getattr(s, category) for plain in _expand(phrase)]


def _category(name: str, sets: tuple[PhraseSet, ...]) -> _Category | None:
    # Heads are plain letters and digits, so escaping leaves them one character per character.
    entries = [(head, rest, payload) for payload in verdict_phrases(sets, name) for head, rest in _variants(payload[1])]
    if not entries:
        return None
    order: list[tuple[str, str]] = []
    regex = re.compile(" " + _trie(entries, 0, order))
    return _Category(name, regex, tuple(order))


@dataclass(frozen=True)
class _Compiled:
    masks: dict[str, tuple[re.Pattern[str], ...]]  # by the first 3 letters of their first word
    loose_masks: tuple[re.Pattern[str], ...]  # masks whose first word is a suffix: always tried
    categories: tuple[_Category, ...]  # in order of precedence (CATEGORIES)
    markers: tuple[_Category, ...]  # PAST and NEW: they qualify a history red flag, never a verdict themselves
    speller: Speller


def _mask_key(phrase: str) -> str | None:
    """The first 3 letters of a plain phrase's first word; None if that word is a suffix."""
    first = _parts(phrase)[0][0]
    return None if first.suffix else first.text[:3]


def compile_phrases(sets: tuple[PhraseSet, ...]) -> _Compiled:
    # Masks stay one regex each: in one combined regex a mask starting inside another's match
    # would be skipped. A mask is only tried when a message word starts with the first three
    # letters of its first word (a word shorter than that must be the whole word).
    masks: dict[str, list[re.Pattern[str]]] = {}
    loose = []
    for s in sets:
        for plain in (p for phrase in s.not_crisis for p in _expand(phrase)):
            regex = re.compile(f" {phrase_pattern(plain)}(?= )")
            key = _mask_key(plain)
            if key is None:
                loose.append(regex)
            else:
                masks.setdefault(key, []).append(regex)
    categories = tuple(c for name in CATEGORIES if (c := _category(name, sets)))
    markers = tuple(c for name in MARKERS if (c := _category(name, sets)))
    return _Compiled({k: tuple(v) for k, v in masks.items()}, tuple(loose), categories, markers, Speller(sets))


@functools.cache
def _compiled() -> _Compiled:
    return compile_phrases(load_phrases())


# -- screening -------------------------------------------------------------------------------

_NON_SPACE = re.compile(r"[^ ]")
_YEAR = re.compile(r" (19[5-9][0-9]|20[0-9][0-9]) ")  # a year named


def _mask(padded: str, masks) -> str:
    """Blank out (with "_", which no phrase contains) the words covered by near-miss phrases.

    Every mask is searched in the unmasked text; blanking keeps the length, so spans stay valid.
    """
    spans = sorted((m.start() + 1, m.end()) for regex in masks for m in regex.finditer(padded))
    if not spans:
        return padded
    pieces = []
    done = 0
    for start, end in spans:
        start = max(start, done)
        if end <= start:
            continue
        pieces.append(padded[done:start])
        pieces.append(_NON_SPACE.sub("_", padded[start:end]))
        done = end
    pieces.append(padded[done:])
    return "".join(pieces)


def prepare(text: str, compiled: _Compiled) -> str:
    """The text the phrases are matched against: normalised, misspellings read, near misses blanked,
    with a space at each end ("" for a message without letters or digits). For tests and tools."""
    normalized = normalize(text)
    if not normalized:
        return ""
    correct = compiled.speller.correct
    words = [correct(word) for word in normalized.split(" ")]
    keys = {word[:3] for word in words}
    masks = [regex for key in keys for regex in compiled.masks.get(key, ())]
    return _mask(f" {' '.join(words)} ", [*masks, *compiled.loose_masks])


def screen_all_with(text: str, compiled: _Compiled) -> tuple[Verdict, ...]:
    """Every category whose phrases match, in order of precedence (empty if none).

    A history red flag (a cancer, a fall) needs a doctor today unless the message speaks only of the
    past ("years ago", "all clear") with nothing new, different or worse: then it is no flag at all.
    """
    padded = prepare(text, compiled)
    if not padded:
        return ()
    verdicts = []
    for category in compiled.categories:
        match = category.regex.search(padded)
        if match:
            language, phrase = category.phrases[match.lastindex - 1]
            verdicts.append(Verdict(category.name, phrase, language))
    if _counted_overdose(padded) and not any(v.category == OVERDOSE_TAKEN for v in verdicts):
        verdicts.insert(1 if verdicts and verdicts[0].category == CRISIS else 0, Verdict(OVERDOSE_TAKEN, "ten or more pills taken", None))
    if any(v.category == RED_FLAG_HISTORY for v in verdicts):
        marked = {m.name for m in compiled.markers if m.regex.search(padded)}
        if _years_ago(padded):  # "in 2019", "desde la caida de 2015", "Sturz 2010": the past
            marked.add(PAST)
        only_past = PAST in marked and NEW not in marked
        history = next(v for v in verdicts if v.category == RED_FLAG_HISTORY)
        verdicts = [v for v in verdicts if v.category != RED_FLAG_HISTORY]
        if not only_past and not any(v.category == RED_FLAG_TODAY for v in verdicts):
            verdicts.append(Verdict(RED_FLAG_TODAY, history.phrase, history.language))
    return tuple(verdicts)


# "I have taken 40 tablets", "me he tomado 30 pastillas", "hab 25 Tabletten genommen": ten or more
# pills, with a verb of having taken them nearby. (Counts planned, not taken, are the lists' and the model's.)
_PILLS = r"(?:pills?|tablets?|tabs|caps(?:ules)?|meds|painkillers|pastillas?|pastis|tabletas?|pildoras?|capsulas?|comprimidos?|tabletten|pillen|kapseln)"
_TAKEN = r"(?:took|taken|swallowed|downed|tome|tomado|trague|tragado|genommen|geschluckt|eingenommen|nahm|runtergeschluckt)"
_COUNTED = re.compile(
    r" " + _TAKEN + r" (?:[^ ]+ ){0,2}?([1-9][0-9]+) (?:[^ ]+ ){0,2}?" + _PILLS + r"(?= )"  # taken 40 (of my) tablets
    r"| ([1-9][0-9]+) (?:[^ ]+ )?" + _PILLS + r" (?:[^ ]+ ){0,2}?(?:genommen|geschluckt|eingenommen|runtergeschluckt)(?= )")
    # ("25 Tabletten auf einmal genommen": German puts the participle last)


def _counted_overdose(padded: str) -> bool:
    return any(int(m.group(1) or m.group(2)) >= 10 for m in _COUNTED.finditer(padded))


def _years_ago(padded: str) -> bool:
    """A year before last year is named: history (this year's or last year's may be recent)."""
    this_year = date.today().year
    return any(int(year) < this_year - 1 for year in _YEAR.findall(padded))


def screen_with(text: str, compiled: _Compiled) -> Verdict:
    """`screen` against any compiled phrase sets (for tests and tools)."""
    verdicts = screen_all_with(text, compiled)
    return verdicts[0] if verdicts else CLEAR


def screen(text: str) -> Verdict:
    """Screen one patient message against every shipped language: the first matching category in
    the order of `CATEGORIES`, or `CLEAR`."""
    return screen_with(text, _compiled())


def screen_all(text: str) -> tuple[Verdict, ...]:
    """Every matching category of one message, in order of precedence: for a dialog that answers
    the first and still wants to know about the others (an ambiguous message with a red flag)."""
    return screen_all_with(text, _compiled())


# -- what the coach never advises on ------------------------------------------------------------

MEDICATION = "medication"
DIET = "diet"


@functools.cache
def _advice_lists() -> dict[str, re.Pattern[str]]:
    tables = content.load("advice_limits").values()
    return {
        key: any_of(word for table in tables for word in table[key])
        for key in ("medicines", "actions", "diet", "supply", "together")
    }


def advice_all(text: str) -> tuple[Verdict, ...]:
    """A medication question (a medicine named with an action on it: take, stop, dose, combine...)
    and a request for a diet or weight-loss plan (content/advice_limits.toml)."""
    padded = f" {normalize(text)} "
    lists = _advice_lists()
    found = []
    if lists["medicines"].search(padded) and lists["actions"].search(padded):
        # A supply named is an overdose plan; "all my pills at once" is asked about directly.
        # (The phrase names the rule, never the patient's words.)
        if lists["supply"].search(padded):
            return (Verdict(CRISIS, "medicine + supply", None),)
        if lists["together"].search(padded):
            return (Verdict(AMBIGUOUS, "medicine + all at once", None),)
        found.append(Verdict(MEDICATION, None, None))
    if lists["diet"].search(padded):
        found.append(Verdict(DIET, None, None))
    return tuple(found)
