"""Typed text in one normal form: the safety screen's phrase lists and classifier read it so, and
the city index (content/cities.py) is keyed by it. It lives here, the lowest layer, so both may use it."""
from __future__ import annotations

import re
import unicodedata

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

