"""Guided practices (muscle relaxation, mindfulness) from content/practices.toml, checked when loaded."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from content.files import ContentError, load, require

WHERE = "content/practices.toml"
FAMILIES = ("relaxation", "mindfulness")  # the menu tool that offers a practice, and the ratings it asks
MIN_STEP = 1  # seconds: each step is one edit of the guide message, at most one a second


@dataclass(frozen=True)
class Step:
    text: str
    seconds: int


@dataclass(frozen=True)
class Practice:
    id: str
    family: str
    label: str
    text: str
    footer: str
    closing: str
    steps: tuple[Step, ...]

    @property
    def seconds(self) -> int:
        return sum(step.seconds for step in self.steps)


def parse(data: dict) -> dict[str, Practice]:
    practices: dict[str, Practice] = {}
    for i, raw in enumerate(require(data, "practices", list, WHERE)):
        at = f"{WHERE}: practices[{i}]"
        family = require(raw, "family", str, at)
        if family not in FAMILIES:
            raise ContentError(f"{at}: key 'family' must be one of {', '.join(FAMILIES)}")
        steps = []
        for j, step in enumerate(require(raw, "steps", list, at)):
            seconds = require(step, "seconds", int, f"{at}.steps[{j}]")
            if seconds < MIN_STEP:
                raise ContentError(f"{at}.steps[{j}]: key 'seconds' must be at least {MIN_STEP}")
            steps.append(Step(require(step, "text", str, f"{at}.steps[{j}]"), seconds))
        if not steps:
            raise ContentError(f"{at}: key 'steps' is empty")
        practice = Practice(
            require(raw, "id", str, at), family, require(raw, "label", str, at), require(raw, "text", str, at),
            require(require(raw, "footer", dict, at), "text", str, f"{at}.footer"),
            require(require(raw, "closing", dict, at), "text", str, f"{at}.closing"), tuple(steps),
        )
        if practice.id in practices:
            raise ContentError(f"{at}: id {practice.id!r} is used twice")
        practices[practice.id] = practice
    for family in FAMILIES:
        if not any(p.family == family for p in practices.values()):
            raise ContentError(f"{WHERE}: no practice for {family}")
    return practices


@cache
def practices() -> dict[str, Practice]:
    return parse(load("practices"))


def of_family(family: str) -> list[Practice]:
    return [p for p in practices().values() if p.family == family]
