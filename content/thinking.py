"""Thinking traps for the thought-check, from content/thinking_traps.toml (checked when loaded)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from content.files import ContentError, load, require

WHERE = "content/thinking_traps.toml"


@dataclass(frozen=True)
class Trap:
    id: str
    label: str  # a button
    text: str  # what it means, in one line
    example: str


def parse(data: dict) -> tuple[Trap, ...]:
    traps = require(data, "traps", list, WHERE)
    if not traps:
        raise ContentError(f"{WHERE}: key 'traps' is empty")
    return tuple(
        Trap(*(require(raw, key, str, f"{WHERE}: traps[{i}]") for key in ("id", "label", "text", "example")))
        for i, raw in enumerate(traps)
    )


@cache
def traps() -> tuple[Trap, ...]:
    return parse(load("thinking_traps"))
