"""The safety screen: every text a patient sends passes through here before any dialog logic.

It sorts a message into one of four categories, or none:

* ``crisis``: suicidal thoughts, self-harm, lethal means (also asked indirectly: pill counts,
  heights, "not waking up"), goodbye letters, giving things away, abuse disclosures;
* ``ambiguous``: statements that may or may not mean suicidal thoughts ("I can't go on like
  this", "ya no puedo más", "ich kann nicht mehr"): the dialog asks the patient, gently and
  directly;
* ``eating_disorder``: disclosures of disordered eating ("I've been making myself throw up");
* ``red_flag``: symptoms that need a doctor today rather than coaching.

It is a phrase list, not a language model: it is predictable, fast, auditable by clinicians, and
deliberately errs towards flagging. A false alarm costs the patient one gentle, direct question; a
miss can cost a life. See clinical-brief.md sections 3-4, and docs/safety.md for what it catches
and misses, measured on the labelled set in tests/safety_set/.

Phrase files
------------
One TOML file per language in ``content/safety/`` (``en.toml``, ``es.toml``, ``de.toml``, ...),
each with tables holding a ``phrases`` list of strings::

    [crisis]           # any match: crisis
    [ambiguous]        # any match: ambiguous (unless the message is also a crisis)
    [eating_disorder]  # any match: eating disorder (unless crisis or ambiguous)
    [red_flag]         # any match: red flag (unless any of the above)
    [not_crisis]       # near misses ("my back is killing me"); masked out before anything else

``crisis``, ``red_flag`` and ``not_crisis`` must be present in every file; ``ambiguous`` and
``eating_disorder`` may be left out of a file (a shipped language must have all of them).

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

Misspellings
------------
Before matching, every message word of 4 or more letters that is not a word of any phrase file is
compared with the words and prefixes of the ``crisis``, ``ambiguous``, ``eating_disorder`` and
``red_flag`` phrases: if it is one slip away from such a word or prefix of 6 or more letters, it
is read as that word. A slip is what a thumb on a phone does:

* a wrong letter that is a neighbouring key (QWERTY or QWERTZ) or a common spelling confusion
  (c/s/z/k/q, g/j, i/y, d/t, f/v, b/v): "umbrimgen", "selbstmort";
* an extra letter, doubled or next to a neighbour's key: "umbrringen";
* a missing letter, but never the last one ("tablet" is not "tablets", "though" is not
  "thought~");
* two neighbouring letters swapped: "myslef".

Never in the first letter, and no wrong or extra letter among a word's last two letters: those
make another word ("matarte" rather than "matarme"). Words of 4 or 5 letters only match with two
swapped letters ("wnat" for "want", "lfie" for "life"). A run of three or more of the same letter ("diiiie") is read as
two of them if that makes a phrase file's word, else as one.

Every word of a phrase file is read as itself. A real word that is one slip away from a listed word
and must not be read as it goes into ``not_crisis`` ("fibre" next to the Spanish "fiebre",
"gestützt" next to "gestürzt"); tests/test_screen.py keeps a list of such everyday sentences.
Misspellings further away stay listed as variants ("sewerslide", "kiero").

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
import itertools
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from content import ContentError

CRISIS = "crisis"
AMBIGUOUS = "ambiguous"
EATING_DISORDER = "eating_disorder"
RED_FLAG = "red_flag"
NOT_CRISIS = "not_crisis"
CATEGORIES = (CRISIS, AMBIGUOUS, EATING_DISORDER, RED_FLAG)  # in order of precedence
SECTIONS = (*CATEGORIES, NOT_CRISIS)
OPTIONAL_SECTIONS = frozenset({AMBIGUOUS, EATING_DISORDER})  # may be left out of a file

# The languages the package ships. If one of these files went missing from an install, the
# screen would silently stop recognising that language, so loading the shipped set checks for them.
SHIPPED_LANGUAGES = frozenset({"de", "en", "es"})

MAX_GAP_WORDS = 3
MAX_ORDER_WINDOW = 5  # words allowed between the parts of an "a & b" phrase
MAX_PARTS = 3
MAX_ALTERNATIVES = 1000  # phrases that one phrase with word alternatives may stand for
MIN_AFFIX_LETTERS = 3
MIN_PREFIX_LETTERS = MIN_AFFIX_LETTERS  # the name earlier versions used
FUZZY_MIN_LETTERS = 6  # words this long tolerate one slip
SWAP_MIN_LETTERS = 4  # words this long tolerate two swapped neighbouring letters
FUZZY_KEEP_TAIL = 2  # no wrong or extra letter among a word's last two letters


@dataclass(frozen=True)
class Verdict:
    category: str | None  # "crisis" | "ambiguous" | "eating_disorder" | "red_flag" | None
    phrase: str | None  # the content phrase that matched (for the log; never the patient's text);
    # for a phrase with word alternatives, the alternatives that matched: "husband * hits me"
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
    ambiguous: tuple[str, ...] = field(default=())
    eating_disorder: tuple[str, ...] = field(default=())


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


# -- loading ---------------------------------------------------------------------------------


def _phrases(document: dict, section: str, source: str) -> tuple[str, ...]:
    table = document.get(section)
    if table is None:
        if section in OPTIONAL_SECTIONS:
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
        crisis=_phrases(document, CRISIS, source),
        red_flag=_phrases(document, RED_FLAG, source),
        not_crisis=_phrases(document, NOT_CRISIS, source),
        ambiguous=_phrases(document, AMBIGUOUS, source),
        eating_disorder=_phrases(document, EATING_DISORDER, source),
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
        for section in sorted(OPTIONAL_SECTIONS):
            if s.language in SHIPPED_LANGUAGES and not getattr(s, section):
                raise ContentError(f"content/safety/{s.source}: missing key {section + '.phrases'!r}")


# -- misspellings ----------------------------------------------------------------------------


def _neighbours() -> dict[str, frozenset[str]]:
    """Keys next to each letter on QWERTY and QWERTZ keyboards, plus letters that spelling
    confuses (c/s/z/k/q, g/j, i/y, d/t, f/v): the wrong or extra letters that a slip can make."""
    near: dict[str, set[str]] = {}
    for rows in (("qwertyuiop", "asdfghjkl", "zxcvbnm"), ("qwertzuiop", "asdfghjkl", "yxcvbnm")):
        for r, row in enumerate(rows):
            for c, key in enumerate(row):
                spots = [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c - 1), (r + 1, c)]
                near.setdefault(key, set()).update(
                    rows[rr][cc] for rr, cc in spots if 0 <= rr < len(rows) and 0 <= cc < len(rows[rr])
                )
    for pair in ("cs", "cz", "sz", "ck", "kq", "gj", "iy", "dt", "fv", "bv"):
        near.setdefault(pair[0], set()).add(pair[1])
        near.setdefault(pair[1], set()).add(pair[0])
    return {key: frozenset(value) for key, value in near.items()}


_NEAR = _neighbours()


def _slip(target: str, word: str, keep_tail: int = FUZZY_KEEP_TAIL) -> bool:
    """Whether `word` is `target` with one slip (module docstring): a letter wrong (a neighbouring
    key or a spelling confusion), an extra letter (doubled, or next to a neighbour's key), a letter
    missing, or two neighbouring letters swapped. Never in the first letter; no wrong or extra
    letter among the last `keep_tail` letters of `target`, and never its last letter missing
    ("tablet" is not "tablets", "moles" is not "molest~"). False for the same word."""
    n, m = len(target), len(word)
    i = 0
    shortest = min(n, m)
    while i < shortest and target[i] == word[i]:
        i += 1
    if i == 0 or (i == n and n == m):
        return False
    if n == m:
        if target[i + 1 :] == word[i + 1 :]:  # one letter wrong
            return i < n - keep_tail and word[i] in _NEAR.get(target[i], ())
        return i + 1 < n and target[i] == word[i + 1] and target[i + 1] == word[i] and target[i + 2 :] == word[i + 2 :]
    if m == n - 1:  # one letter missing, never the last ("though" is not "thought~")
        return i < n - 1 and target[i + 1 :] == word[i:]
    if m == n + 1:  # one letter extra
        if i >= n - keep_tail or word[i + 1 :] != target[i:]:
            return False
        extra, before, after = word[i], word[i - 1], word[i + 1] if i + 1 < m else ""
        return extra in (before, after) or before in _NEAR.get(extra, ()) or after in _NEAR.get(extra, ())
    return False


def _swapped(target: str, word: str) -> bool:
    """Two neighbouring letters swapped, not the first letter."""
    return len(target) == len(word) and _slip(target, word, keep_tail=len(target)) and target[0] == word[0]


_STRETCHED = re.compile(r"([^\W\d_])\1\1+")  # three or more of the same letter


class _Speller:
    """Reads a misspelt message word as the phrase word it is one slip away from (module docstring)."""

    CACHE_SIZE = 50_000

    def __init__(self, sets: tuple[PhraseSet, ...]):
        known: set[str] = set()
        known_stems: set[str] = set()
        words: dict[tuple[str, int], set[str]] = {}
        swaps: dict[tuple[str, int], set[str]] = {}
        stems: dict[str, set[str]] = {}
        for s in sets:
            for section in SECTIONS:
                items = (i for p in getattr(s, section) for plain in _expand(p) for part in _parts(plain) for i in part)
                for item in items:
                    if item is None or item.suffix:
                        continue
                    (known_stems if item.prefix else known).add(item.text)
                    if section == NOT_CRISIS or not item.text.isalpha():
                        continue
                    first, length = item.text[0], len(item.text)
                    if item.prefix and length >= FUZZY_MIN_LETTERS:
                        stems.setdefault(first, set()).add(item.text)
                    elif not item.prefix and length >= FUZZY_MIN_LETTERS:
                        words.setdefault((first, length), set()).add(item.text)
                    elif not item.prefix and length >= SWAP_MIN_LETTERS:
                        swaps.setdefault((first, length), set()).add(item.text)
        self.known = frozenset(known)
        self.known_stems = frozenset(known_stems)
        self.stem_lengths = tuple(sorted({len(stem) for stem in known_stems}))
        self.words = {key: tuple(sorted(value)) for key, value in words.items()}
        self.swaps = {key: tuple(sorted(value)) for key, value in swaps.items()}
        self.stems = {key: tuple(sorted(value)) for key, value in stems.items()}
        self.cache: dict[str, str] = {}

    def correct(self, word: str) -> str:
        corrected = self.cache.get(word)
        if corrected is None:
            corrected = self._correct(word)
            if len(self.cache) >= self.CACHE_SIZE:
                self.cache.clear()
            self.cache[word] = corrected
        return corrected

    def _correct(self, word: str) -> str:
        if _STRETCHED.search(word):  # "diiiie", "pleeease": a run read as two letters, or as one
            double, single = _STRETCHED.sub(r"\1\1", word), _STRETCHED.sub(r"\1", word)
            if double in self.known:
                return double
            word = single
        n = len(word)
        if n < SWAP_MIN_LETTERS or word in self.known or not word.isalpha():
            return word
        if any(word[:k] in self.known_stems for k in self.stem_lengths if k <= n):
            return word
        first = word[0]
        for target in self.swaps.get((first, n), ()):
            if _swapped(target, word):
                return target
        if n < FUZZY_MIN_LETTERS - 1:
            return word
        for length in (n, n + 1, n - 1):
            for target in self.words.get((first, length), ()):
                if _slip(target, word):
                    return target
        for stem in self.stems.get(first, ()):
            size = len(stem)
            for k in (size, size + 1, size - 1):
                if k <= n and _slip(stem, word[:k], keep_tail=0):
                    return stem + word[k:]
        return word


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
    categories: tuple[_Category, ...]  # in order of precedence: crisis, ambiguous, eating_disorder, red flag
    speller: _Speller


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
    return _Compiled({k: tuple(v) for k, v in masks.items()}, tuple(loose), categories, _Speller(sets))


@functools.cache
def _compiled() -> _Compiled:
    return compile_phrases(load_phrases())


# -- screening -------------------------------------------------------------------------------

_NON_SPACE = re.compile(r"[^ ]")


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
    """Every category whose phrases match, in order of precedence (empty if none)."""
    padded = prepare(text, compiled)
    if not padded:
        return ()
    verdicts = []
    for category in compiled.categories:
        match = category.regex.search(padded)
        if match:
            language, phrase = category.phrases[match.lastindex - 1]
            verdicts.append(Verdict(category.name, phrase, language))
    return tuple(verdicts)


def screen_with(text: str, compiled: _Compiled) -> Verdict:
    """`screen` against any compiled phrase sets (for tests and tools)."""
    padded = prepare(text, compiled)
    if not padded:
        return CLEAR
    for category in compiled.categories:
        match = category.regex.search(padded)
        if match:
            language, phrase = category.phrases[match.lastindex - 1]
            return Verdict(category.name, phrase, language)
    return CLEAR


def screen(text: str) -> Verdict:
    """Screen one patient message against every shipped language.

    The verdict is the first matching category in the order crisis, ambiguous, eating_disorder,
    red_flag (`CATEGORIES`), or `CLEAR`."""
    return screen_with(text, _compiled())


def screen_all(text: str) -> tuple[Verdict, ...]:
    """Every matching category of one message, in order of precedence: for a dialog that answers
    the first and still wants to know about the others (an ambiguous message with a red flag)."""
    return screen_all_with(text, _compiled())
