"""Numbers as patients give them: a button's value, or typed ("7", "7/10", "6,5", "4,500 steps")."""
from __future__ import annotations

import re

from babel.numbers import format_decimal

import locales
from content.instruments import Item
from dialogs.base import Answer

NUMBER = re.compile(r"-?\d[\d.,]*")


def read_value(item: Item, answer: Answer) -> float | None:
    """A button's value, or a typed answer: "7", "7/10", " 7 ", "6,5", "4,500 steps"."""
    if answer.choice is not None:
        raw = answer.choice
    else:
        match = NUMBER.search(answer.text or "")
        if not match:
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
    if not item.decimals and value != int(value):
        return None
    if not item.minimum <= value <= item.maximum:
        return None
    if item.kind == "choice" and int(value) not in {option.value for option in item.options}:
        return None
    return value


def fmt(number: float) -> str:
    """A number as the patient writes it (5.3, 5,3)."""
    return format_decimal(number, locale=locales.formatting())
