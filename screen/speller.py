"""Misspellings: a message word one thumb-slip away from a phrase word is read as that word.

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
"""
from __future__ import annotations

import re

from screen.phrases import NOT_CRISIS, SECTIONS, PhraseSet, _expand, _parts

FUZZY_MIN_LETTERS = 6  # words this long tolerate one slip
SWAP_MIN_LETTERS = 4  # words this long tolerate two swapped neighbouring letters
FUZZY_KEEP_TAIL = 2  # no wrong or extra letter among a word's last two letters


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


class Speller:
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


