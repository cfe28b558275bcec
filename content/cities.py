"""Cities a patient may type to set their time zone: GeoNames' cities of 15,000+ people, by their
own and alternate names (content/cities.tsv.gz, built by content/build_cities.py).

Read once per process, when a city is first looked up, not at start-up: about 1 MB on disk.
"""
from __future__ import annotations

import gzip
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources

from content.text import normalize

FILE = "cities.tsv.gz"


@dataclass(frozen=True)
class City:
    geonameid: int
    name: str  # the spelling typed, accents restored where we can (see _shown); else the city's own name
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


def _as_tuple(found: int | tuple[int, ...]) -> tuple[int, ...]:
    return (found,) if isinstance(found, int) else found


def _city(row: tuple[int, str, str, int, str], typed: str | None = None) -> City:
    geonameid, country, zone, population, names = row
    spellings = names.split("|")
    return City(geonameid, spellings[0] if typed is None else _shown(spellings, typed), country, zone, population)


def _shown(spellings: list[str], typed: str) -> str:
    """The spelling to show back: the patient's own if they wrote accents ("Múnich"); else the
    city's own name if that is what they meant ("cordoba": Córdoba); else theirs ("Colonia", not
    the Catalan "Colònia"); else the one with accents."""
    key, typed = normalize(typed), typed.strip().casefold()
    same = [spelling for spelling in spellings if normalize(spelling) == key]
    exact = [spelling for spelling in same if spelling.casefold() == typed]
    if exact and not typed.isascii():
        return exact[0]
    if spellings[0] in same:
        return spellings[0]
    return exact[0] if exact else max(same, key=_accents, default=spellings[0])


def _accents(spelling: str) -> int:
    return sum(not ch.isascii() for ch in spelling)


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
