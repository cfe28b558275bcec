"""Breathing drill patterns from content/breathing.toml (checked when loaded)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from content.files import ContentError, load, require

WHERE = "content/breathing.toml"
MIN_PHASE = 1  # seconds: each phase is one edit of the guide message, at most one a second


@dataclass(frozen=True)
class Phase:
    text: str
    seconds: int


@dataclass(frozen=True)
class Pattern:
    id: str
    label: str
    text: str
    phases: tuple[Phase, ...]

    @property
    def cycle_seconds(self) -> int:
        return sum(phase.seconds for phase in self.phases)


def parse(data: dict) -> tuple[tuple[int, ...], dict[str, Pattern]]:
    durations = tuple(require(data, "durations", list, WHERE))
    if not durations or not all(isinstance(d, int) and d > 0 for d in durations):
        raise ContentError(f"{WHERE}: key 'durations' must be a list of whole minutes")
    patterns = {}
    for i, raw in enumerate(require(data, "patterns", list, WHERE)):
        at = f"{WHERE}: patterns[{i}]"
        phases = []
        for j, phase in enumerate(require(raw, "phases", list, at)):
            seconds = require(phase, "seconds", int, f"{at}.phases[{j}]")
            if seconds < MIN_PHASE:
                raise ContentError(f"{at}.phases[{j}]: key 'seconds' must be at least {MIN_PHASE}")
            phases.append(Phase(require(phase, "text", str, f"{at}.phases[{j}]"), seconds))
        if not phases:
            raise ContentError(f"{at}: key 'phases' is empty")
        pattern = Pattern(require(raw, "id", str, at), require(raw, "label", str, at), require(raw, "text", str, at), tuple(phases))
        patterns[pattern.id] = pattern
    return durations, patterns


@cache
def drills() -> tuple[tuple[int, ...], dict[str, Pattern]]:
    return parse(load("breathing"))
