"""Content as data: TOML files shipped with the package, loaded once and checked when loaded."""
from __future__ import annotations

from content.files import ContentError, load, require

__all__ = ["ContentError", "check", "load", "require"]


def check() -> None:
    """Load and check every content file now, so a broken one stops start-up naming file and key.
    (The safety phrases and the flare words are checked by the layers that read them.)"""
    from content.breathing import drills
    from content.instruments import instruments
    from content.practices import practices
    from content.sleep import routine
    from content.lessons import course
    from content.thinking import traps

    instruments()
    course()
    traps()
    drills()
    practices()
    routine()
    for name in ("crisis_resources", "clinic_defaults", "timezones", "pacing", "flare_words", "advice_limits", "drill_words"):
        load(name)
    activities = require(load("pacing"), "activities", list, "content/pacing.toml")
    if not activities or not all(isinstance(a, str) for a in activities):
        raise ContentError("content/pacing.toml: key 'activities' must be a list of names")
