"""The safety screen: every text a patient sends passes through here before any dialog logic.

It sorts a message into "crisis" (suicidal thoughts, self-harm, lethal means, goodbyes),
"red_flag" (symptoms that need a doctor today rather than coaching) or None. It is a phrase list,
not a language model: it is predictable, fast, auditable by clinicians, and deliberately errs
towards flagging. A false alarm costs the patient one gentle, direct question; a miss can cost a
life. See clinical-brief.md sections 3-4.

Phrase files
------------
One TOML file per language in ``content/safety/`` (``en.toml``, ``es.toml``, ``de.toml``, ...),
each with three tables holding a ``phrases`` list of strings::

    [crisis]       # any match: crisis
    [red_flag]     # any match: red flag (unless the message is also a crisis)
    [not_crisis]   # near misses ("my back is killing me"); masked out before anything else

Phrase syntax (kept this small on purpose, so that clinicians can read and review the lists):

* Words are separated by spaces and match whole words, in order, after both the phrase and the
  message went through `normalize` (so "Don't" in a file equals "dont" in a message).
* ``*`` stands for 0 to 3 arbitrary words: "end * life" matches "end my life" and
  "end my own miserable life".
* A trailing ``~`` makes a word a prefix: "suicid~" matches "suicide", "suicidal", "suicidality".
  The prefix needs at least 3 letters.

How a message is screened
-------------------------
1. The message is normalised (`normalize`).
2. Every language's ``not_crisis`` phrases are found and the words they cover are blanked out.
   Only those words: "my back is killing me and I want to die" still matches "want~ * die".
   Blanked words still count as words for ``*``. Masks apply to red flags as well, which lets
   "fell asleep" stop "i fell" from raising a trauma flag.
3. Every language's ``crisis`` phrases are tried, then every language's ``red_flag`` phrases
   (patients mix languages; a German speaker may write English). Crisis beats red flag.

The phrases of each category (all languages together) are compiled once into a single regex.
Words never contain spaces after normalisation, words and gaps use possessive quantifiers, a gap
has a fixed bound, and every phrase starts at a space, so each match attempt does a bounded amount
of work per word: no input can make the screen backtrack catastrophically.
"""
from __future__ import annotations

import functools
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from content import ContentError

CRISIS = "crisis"
RED_FLAG = "red_flag"
NOT_CRISIS = "not_crisis"
SECTIONS = (CRISIS, RED_FLAG, NOT_CRISIS)

# The languages the package ships. If one of these files went missing from an install, the
# screen would silently stop recognising that language, so loading the shipped set checks for them.
SHIPPED_LANGUAGES = frozenset({"de", "en", "es"})

MAX_GAP_WORDS = 3
MIN_PREFIX_LETTERS = 3


@dataclass(frozen=True)
class Verdict:
    category: str | None  # "crisis" | "red_flag" | None
    phrase: str | None  # the content phrase that matched (for the log; never the patient's text)
    language: str | None  # the phrase file it came from ("en", "es", "de")


CLEAR = Verdict(None, None, None)


@dataclass(frozen=True)
class PhraseSet:
    """One language's phrase file, as written (validated, not yet compiled)."""

    language: str
    source: str  # file name, for messages
    crisis: tuple[str, ...]
    red_flag: tuple[str, ...]
    not_crisis: tuple[str, ...]


# -- normalisation ---------------------------------------------------------------------------

# Apostrophes are deleted, not turned into spaces: patients write "dont" as often as "don't",
# and joining both into "dont" means one phrase covers both spellings.
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018\u02bc\u0060\u00b4\u2032\uff07")
_ASCII_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-case words of letters and digits, separated by single spaces.

    Casefolds (which also turns ß into ss), strips accents (NFKD, then drops combining marks),
    deletes apostrophes and invisible format characters (a zero-width space or soft hyphen inside
    "suicide" must not split the word), and turns every other punctuation mark, symbol and emoji
    into a space. Letters, digits and spacing marks of any script are kept.
    """
    text = text.casefold().translate(_APOSTROPHES)
    if text.isascii():  # the common case, and 10x faster than the loop below
        return _ASCII_NON_WORD.sub(" ", text).strip()
    kept = []
    for ch in unicodedata.normalize("NFKD", text):
        kind = unicodedata.category(ch)
        if kind == "Mn" or kind == "Cf":  # accents; zero-width and other invisible characters
            continue
        kept.append(ch if kind[0] in "LNM" else " ")
    # NFKD can turn compatibility letters (fullwidth, mathematical bold) into capitals: fold again.
    return " ".join("".join(kept).casefold().split())


# -- phrases -> regex ------------------------------------------------------------------------

_GAP = " (?:[^ ]++ ){0,%d}" % MAX_GAP_WORDS  # a space, then 0-3 whole words each followed by one


def _parse(phrase: str) -> tuple[str, str]:
    """(first word, regex for the rest) of one phrase; ValueError (without file context) if malformed.

    The first word is plain normalised text (letters and digits), kept apart so that phrases can be
    merged into a character trie. The two together match from the first letter of the phrase to
    its last letter in text produced by `normalize`; the caller adds the word boundaries.
    """
    head = ""
    parts: list[str] = []
    gap_pending = False
    for token in phrase.split():
        if token == "*":
            if not parts or gap_pending:
                raise ValueError("'*' must stand alone between two words")
            gap_pending = True
            continue
        prefix = token.endswith("~")
        stem = token[:-1] if prefix else token
        if "*" in stem or "~" in stem:
            raise ValueError(f"{token!r}: '*' must be a word of its own and '~' may only end a word")
        words = normalize(stem).split()  # "self-harm" becomes two words, as in messages
        if not words:
            raise ValueError(f"{token!r} has no letters or digits")
        if prefix and len(words[-1]) < MIN_PREFIX_LETTERS:
            raise ValueError(f"{token!r}: a prefix needs at least {MIN_PREFIX_LETTERS} letters")
        if not parts:
            head, words[0] = words[0], ""
        fragment = " ".join(re.escape(word) for word in words)
        if prefix:
            fragment += "[^ ]*+"
        if parts:
            parts.append(_GAP if gap_pending else " ")
        parts.append(fragment)
        gap_pending = False
    if not parts:
        raise ValueError("empty phrase")
    if gap_pending:
        raise ValueError("'*' must stand alone between two words")
    return head, "".join(parts)


def phrase_pattern(phrase: str) -> str:
    """The regex for one phrase, without word boundaries; ValueError if malformed."""
    head, tail = _parse(phrase)
    return re.escape(head) + tail


# -- loading ---------------------------------------------------------------------------------


def _phrases(document: dict, section: str, source: str) -> tuple[str, ...]:
    table = document.get(section)
    if table is None:
        raise ContentError(f"{source}: missing key {section!r}")
    if not isinstance(table, dict):
        raise ContentError(f"{source}: key {section!r} must be a table, not {type(table).__name__}")
    key = f"{section}.phrases"
    for name in table:
        if name != "phrases":  # most likely a typo that would otherwise drop phrases silently
            raise ContentError(f"{source}: unknown key {section + '.' + name!r}")
    if "phrases" not in table:
        raise ContentError(f"{source}: missing key {key!r}")
    phrases = table["phrases"]
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        raise ContentError(f"{source}: key {key!r} must be a list of strings")
    if section != NOT_CRISIS and not phrases:
        raise ContentError(f"{source}: key {key!r} must not be empty")
    for phrase in phrases:
        try:
            phrase_pattern(phrase)
        except ValueError as error:
            raise ContentError(f"{source}: key {key!r}: phrase {phrase!r}: {error}") from None
    return tuple(phrases)


def parse_phrase_file(source: str, data: bytes) -> PhraseSet:
    """One phrase file's bytes; `source` is the file name, used as the language code and in errors."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ContentError(f"{source}: not a valid UTF-8 TOML file: {error}") from None
    for name in document:
        if name not in SECTIONS:
            raise ContentError(f"{source}: unknown key {name!r}")
    return PhraseSet(
        language=source.rsplit("/", 1)[-1].removesuffix(".toml"),
        source=source,
        crisis=_phrases(document, CRISIS, source),
        red_flag=_phrases(document, RED_FLAG, source),
        not_crisis=_phrases(document, NOT_CRISIS, source),
    )


def load_phrases_from(directory: Traversable | str | os.PathLike) -> tuple[PhraseSet, ...]:
    """Every ``*.toml`` file in a directory, sorted by language. Not cached (tests use it)."""
    if isinstance(directory, (str, os.PathLike)):
        directory = Path(directory)
    files = sorted((f for f in directory.iterdir() if f.name.endswith(".toml") and f.is_file()), key=lambda f: f.name)
    if not files:
        raise ContentError(f"{directory}: no safety phrase files (*.toml)")
    return tuple(parse_phrase_file(f.name, f.read_bytes()) for f in files)


@functools.cache
def load_phrases() -> tuple[PhraseSet, ...]:
    """The shipped phrase files (content/safety/*.toml), read through importlib.resources so that
    an installed wheel works too. Cached: the files are read once per process."""
    sets = load_phrases_from(resources.files("content").joinpath("safety"))
    missing = SHIPPED_LANGUAGES - {s.language for s in sets}
    if missing:
        raise ContentError(f"content/safety: missing phrase file(s): {', '.join(sorted(m + '.toml' for m in missing))}")
    return sets


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
    """Regex for entries (first word, rest, payload) that share the first `depth` characters."""
    alternatives = []
    by_next: dict[str, list] = {}
    for entry in entries:
        head = entry[0]
        if len(head) > depth:
            by_next.setdefault(head[depth], []).append(entry)
    for char, group in by_next.items():
        alternatives.append(re.escape(char) + _trie(group, depth + 1, order))
    for head, tail, payload in entries:
        if len(head) == depth:
            order.append(payload)  # groups are numbered in the order they appear in the pattern
            alternatives.append(f"{tail}(?= )()")
    return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"


def _category(name: str, sets: tuple[PhraseSet, ...]) -> _Category | None:
    entries = [(*_parse(p), (s.language, p)) for s in sets for p in getattr(s, name)]
    if not entries:
        return None
    order: list[tuple[str, str]] = []
    regex = re.compile(" " + _trie(entries, 0, order))
    return _Category(name, regex, tuple(order))


@dataclass(frozen=True)
class _Compiled:
    masks: tuple[re.Pattern[str], ...]
    categories: tuple[_Category, ...]  # in order of precedence: crisis, then red flag


def compile_phrases(sets: tuple[PhraseSet, ...]) -> _Compiled:
    # Masks stay one regex each (~100 literal-prefixed searches, about a millisecond): in one
    # combined regex a mask starting inside another's match would be skipped.
    masks = tuple(re.compile(f" {phrase_pattern(p)}(?= )") for s in sets for p in s.not_crisis)
    categories = tuple(c for name in (CRISIS, RED_FLAG) if (c := _category(name, sets)))
    return _Compiled(masks, categories)


@functools.cache
def _compiled() -> _Compiled:
    return compile_phrases(load_phrases())


# -- screening -------------------------------------------------------------------------------

_NON_SPACE = re.compile(r"[^ ]")


def _mask(padded: str, masks: tuple[re.Pattern[str], ...]) -> str:
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


def screen_with(text: str, compiled: _Compiled) -> Verdict:
    """`screen` against any compiled phrase sets (for tests and tools)."""
    normalized = normalize(text)
    if not normalized:
        return CLEAR
    padded = _mask(f" {normalized} ", compiled.masks)
    for category in compiled.categories:
        match = category.regex.search(padded)
        if match:
            language, phrase = category.phrases[match.lastindex - 1]
            return Verdict(category.name, phrase, language)
    return CLEAR


def screen(text: str) -> Verdict:
    """Screen one patient message against every shipped language. Crisis beats red flag."""
    return screen_with(text, _compiled())
