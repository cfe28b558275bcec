"""Set the patient's time zone as an IANA name: from suggestions, a typed city, or the country.

A typed city is looked up among GeoNames' cities of 15,000+ people (content/cities.py) and the
zones' own cities. Where one name is a city in several countries, the patient picks the country
("Córdoba"), unless the biggest dwarfs the others ("Paris"): it is offered first, the others a tap
away. Check-ins later go out by the patient's wall clock, so the step ends by showing the local
time and asking the patient to confirm it. Diagram: docs/dialogs/timezone.md.
"""
from __future__ import annotations

import difflib
import zoneinfo
from functools import cache
from typing import NamedTuple

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_location

import content
import locales
from content import cities
from content.text import normalize
from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from locales import _
from scheduler import planner

MAX_BUTTONS = 12
AGAIN = "again"
ANOTHER = "another"
DOMINANT = 10  # a city this many times as populous as its namesakes is offered first ("Paris")


class Place(NamedTuple):
    """One place a typed name may mean: a city of the index, or a zone's own city."""

    country: str
    zone: str
    name: str  # the city's own name ("Köln"), shown when the patient confirms
    spelled: str  # as the patient spelled it ("Colonia"), to ask which country it is in
    own: bool  # the zone's own city ("Wien": Europe/Vienna), named in the patient's language
    population: int


class Timezone(Dialog):
    name = "timezone"
    states = ["choose", "country", "city_country", "pick", "confirm", "done"]
    initial = "choose"
    transitions = [
        {"trigger": "found", "source": ["choose", "country", "city_country", "pick"], "dest": "confirm"},
        {"trigger": "several", "source": ["choose", "country", "city_country", "confirm"], "dest": "pick"},
        {"trigger": "namesakes", "source": ["choose", "confirm"], "dest": "city_country"},
        {"trigger": "unknown_city", "source": "choose", "dest": "country"},
        {"trigger": "confirmed", "source": "confirm", "dest": "done"},
        {"trigger": "again", "source": ["confirm", "pick", "country", "city_country"], "dest": "choose"},
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
        places = places_for(answer.text) or places_in_country(answer.text)
        if places:
            return self._offer_places(places)
        zones = zones_near(answer.text)
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

    def ask_city_country(self) -> Question:
        countries = list(dict.fromkeys(Place(*place).country for place in self.data["namesakes"]))
        return Question(
            _("There is a {city} in more than one country. Which country are you in?").format(city=self.data["city"]),
            [*(Choice(code, country_name(code)) for code in countries[:MAX_BUTTONS]), Choice(AGAIN, _("Choose again"))],
            columns=2,
        )

    def read_city_country(self, answer: Answer) -> str | Invalid | None:
        if answer.choice == AGAIN:
            return "again"
        code = answer.choice or _country_index().get(normalize(answer.text or ""))
        places = [Place(*place) for place in self.data["namesakes"] if place[0] == code]
        if not places:  # a country typed that has no city of this name, or not a country at all
            return Invalid(_("Please tap your country, or type its name."))
        return self._offer_places(places)

    def ask_pick(self) -> Question:
        choices = [Choice(zone, city_name(zone)) for zone in self.data["candidates"]]
        return Question(_("Which of these is closest to you?"), [*choices, Choice(AGAIN, _("Choose again"))], columns=2)

    def read_pick(self, answer: Answer) -> str | Invalid | None:
        if answer.choice == AGAIN:
            return "again"
        if answer.choice in self.data["candidates"]:
            return self._offer([answer.choice])
        places = places_for(answer.text or "")
        if len({place.zone for place in places}) == 1:
            return self._offer_places(places[:1])
        zones = [] if places else zones_near(answer.text or "")
        if len(zones) == 1:
            return self._offer(zones)
        return Invalid(_("Please choose the one closest to you, even if it is not your city."))

    def ask_confirm(self) -> Question:
        zone = self.data["zone"]
        choices = [Choice("yes", _("Yes, that's right")), Choice("no", _("No, choose again"))]
        if self.data.get("namesakes"):  # the biggest of several cities so named was offered
            # Translators: a button, for someone in a smaller city of the same name (London, Canada).
            choices.append(Choice(ANOTHER, _("Another place called {city}").format(city=self.data["city"])))
        return Question(
            _("In {city} it is now {time}, {day}. Is that your local time?").format(
                city=self._place_name(), **local_time(zone, self.turn.now)
            ),
            choices,
        )

    def read_confirm(self, answer: Answer) -> str | None:
        if answer.choice == "yes":
            self.patient.timezone = self.data["zone"]
            if self.patient.onboarded_at is not None:  # future check-ins follow the new wall clock
                planner.replan(self.turn.session, self.patient, self.turn.now)
            self.say(_("Saved: your time zone is {city}.").format(city=self._place_name()))
            return "confirmed"
        if answer.choice == "no":
            return "again"
        if answer.choice == ANOTHER and self.data.get("namesakes"):
            return self._offer_places([Place(*place) for place in self.data["namesakes"]], first_if_dominant=False)
        return None

    def _place_name(self) -> str:
        return self.data.get("place") or city_name(self.data["zone"])

    def _offer_places(self, places: list[Place], first_if_dominant: bool = True) -> str | None:
        """One zone: confirm it, by the city's name. A name in several zones: confirm the biggest
        city if it dwarfs the others ("Paris"), with a way to its namesakes (Paris, Texas);
        else ask which country, or, all in one country, which zone."""
        zones = list(dict.fromkeys(place.zone for place in places))
        if len(zones) == 1:
            return self._offer(zones, None if places[0].own else places[0].name)
        first, others = places[0], [place for place in places if place.zone != places[0].zone]
        if first_if_dominant and first.population >= DOMINANT * max(place.population for place in others):
            found = self._offer([first.zone], None if first.own else first.name)
        elif len({place.country for place in places}) > 1:
            found = "namesakes"
        else:
            return self._offer(zones)
        self.data["city"] = first.spelled
        self.data["namesakes"] = [list(place) for place in places]
        return found

    def _offer(self, zones: list[str], place: str | None = None) -> str | None:
        """One zone: confirm it; several: let the patient pick, the suggested ones first."""
        zones = [zone for zone in zones if zone in all_zones()]
        if not zones:
            return None
        self.data.pop("namesakes", None)
        if len(zones) == 1:
            self.data["zone"] = zones[0]
            self.data["place"] = place  # the city the patient named, if not the zone's own
            return "found"
        suggested = content.load("timezones")["suggest"].get(locales.current(), [])
        zones.sort(key=lambda zone: (zone not in suggested, suggested.index(zone) if zone in suggested else 0))
        self.data["candidates"] = zones[:MAX_BUTTONS]
        return "several"


@cache
def all_zones() -> frozenset[str]:
    """Zones that belong to a country (Babel's CLDR data) and that this system can load."""
    return frozenset(get_global("zone_territories")) & zoneinfo.available_timezones()


def warm() -> None:
    """Build the zone, city and country indexes now (about half a second), not at the first
    patient's time zone answer."""
    _city_index()
    _country_index()


def city_name(zone: str, locale: str | None = None) -> str:
    return get_timezone_location(zone, locale=locale or locales.current(), return_city=True)


def country_name(code: str) -> str:
    return Locale.parse(locales.current()).territories.get(code, code)


@cache
def _city_index() -> dict[str, tuple[str, ...]]:
    # The zones' own cities, named in every language we speak, plus the zone's own name
    # ("New_York", "Europe/Berlin").
    index: dict[str, set[str]] = {}
    for zone in all_zones():
        names = {zone, zone.rsplit("/", 1)[-1].replace("_", " ")}
        names.update(city_name(zone, locale) for locale in locales.SUPPORTED)
        for name in names:
            index.setdefault(normalize(name), set()).add(zone)
    return {key: tuple(sorted(zones)) for key, zones in index.items()}


def places_for(text: str) -> list[Place]:
    """Where a city of this name is, each country and zone once: GeoNames' cities, the most
    populous first, then zones whose own city is so named but is not among them ("Canaries")."""
    own = _city_index().get(normalize(text), ())
    places = [Place(city.country, city.zone, city.name, city.matched, city.zone in own, city.population)
              for city in cities.named(text) if city.zone in all_zones()]
    territories = get_global("zone_territories")
    places += [Place(territories[zone], zone, city_name(zone), city_name(zone), True, 0) for zone in own
               if zone not in {place.zone for place in places}]
    first: dict[tuple[str, str], Place] = {}
    for place in places:
        first.setdefault((place.country, place.zone), place)
    return list(first.values())


def places_in_country(text: str) -> list[Place]:
    """A city and its country after a comma ("Córdoba, Argentina"); none if either is unknown."""
    city, _comma, country = text.rpartition(",")
    code = _country_index().get(normalize(country))
    return [place for place in places_for(city) if place.country == code] if city and code else []


def zones_near(text: str) -> list[str]:
    """Zones whose own city is almost so named: a typo of a big city ("londn")."""
    index = _city_index()
    key = normalize(text)
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
