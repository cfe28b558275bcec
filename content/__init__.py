"""Content as data: TOML files shipped with the package, loaded once and checked when loaded."""
from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


class ContentError(ValueError):
    """A content file is missing a key or has a value of the wrong type."""


@cache
def load(name: str) -> dict[str, Any]:
    """`load("crisis_resources")` reads content/crisis_resources.toml."""
    with resources.files(__package__).joinpath(f"{name}.toml").open("rb") as fp:
        return tomllib.load(fp)


def require(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    """A value that must be there and be of `kind`; otherwise say which file and key."""
    if key not in table:
        raise ContentError(f"{where}: missing key {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise ContentError(f"{where}: key {key!r} must be {kind.__name__}, not {type(value).__name__}")
    return value


def check() -> None:
    """Load and check every content file now, so a broken one stops start-up naming file and key.
    (The safety phrases and the flare words are checked by the layers that read them.)"""
    from content.breathing import drills
    from content.instruments import instruments
    from content.thinking import traps

    instruments()
    traps()
    drills()
    for name in ("crisis_resources", "clinic_defaults", "timezones", "pacing", "flare_words", "advice_limits", "drill_words"):
        load(name)
    activities = require(load("pacing"), "activities", list, "content/pacing.toml")
    if not activities or not all(isinstance(a, str) for a in activities):
        raise ContentError("content/pacing.toml: key 'activities' must be a list of names")
