"""Set the patient's time zone as an IANA name: from suggestions, a typed city, or the country.

Check-ins later go out by the patient's wall clock, so the step ends by showing the local time
and asking the patient to confirm it. Diagram: docs/dialogs/timezone.md.
"""
from __future__ import annotations

import difflib
import zoneinfo
from functools import cache

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_location

import content
import locales
from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from screen.text import normalize
from locales import _
from scheduler import planner

MAX_BUTTONS = 12
AGAIN = "again"


class Timezone(Dialog):
    name = "timezone"
    states = ["choose", "country", "pick", "confirm", "done"]
    initial = "choose"
    transitions = [
        {"trigger": "found", "source": ["choose", "country", "pick"], "dest": "confirm"},
        {"trigger": "several", "source": ["choose", "country"], "dest": "pick"},
        {"trigger": "unknown_city", "source": "choose", "dest": "country"},
        {"trigger": "confirmed", "source": "confirm", "dest": "done"},
        {"trigger": "again", "source": ["confirm", "pick", "country"], "dest": "choose"},
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
            return self._offer([answer.choice])
        if not answer.text:
            return None
        zones = zones_for_city(answer.text)
        if not zones:
            self.say(_("I couldn't find that city."))
            return "unknown_city"
        return self._offer(zones)

    def ask_country(self) -> Question:
        return Question(_("Which country are you in?"), [Choice(AGAIN, _("Choose again"))])

    def read_country(self, answer: Answer) -> str | Invalid | None:
        if answer.choice == AGAIN:
            return "again"
        zones = zones_for_country(answer.text or "")
        if not zones:
            return Invalid(_("I don't know that country. Please type its name, for example “Spain” or “Germany”."))
        return self._offer(zones)

    def ask_pick(self) -> Question:
        choices = [Choice(zone, city_name(zone)) for zone in self.data["candidates"]]
        return Question(_("Which of these is closest to you?"), [*choices, Choice(AGAIN, _("Choose again"))], columns=2)

    def read_pick(self, answer: Answer) -> str | Invalid | None:
        if answer.choice == AGAIN:
            return "again"
        if answer.choice in self.data["candidates"]:
            return self._offer([answer.choice])
        zones = zones_for_city(answer.text or "")
        if len(zones) == 1:
            return self._offer(zones)
        return Invalid(_("Please choose the one closest to you, even if it is not your city."))

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
            self.say(_("Saved: your time zone is {city}.").format(city=city_name(self.data["zone"])))
            return "confirmed"
        if answer.choice == "no":
            return "again"
        return None

    def _offer(self, zones: list[str]) -> str | None:
        """One zone: confirm it; several: let the patient pick, the suggested ones first."""
        zones = [zone for zone in zones if zone in all_zones()]
        if not zones:
            return None
        if len(zones) == 1:
            self.data["zone"] = zones[0]
            return "found"
        suggested = content.load("timezones")["suggest"].get(locales.current(), [])
        zones.sort(key=lambda zone: (zone not in suggested, suggested.index(zone) if zone in suggested else 0))
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
    """Zones whose city is named so in any of our languages; a near miss ("londn") counts."""
    index = _city_index()
    key = normalize(text)
    if key in index:
        return list(index[key])
    close = difflib.get_close_matches(key, index, n=3, cutoff=0.85) if len(key) >= 4 else []
    return sorted({zone for match in close for zone in index[match]})


@cache
def _country_index() -> dict[str, str]:
    # Country names in our languages and common aliases; not the two-letter codes, which are
    # also words ("no", "it", "in").
    index: dict[str, str] = {}
    territory_zones = get_global("territory_zones")
    for locale in locales.SUPPORTED:
        for code, name in Locale.parse(locale).territories.items():
            if code in territory_zones:
                index[normalize(name)] = code
    index.update({normalize(alias): code for alias, code in content.load("timezones")["country_aliases"].items()})
    return index


def zones_for_country(text: str) -> list[str]:
    code = _country_index().get(normalize(text))
    if code is None:
        return []
    return [zone for zone in get_global("territory_zones")[code] if zone in all_zones()]


def local_time(zone: str, now) -> dict[str, str]:
    tz = zoneinfo.ZoneInfo(zone)
    locale = locales.formatting(get_global("zone_territories").get(zone))  # as written where the zone is
    return {
        "time": format_time(now, format="short", tzinfo=tz, locale=locale),
        "day": format_date(now.astimezone(tz).date(), format="full", locale=locale),
    }
