"""A Babel extractor for content files, so `pybabel extract` finds their patient-facing text.

Values of the keys in TRANSLATED (at any depth) are messages; everything else (ids, codes,
numbers, safety phrases, service names) is not.
"""
from __future__ import annotations

import tomllib
from typing import Any, Iterator

TRANSLATED = {"text", "low", "high", "label", "stem", "title", "prompt", "example", "activities", "offer", "right", "wrong", "source"}


def extract(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str | None, str, list[str]]]:
    raw = fileobj.read().decode("utf-8")
    lines = raw.splitlines()
    for message in _messages(tomllib.loads(raw)):
        yield _line_of(message, lines), None, message, []


def _messages(value: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _messages(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _messages(v, key)
    elif isinstance(value, str) and key in TRANSLATED:
        yield value


def _line_of(message: str, lines: list[str]) -> int:
    return next((number for number, line in enumerate(lines, start=1) if message in line), 0)
