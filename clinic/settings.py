"""A clinic's settings: what `paincoach clinic show` and the dashboard's settings page list, and the
one set of rules `paincoach clinic set` and the dashboard change them by. A value the scheduler,
pacing or alerts could not work with is refused before it is stored, never found out later.
"""
from __future__ import annotations

import re
import tomllib
from datetime import datetime
from typing import Any

import content
from dialogs.helplines import resource_tables, well_formed
from locales import N_, _
from storage.models import Clinic

FALLBACK = "fallback_chat_id"  # a column of its own, not in `settings`
CRISIS = "crisis_resources"  # by country, over content/crisis_resources.toml

# What the scheduler, pacing and alerts can work with; anything else would break them later.
RANGES = {"weekly_weekday": (0, 6), "phq4_every_weeks": (1, 12), "flare_reduction_percent": (0, 90),
          "pacing_start_percent": (10, 100), "pacing_raise_percent": (1, 100), "alert_escalate_times": (1, 20),
          "daily_message_cap": (1, 24), "lesson_every_days": (1, 14), "wave_spread_minutes": (0, 120)}

KINDS = {bool: N_("{setting} must be true or false, like {example}"), int: N_("{setting} must be a whole number, like {example}"),
         float: N_("{setting} must be a number, like {example}"), str: N_("{setting} must be text, like {example}"),
         list: N_("{setting} must be a list, like {example}")}

# A helpline as a patient dials it: digits, spaces and the usual marks; a name a patient can read.
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{0,29}$")
NAME_LIMIT = 100


class SettingRefused(ValueError):
    """A value not taken and why, worded in the reader's language for the setting's name: its key
    on the command line, its label on the dashboard."""

    def __init__(self, key: str, template: str, **values: Any):
        self.key, self.template, self.values = key, template, values
        super().__init__(self.worded(key))

    def worded(self, setting: str) -> str:
        return _(self.template).format(setting=setting, **self.values)


def defaults() -> dict[str, Any]:
    return content.load("clinic_defaults")


def listing(clinic: Clinic) -> list[tuple[str, Any, bool]]:
    """(key, value, the clinic's own rather than the shipped default), fallback chat first, then
    every shipped setting, then the clinic's others (e.g. crisis_resources)."""
    shipped = defaults()
    rows: list[tuple[str, Any, bool]] = [(FALLBACK, clinic.fallback_chat_id, clinic.fallback_chat_id is not None)]
    rows += [(key, clinic.setting(key), key in clinic.settings) for key in shipped]
    rows += [(key, value, True) for key, value in clinic.settings.items() if key not in shipped]
    return rows


def set_setting(clinic: Clinic, key: str, raw: str) -> tuple[Any, Any]:
    """A setting from TOML text (a bare word is text), checked against the shipped default's type
    and range; (old, new). Raises SettingRefused, and changes nothing, for a value that would not do."""
    if key == FALLBACK:
        old, clinic.fallback_chat_id = clinic.fallback_chat_id, chat_id(raw)
        return old, clinic.fallback_chat_id
    shipped = defaults()
    if key not in shipped and key != CRISIS:
        raise ValueError(f"no setting named {key!r}; see `paincoach clinic show`")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is a string
    if key in shipped and type(value) is not type(shipped[key]) and not (isinstance(shipped[key], float) and isinstance(value, int)):
        template = KINDS.get(type(shipped[key]), N_("{setting} must be like {example}"))
        raise SettingRefused(key, template, example=toml(shipped[key]))
    if problem := out_of_range(key, value):
        raise SettingRefused(key, problem[0], **problem[1])
    old = clinic.setting(key) if key in shipped else clinic.settings.get(key)  # a default, if the clinic had none
    clinic.settings = {**clinic.settings, key: value}
    return old, value


def chat_id(raw: str) -> int | None:
    """A Telegram chat id (a group's is negative), or None for no fallback chat."""
    text = raw.strip()
    if text in ("", "none"):
        return None
    if not re.fullmatch(r"-?[0-9]{1,20}", text):
        raise SettingRefused(FALLBACK, N_("{setting} must be a Telegram chat id: a whole number, like -1001234567890"))
    return int(text)


def out_of_range(key: str, value) -> tuple[str, dict[str, Any]] | None:
    if key.endswith("_time"):
        try:
            datetime.strptime(value, "%H:%M")
        except (TypeError, ValueError):
            return N_('{setting} must be a time like "09:00"'), {}
    elif key in RANGES and not RANGES[key][0] <= value <= RANGES[key][1]:
        low, high = RANGES[key]
        if key == "weekly_weekday":
            return N_("{setting} must be from {low} to {high} (0 = Monday)"), {"low": low, "high": high}
        return N_("{setting} must be from {low} to {high}"), {"low": low, "high": high}
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0 and key not in RANGES:
        return N_("{setting} must be more than 0"), {}
    elif key == "timezone" and not is_zone(value):
        return N_('{setting} must be an IANA time zone, like "Europe/Berlin"'), {}
    elif key == CRISIS and not (isinstance(value, dict) and all(well_formed(entry) for entry in value.values())):
        # A malformed country would be passed over in silence when a patient is in crisis.
        return N_("{setting} must be a table by country code, each with an emergency number and lines that "
                  "each have a name and a phone, as content/crisis_resources.toml has them"), {}
    elif key == "snooze_minutes" and not (value and all(isinstance(m, int) and m > 0 for m in value)):
        return N_("{setting} must be a list of minutes, like [30, 120]"), {}
    return None


def is_zone(name) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return isinstance(name, str) and ZoneInfo(name) is not None
    except (ZoneInfoNotFoundError, ValueError):
        return False


def toml(value) -> str:
    return str(value).lower() if isinstance(value, bool) else f'"{value}"' if isinstance(value, str) else str(value)


# Crisis and support lines, by country ("default": every country without an entry of its own).


def crisis_lines(clinic: Clinic, country: str) -> tuple[dict[str, Any], bool]:
    """What a patient in `country` is given (the shipped entry under the clinic's own), and
    whether the clinic has an entry of its own for it."""
    tables = resource_tables(clinic.settings)
    return tables.get(country, tables["default"]), country in (clinic.settings.get(CRISIS) or {})


def crisis_entry(emergency: str, lines: list[tuple[str, str, bool]], support: list[tuple[str, str, bool]],
                 poison: str) -> dict[str, Any]:
    """A country's entry from what a clinician typed (rows left empty are left out). Raises
    SettingRefused for a line without its name or number, or a number no one could dial."""
    if not emergency.strip():
        raise SettingRefused(CRISIS, N_("The emergency number cannot be left empty."))
    entry: dict[str, Any] = {"emergency": phone(emergency.strip()), "lines": helplines(lines), "abuse_lines": helplines(support)}
    entry["poison"] = phone(poison.strip()) if poison.strip() else ""  # empty, not absent: no shipped number shows through
    assert well_formed(entry)  # the shape the crisis reply reads (dialogs.helplines)
    return entry


def helplines(rows: list[tuple[str, str, bool]]) -> list[dict[str, Any]]:
    kept = []
    for name, number, text_ok in rows:
        name, number = name.strip(), number.strip()
        if not name and not number:
            continue
        if not name or not number or len(name) > NAME_LIMIT:
            raise SettingRefused(CRISIS, N_("Each line needs a name (at most {limit} characters) and a number."), limit=NAME_LIMIT)
        kept.append({"name": name, "phone": phone(number), "text_ok": bool(text_ok)})
    return kept


def phone(number: str) -> str:
    if not PHONE.match(number):
        raise SettingRefused(CRISIS, N_("“{number}” is not a phone number: use digits, spaces and + ( ) - / . only."), number=number[:40])
    return number


def set_crisis_lines(clinic: Clinic, country: str, entry: dict[str, Any] | None) -> tuple[Any, Any]:
    """The clinic's own entry for a country, or None to go back to the shipped one; (old, new)."""
    own = dict(clinic.settings.get(CRISIS) or {})
    old = own.pop(country, None)
    if entry is not None:
        own[country] = entry
    settings = {key: value for key, value in clinic.settings.items() if key != CRISIS}
    clinic.settings = {**settings, CRISIS: own} if own else settings
    return old, entry
