"""The sleep routine's steps and limits, from content/sleep.toml (checked when loaded)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from content.files import ContentError, load, require

WHERE = "content/sleep.toml"


@dataclass(frozen=True)
class Step:
    id: str
    label: str


@dataclass(frozen=True)
class Routine:
    wind_down: dict[str, Step]
    daylight: dict[str, Step]
    nudge_minutes: tuple[int, ...]
    min_steps: int
    max_steps: int


def parse(data: dict) -> Routine:
    def steps(key: str) -> dict[str, Step]:
        found = {}
        for i, raw in enumerate(require(data, key, list, WHERE)):
            step = Step(require(raw, "id", str, f"{WHERE}: {key}[{i}]"), require(raw, "label", str, f"{WHERE}: {key}[{i}]"))
            found[step.id] = step
        if not found:
            raise ContentError(f"{WHERE}: key {key!r} is empty")
        return found

    nudges = tuple(require(data, "nudge_minutes", list, WHERE))
    if not nudges or not all(isinstance(m, int) and 0 < m <= 120 for m in nudges):
        raise ContentError(f"{WHERE}: key 'nudge_minutes' must list whole minutes from 1 to 120")
    low, high = require(data, "min_steps", int, WHERE), require(data, "max_steps", int, WHERE)
    wind_down = steps("wind_down")
    if not 1 <= low <= high <= len(wind_down):
        raise ContentError(f"{WHERE}: min_steps and max_steps must fit the wind-down steps listed")
    return Routine(wind_down, steps("daylight"), nudges, low, high)


@cache
def routine() -> Routine:
    return parse(load("sleep"))
