"""Set the patient's time zone as an IANA name: from suggestions, a typed city, or the country.

Check-ins later go out by the patient's wall clock, so the step ends by showing the local time
and asking the patient to confirm it. Diagram: docs/dialogs/timezone.md.
"""
from __future__ import annotations

import zoneinfo
from functools import cache

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_location

import content
import locales
from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from dialogs.screen import normalize
from locales import _
from scheduler import planner

MAX_BUTTONS = 12


class Timezone(Dialog):
    name = "timezone"
    states = ["choose", "country", "pick", "confirm", "done"]
    initial = "choose"
    transitions = [
        {"trigger": "found", "source": ["choose", "country", "pick"], "dest": "confirm"},
        {"trigger": "several", "source": ["choose", "country"], "dest": "pick"},
        {"trigger": "unknown_city", "source": "choose", "dest": "country"},
        {"trigger": "confirmed", "source": "confirm", "dest": "done"},
        {"trigger": "rejected", "source": "confirm", "dest": "choose"},
    ]

    def ask_choose(self) -> Question:
        zones = content.load("timezones")["suggest"].get(locales.current(), [])
        return Question(
            _("Which time zone are you in? Tap one, or type the city you live in (or the nearest big city)."),
            [Choice(zone, city_name(zone)) for zone in zones],
            columns=2,
        )

    def read_choose(self, answer: Answer) -> str | Invalid | None:
        if answer.choice:
            return self._found(answer.choice)
        if not answer.text:
            return None
        zones = zones_for_city(answer.text)
        if not zones:
            return "unknown_city"
        return self._found(zones[0]) if len(zones) == 1 else self._several(zones)

    def ask_country(self) -> Question:
        return Question(_("I couldn't find that city. Which country are you in?"))

    def read_country(self, answer: Answer) -> str | Invalid | None:
        zones = zones_for_country(answer.text or "")
        if not zones:
            return Invalid(_("I don't know that country. Please type its name, for example “Spain” or “Germany”."))
        return self._found(zones[0]) if len(zones) == 1 else self._several(zones)

    def ask_pick(self) -> Question:
        return Question(
            _("Which of these is closest to you? If none is, type your city."),
            [Choice(zone, city_name(zone)) for zone in self.data["candidates"]],
            columns=2,
        )

    def read_pick(self, answer: Answer) -> str | Invalid | None:
        if answer.choice in self.data["candidates"]:
            return self._found(answer.choice)
        if answer.text and (zones := zones_for_city(answer.text)):
            return self._found(zones[0]) if len(zones) == 1 else None
        return None

    def ask_confirm(self) -> Question:
        zone = self.data["zone"]
        return Question(
            _("In {city} it is now {time}, {day}. Is that your local time?").format(
                city=city_name(zone), **local_time(zone, self.turn.now)
            ),
            [Choice("yes", _("Yes, that's right")), Choice("no", _("No, choose again"))],
        )

    def read_confirm(self, answer: Answer) -> str | None:
        if answer.choice == "yes":
            self.patient.timezone = self.data["zone"]
            if self.patient.onboarded_at is not None:  # future check-ins follow the new wall clock
                planner.replan(self.turn.session, self.patient, self.turn.now)
            return "confirmed"
        if answer.choice == "no":
            return "rejected"
        return None

    def _found(self, zone: str) -> str | None:
        if zone not in all_zones():
            return None
        self.data["zone"] = zone
        return "found"

    def _several(self, zones: list[str]) -> str:
        self.data["candidates"] = zones[:MAX_BUTTONS]
        return "several"


@cache
def all_zones() -> frozenset[str]:
    """Zones that belong to a country (Babel's CLDR data) and that this system can load."""
    return frozenset(get_global("zone_territories")) & zoneinfo.available_timezones()


def city_name(zone: str, locale: str | None = None) -> str:
    return get_timezone_location(zone, locale=locale or locales.current(), return_city=True)


@cache
def _city_index() -> dict[str, tuple[str, ...]]:
    # City names in every language we speak, plus the zone's own name ("New_York", "Europe/Berlin").
    index: dict[str, set[str]] = {}
    for zone in all_zones():
        names = {zone, zone.rsplit("/", 1)[-1].replace("_", " ")}
        names.update(city_name(zone, locale) for locale in locales.SUPPORTED)
        for name in names:
            index.setdefault(normalize(name), set()).add(zone)
    return {key: tuple(sorted(zones)) for key, zones in index.items()}


def zones_for_city(text: str) -> list[str]:
    return list(_city_index().get(normalize(text), ()))


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    territory_zones = get_global("territory_zones")
    for locale in locales.SUPPORTED:
        for code, name in Locale.parse(locale).territories.items():
            if code in territory_zones:
                index[normalize(name)] = code
                index[normalize(code)] = code
    return index


def zones_for_country(text: str) -> list[str]:
    code = _country_index().get(normalize(text))
    if code is None:
        return []
    return [zone for zone in get_global("territory_zones")[code] if zone in all_zones()]


def local_time(zone: str, now) -> dict[str, str]:
    tz = zoneinfo.ZoneInfo(zone)
    locale = locales.current()
    return {
        "time": format_time(now, format="short", tzinfo=tz, locale=locale),
        "day": format_date(now.astimezone(tz).date(), format="full", locale=locale),
    }
