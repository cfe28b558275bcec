"""Reading content files: TOML shipped with the package, loaded once, with checked keys."""
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
    with resources.files("content").joinpath(f"{name}.toml").open("rb") as fp:
        return tomllib.load(fp)


def require(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    """A value that must be there and be of `kind`; otherwise say which file and key."""
    if key not in table:
        raise ContentError(f"{where}: missing key {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise ContentError(f"{where}: key {key!r} must be {kind.__name__}, not {type(value).__name__}")
    return value
