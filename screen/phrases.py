"""The phrase lists: their files, their syntax, and each phrase turned into a regex.

Phrase files
------------
One TOML file per language in ``content/safety/`` (``en.toml``, ``es.toml``, ``de.toml``, ...),
each with tables holding a ``phrases`` list of strings::

    [crisis]              # suicidal thoughts, self-harm, lethal means with intent, goodbyes
    [overdose_taken]      # too much medicine already taken
    [ambiguous]           # may or may not mean suicidal thoughts: the direct question
    [abuse]               # violence or fear at home
    [eating_disorder]     # disordered eating
    [red_flag_emergency]  # new saddle numbness, bladder or bowel control lost, leg weakness worsening
    [red_flag_today]      # fever with back pain, and the like: a doctor today
    [red_flag_history]    # a cancer, a fall: a doctor today unless only the past is spoken of
    [past], [new]         # markers that decide a history red flag ("years ago"; "new", "worse")
    [not_crisis]          # near misses ("my back is killing me"); masked out before anything else

Every category that matches is a verdict, in this order of precedence (`CATEGORIES`).

``crisis``, ``red_flag_today`` and ``not_crisis`` must be present in every file; the other sections
may be left out of a file, but a shipped language must have all of them.

Phrase syntax (kept this small on purpose, so that clinicians can read and review the lists):

* Words are separated by spaces and match whole words, in order, after both the phrase and the
  message went through `normalize` (so "Don't" in a file equals "dont" in a message).
* ``*`` stands for 0 to 3 arbitrary words: "end * life" matches "end my life" and
  "end my own miserable life".
* A trailing ``~`` makes a word a prefix: "suicid~" matches "suicide", "suicidal", "suicidality".
  A leading ``~`` makes it a suffix, for compounds: "~tabletten" matches "Schmerztabletten" and
  "Tabletten". Both: the word may appear anywhere inside ("~krebs~"). At least 3 letters.
* ``a|b`` is any one of these words: "husband|partner * hits|hit me" stands for four phrases.
  Single words only ("no one|nobody" means "no one" or "no nobody"): a choice between phrases of
  several words is written as separate phrases.
* `` & `` joins two or three parts that may come in any order, with up to 5 words between them:
  "umbringen & will" matches "ich will mich umbringen" and "umbringen will ich mich". Each part
  may use the syntax above. Not allowed in ``not_crisis`` (a near miss must stay narrow).

"""
from __future__ import annotations

import functools
import itertools
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
import re

from content import ContentError
from screen.text import normalize

CRISIS = "crisis"
OVERDOSE_TAKEN = "overdose_taken"
AMBIGUOUS = "ambiguous"
ABUSE = "abuse"
EATING_DISORDER = "eating_disorder"
RED_FLAG_EMERGENCY = "red_flag_emergency"
RED_FLAG_TODAY = "red_flag_today"
RED_FLAG_HISTORY = "red_flag_history"  # a doctor today, unless only the past is spoken of
PAST = "past"  # markers: "years ago", "in 2019", "all clear"
NEW = "new"  # markers: "new", "different", "worse", "since yesterday"
NOT_CRISIS = "not_crisis"
# Verdict categories, in order of precedence.
CATEGORIES = (CRISIS, OVERDOSE_TAKEN, AMBIGUOUS, ABUSE, EATING_DISORDER, RED_FLAG_EMERGENCY, RED_FLAG_TODAY, RED_FLAG_HISTORY)
MARKERS = (PAST, NEW)
SECTIONS = (*CATEGORIES, *MARKERS, NOT_CRISIS)
REQUIRED_SECTIONS = frozenset({CRISIS, RED_FLAG_TODAY, NOT_CRISIS})  # the rest may be left out (not of a shipped file)

# The languages the package ships. If one of these files went missing from an install, the
# screen would silently stop recognising that language, so loading the shipped set checks for them.
SHIPPED_LANGUAGES = frozenset({"de", "en", "es"})

MAX_GAP_WORDS = 3
MAX_ORDER_WINDOW = 5  # words allowed between the parts of an "a & b" phrase
MAX_PARTS = 3
MAX_ALTERNATIVES = 1000  # phrases that one phrase with word alternatives may stand for
MIN_AFFIX_LETTERS = 3


@dataclass(frozen=True)
class PhraseSet:
    """One language's phrase file, as written (validated, not yet compiled)."""

    language: str
    source: str  # file name, for messages
    crisis: tuple[str, ...]
    not_crisis: tuple[str, ...]
    overdose_taken: tuple[str, ...] = field(default=())
    ambiguous: tuple[str, ...] = field(default=())
    abuse: tuple[str, ...] = field(default=())
    eating_disorder: tuple[str, ...] = field(default=())
    red_flag_emergency: tuple[str, ...] = field(default=())
    red_flag_today: tuple[str, ...] = field(default=())
    red_flag_history: tuple[str, ...] = field(default=())
    past: tuple[str, ...] = field(default=())
    new: tuple[str, ...] = field(default=())


# -- phrases -> regex ------------------------------------------------------------------------

_GAP = " (?:[^ ]++ ){0,%d}" % MAX_GAP_WORDS  # a space, then 0-3 whole words each followed by one
_WINDOW = " (?:[^ ]++ ){0,%d}" % MAX_ORDER_WINDOW  # between the parts of an "a & b" phrase


@dataclass(frozen=True)
class _Word:
    text: str  # normalised letters and digits, no spaces
    prefix: bool  # "suicid~": more letters may follow
    suffix: bool  # "~tabletten": more letters may precede

    def regex(self) -> str:
        # A suffix backtracks over one word only (bounded); everything else is possessive.
        return ("[^ ]*" if self.suffix else "") + re.escape(self.text) + ("[^ ]*+" if self.prefix else "")


_Part = list  # of _Word, and None for a "*" gap


def _expand(phrase: str) -> list[str]:
    """The phrases a phrase with word alternatives ("husband|wife * hits me") stands for."""
    choices = []
    for token in phrase.split():
        options = token.split("|")
        if len(options) > 1 and (not all(options) or any(o in ("*", "&") for o in options)):
            raise ValueError(f"{token!r}: '|' must stand between two words")
        choices.append(options)
    count = 1
    for options in choices:
        count *= len(options)
    if count > MAX_ALTERNATIVES:
        raise ValueError(f"stands for {count} phrases, more than {MAX_ALTERNATIVES}")
    return [" ".join(combination) for combination in itertools.product(*choices)]


def _parts(phrase: str) -> list[_Part]:
    """A phrase without alternatives split at "&" into parts of words and gaps; ValueError (without
    file context) if malformed."""
    parts: list[_Part] = [[]]
    for token in phrase.split():
        current = parts[-1]
        if token in ("*", "&"):
            if not current or current[-1] is None:
                raise ValueError(f"{token!r} must stand alone between two words")
            if token == "*":
                current.append(None)
            else:
                parts.append([])
            continue
        suffix = token.startswith("~")
        prefix = token.endswith("~") and len(token) > 1
        stem = token[1 if suffix else 0 : len(token) - 1 if prefix else len(token)]
        if "*" in stem or "~" in stem or "&" in stem:
            raise ValueError(f"{token!r}: '*' and '&' must be words of their own and '~' may only begin or end a word")
        words = normalize(stem).split()  # "self-harm" becomes two words, as in messages
        if not words:
            raise ValueError(f"{token!r} has no letters or digits")
        if (prefix and len(words[-1]) < MIN_AFFIX_LETTERS) or (suffix and len(words[0]) < MIN_AFFIX_LETTERS):
            raise ValueError(f"{token!r}: a prefix or suffix needs at least {MIN_AFFIX_LETTERS} letters")
        last = len(words) - 1
        current.extend(_Word(word, prefix and i == last, suffix and i == 0) for i, word in enumerate(words))
    if parts == [[]]:
        raise ValueError("empty phrase")
    if not parts[-1] or parts[-1][-1] is None:
        raise ValueError(f"{'*' if parts[-1] else '&'!r} must stand alone between two words")
    if len(parts) > MAX_PARTS:
        raise ValueError(f"at most {MAX_PARTS} parts may be joined by '&'")
    return parts


def _part_regex(part: _Part) -> tuple[str, str]:
    """(head, rest): the head is the first word's plain letters ("" when the word is a suffix),
    kept apart so that phrases can be merged into a character trie; head + rest match the part."""
    first = part[0]
    head = "" if first.suffix else first.text
    pieces = [first.regex() if first.suffix else ("[^ ]*+" if first.prefix else "")]
    previous = first
    for item in part[1:]:
        if item is None:
            pieces.append(_GAP)
        else:
            if previous is not None:
                pieces.append(" ")
            pieces.append(item.regex())
        previous = item
    return re.escape(head), "".join(pieces)


def _variants(phrase: str) -> list[tuple[str, str]]:
    """(escaped head, rest) for each order of the phrase's parts; ValueError if malformed.

    Each variant matches from the first letter of the phrase to its last letter in text produced by
    `normalize`; the caller adds the word boundaries."""
    variants = []
    for plain in _expand(phrase):
        compiled = [_part_regex(part) for part in _parts(plain)]
        for order in itertools.permutations(compiled):
            head, rest = order[0]
            variants.append((head, rest + "".join(_WINDOW + h + r for h, r in order[1:])))
    return variants


def phrase_pattern(phrase: str) -> str:
    """The regex for one phrase, without word boundaries; ValueError if malformed."""
    variants = [head + rest for head, rest in _variants(phrase)]
    return variants[0] if len(variants) == 1 else "(?:" + "|".join(variants) + ")"


def any_of(phrases) -> re.Pattern[str]:
    """One regex for a plain word list in the phrase syntax (flare words, advice limits, drill
    words), applied to " " + normalised text + " " like the safety phrases."""
    return re.compile("|".join(f" {phrase_pattern(phrase)}(?= )" for phrase in phrases))


# -- loading ---------------------------------------------------------------------------------


def _phrases(document: dict, section: str, source: str) -> tuple[str, ...]:
    table = document.get(section)
    if table is None:
        if section not in REQUIRED_SECTIONS:
            return ()
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
            parts = max((_parts(plain) for plain in _expand(phrase)), key=len)
            phrase_pattern(phrase)
        except ValueError as error:
            raise ContentError(f"{source}: key {key!r}: phrase {phrase!r}: {error}") from None
        if section == NOT_CRISIS and len(parts) > 1:
            raise ContentError(f"{source}: key {key!r}: phrase {phrase!r}: '&' is not allowed in a near miss")
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
        **{section: _phrases(document, section, source) for section in SECTIONS},
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
    check_shipped(sets)
    return sets


def check_shipped(sets: tuple[PhraseSet, ...]) -> None:
    """Every shipped language is there, with every category (the optional ones included)."""
    missing = SHIPPED_LANGUAGES - {s.language for s in sets}
    if missing:
        raise ContentError(f"content/safety: missing phrase file(s): {', '.join(sorted(m + '.toml' for m in missing))}")
    for s in sets:
        for section in sorted(set(SECTIONS) - REQUIRED_SECTIONS):
            if s.language in SHIPPED_LANGUAGES and not getattr(s, section):
                raise ContentError(f"content/safety/{s.source}: missing key {section + '.phrases'!r}")

