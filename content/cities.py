"""Cities a patient may type to set their time zone: GeoNames' cities of 15,000+ people, by their
own and alternate names (content/cities.tsv.gz, built by content/build_cities.py).

Read once per process when a city is first looked up, not at start-up: about 1 MB on disk, some
20-25 MB in memory, a second or so to read (`python -m content.build_cities --measure` says).
"""
from __future__ import annotations

import difflib
import gzip
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources

from content.text import normalize

FILE = "cities.tsv.gz"
NEARLY = 0.9  # a typed name this alike to a city's own (one letter off in six: Londn) shows the own one


@dataclass(frozen=True)
class City:
    geonameid: int
    name: str  # the city's own name, or the patient's spelling if they wrote one with accents
    matched: str  # the spelling that matched: the own name if it did, else one as the patient typed it
    country: str  # ISO 3166 code
    zone: str  # IANA time zone
    population: int


@dataclass(frozen=True)
class _Index:
    rows: list[tuple[int, str, str, int, str]]  # geonameid, country, zone, population, names joined by "|"
    by_key: dict[str, int | tuple[int, ...]]  # normal form of a name -> row(s); one row is the common case


@cache
def _index() -> _Index:
    rows: list[tuple[int, str, str, int, str]] = []
    by_key: dict[str, int | tuple[int, ...]] = {}
    with resources.files("content").joinpath(FILE).open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            geonameid, country, zone, population, names = line.rstrip("\n").split("\t")
            row = len(rows)
            rows.append((int(geonameid), sys.intern(country), sys.intern(zone), int(population), names))
            for key in {normalize(name) for name in names.split("|")}:
                found = by_key.get(key)
                by_key[key] = row if found is None else (*_as_tuple(found), row)
    return _Index(rows, by_key)


def warm() -> None:
    """Read the index now (about a second), so no patient's step waits for it later."""
    _index()


def _as_tuple(found: int | tuple[int, ...]) -> tuple[int, ...]:
    return (found,) if isinstance(found, int) else found


def _city(row: tuple[int, str, str, int, str], typed: str | None = None) -> City:
    geonameid, country, zone, population, names = row
    spellings = names.split("|")
    if typed is None:
        return City(geonameid, spellings[0], spellings[0], country, zone, population)
    return City(geonameid, _shown(spellings, typed), _matched(spellings, typed), country, zone, population)


def _shown(spellings: list[str], typed: str) -> str:
    """The name to show back: the patient's spelling if they wrote it with accents ("Múnich"); the
    city's own name if that is what they typed ("cordoba": Córdoba) or nearly ("Londn", an
    alternate name but also a typo: London); else the spelling they typed ("Mailand", "Colonia")."""
    own, key, folded = spellings[0], normalize(typed), typed.strip().casefold()
    exact = next((spelling for spelling in spellings if spelling.casefold() == folded), None)
    if exact and not folded.isascii():
        return exact
    if exact is None or difflib.SequenceMatcher(None, key, normalize(own)).ratio() >= NEARLY:
        return own
    return exact


def _matched(spellings: list[str], typed: str) -> str:
    """The spelling to ask about ("There is a Colonia in more than one country"): the patient's
    own with accents, else the city's own name if it matched, else the one they typed."""
    key = normalize(typed)
    same = [spelling for spelling in spellings if normalize(spelling) == key]
    exact = [spelling for spelling in same if spelling.casefold() == typed.strip().casefold()]
    if spellings[0] in same and not (exact and not typed.isascii()):
        return spellings[0]
    return (exact or same or [typed.strip()])[0]


def named(text: str) -> list[City]:
    """The cities with this name, own or alternate, compared in normal form (case, accents and
    punctuation aside); the most populous first."""
    index = _index()
    key = normalize(text)
    found = index.by_key.get(key)
    if found is None:
        return []
    cities = [_city(index.rows[row], text) for row in _as_tuple(found)]
    return sorted(cities, key=lambda city: (-city.population, city.geonameid))


def every() -> list[City]:
    """Every city in the index, by its own name."""
    return [_city(row, None) for row in _index().rows]
