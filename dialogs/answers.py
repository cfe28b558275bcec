"""Answers as patients give them: numbers from a button or typed ("7", "7/10", "6,5", "4,500
steps"), and a plain yes or no in any of our languages."""
from __future__ import annotations

import math
import re
import unicodedata

from babel.numbers import format_decimal

import locales
from content.instruments import Item
from dialogs.base import Answer, Choice, Invalid, Question
from locales import _

NUMBER = re.compile(r"-?\d[\d.,]*")
# A number followed by a span of time ("worse for 3 days", "seit 3 Tagen", "did 5 minutes") says how
# long, not how much: on a 0-10 scale it is no rating, and is asked again rather than stored.
HOW_LONG = re.compile(r"\s*(days?|tag(e|en)?|d[ií]as?|hours?|hrs?|stunden?|std|horas?|minutes?|mins?|minuten?|minutos?"
                      r"|weeks?|wochen?|semanas?|months?|monat(e|en)?|mes(es)?|years?|jahr(e|en)?|a[nñ]os?)\b", re.IGNORECASE)
YES = {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "si", "claro", "vale", "ja", "jawohl", "jep", "genau"}
NO = {"no", "nope", "nah", "nein", "ne", "noe"}


def polarity(text: str) -> str | None:
    """Whether a normalised text starts with a yes or a no word (None if neither)."""
    first = text.split(" ", 1)[0]
    return "yes" if first in YES else "no" if first in NO else None


def read_value(item: Item, answer: Answer) -> float | None:
    """A button's value, or a typed answer: "7", "7/10", " 7 ", "6,5", "4,500 steps"."""
    if answer.choice is not None:
        raw = answer.choice
    else:
        text = answer.text or ""
        match = NUMBER.search(text)
        if not match or _more_than_it_shows(text[match.end():]):
            return None
        if item.kind == "scale" and HOW_LONG.match(text[match.end():]):
            return None
        raw = match.group(0).rstrip(".,")
    if item.decimals:
        raw = raw.replace(",", ".")
        if raw.count(".") > 1:
            return None
    else:
        raw = raw.replace(",", "").replace(".", "") if re.fullmatch(r"\d{1,3}([.,]\d{3})+", raw) else raw
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value) or (value == 0 and raw.startswith("-")):  # "-0" is no answer anyone means
        return None
    if not item.decimals and value != int(value):
        return None
    if not item.minimum <= value <= item.maximum:
        return None
    if item.kind == "choice" and int(value) not in {option.value for option in item.options}:
        return None
    return value


def _more_than_it_shows(rest: str) -> bool:
    """The number goes on in a way we do not read: an exponent ("1e309") or a superscript ("10⁹").
    Read as its first digits, it would be stored as something the patient never meant."""
    return bool(re.match(r"[eE][+-]?\d", rest)) or bool(rest[:1] and unicodedata.category(rest[0]) == "No")


def fmt(number: float) -> str:
    """A number as the patient writes it (5.3, 5,3)."""
    return format_decimal(number, locale=locales.formatting())


def words(answer: Answer) -> str | Invalid:
    """An answer in the patient's own words: anything with a letter or a digit in it."""
    text = " ".join((answer.text or "").split())
    if not any(ch.isalnum() for ch in text):
        return Invalid(_("A few words are enough, in your own way."))
    return text


ZERO_TO_TEN = Item(id="rating", text="", kind="scale", minimum=0, maximum=10)


def zero_to_ten(answer: Answer) -> int | Invalid:
    """A 0-10 rating, pressed or typed; else the short reply that asks for it again."""
    value = read_value(ZERO_TO_TEN, answer)
    if value is None:
        return Invalid(_("Please send a whole number from {low} to {high}.").format(low=0, high=10))
    return int(value)


def scale_question(text: str, low: int = 0, high: int = 10, step: int = 1) -> Question:
    """A 0-10 (or 0-100) rating: the numbers as buttons in rows, a typed number works too."""
    return Question(text, [Choice(str(n), str(n)) for n in range(low, high + 1, step)], columns=6, expects_number=True)
