"""Patient-facing words: gettext catalogs for en, es and de, chosen per patient per step.

`_` and `ngettext` read the patient's language from a context variable set by `use()`, so
dialog code reads like ordinary gettext code and concurrent patients never share a language.
Catalogs are compiled from the shipped .po files on first use when no fresh .mo is present,
so a plain install (or a source checkout) is translated without a build step.
"""
from __future__ import annotations

import io
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Iterator

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_name
from babel.support import NullTranslations, Translations

DOMAIN = "messages"
LOCALES_DIR = Path(__file__).parent
SUPPORTED = ("en", "es", "de")
DEFAULT = "en"

_current: ContextVar[str] = ContextVar("paincoach_locale", default=DEFAULT)
_region: ContextVar[str | None] = ContextVar("paincoach_region", default=None)


@cache
def translations(locale: str) -> NullTranslations:
    po = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if not po.exists():
        return NullTranslations()
    return Translations(io.BytesIO(compile_catalog(po, mo)), domain=DOMAIN)


def compile_catalog(po: Path, mo: Path | None = None) -> bytes:
    """Compile a .po file; write the .mo beside it when the folder is writable."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fp:
        catalog = read_po(fp)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    if mo is not None:
        try:
            mo.write_bytes(buffer.getvalue())
        except OSError:
            pass  # read-only install: the in-memory catalog serves
    return buffer.getvalue()


@contextmanager
def use(locale: str, region: str | None = None) -> Iterator[None]:
    """Speak `locale`; format dates and numbers as in `region` (a country code) when given."""
    token = _current.set(locale if locale in SUPPORTED else DEFAULT)
    region_token = _region.set(region)
    try:
        yield
    finally:
        _region.reset(region_token)
        _current.reset(token)


def formatting(region: str | None = None) -> str:
    """The locale for dates, times and numbers: English in Britain writes 13:05 and 28 November."""
    language, region = _current.get(), region or _region.get()
    if region:
        try:
            return str(Locale.parse(f"{language}_{region}"))
        except (ValueError, UnknownLocaleError):
            pass
    return language


def moment(at: datetime, zone) -> str:
    """A moment as the reader reads it, in `zone` (a ZoneInfo) and naming it: "7 Dec 2026, 09:30 MEZ".
    The zone's abbreviation is the language's own where it has one (MEZ, CET), else the zone
    database's (EST, IST), else the offset from UTC ("UTC-03"): never a time without its zone."""
    local, locale = at.astimezone(zone), Locale.parse(formatting())
    name = get_timezone_name(local, "short", locale=locale)
    if not (name.isalpha() and len(name) <= 5):  # Babel's fallbacks: "+0530", or a long name
        tzname = local.tzname() or ""
        name = tzname if tzname.isalpha() else "UTC" + (tzname if tzname[:1] in "+-" else "")
    clock = format_time(local, locale.time_formats["short"].pattern, locale=locale)
    return locale.datetime_formats["medium"].format(clock, format_date(local.date(), "medium", locale=locale)) + " " + name


def current() -> str:
    return _current.get()


def _(message: str) -> str:
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; translate it with `_` where it is shown."""
    return message


def negotiate(language_code: str | None) -> str:
    """Telegram's language_code (en-US, pt-br, or nothing) to one of ours."""
    if not language_code:
        return DEFAULT
    return negotiate_locale([language_code.replace("-", "_")], list(SUPPORTED)) or DEFAULT


def territory_of(language_code: str | None) -> str | None:
    """The country in a language code such as es-MX, if there is one."""
    if not language_code:
        return None
    try:
        territory = Locale.parse(language_code, sep="-").territory
    except (ValueError, UnknownLocaleError):
        return None
    return territory if territory and len(territory) == 2 and territory.isalpha() else None  # not "419"


def region_of(country: str | None, timezone: str | None, language_code: str | None = None) -> str | None:
    """A patient's country: their own choice, their time zone's, or their language code's."""
    if country:
        return country
    if timezone and (zone_country := get_global("zone_territories").get(timezone)):
        return zone_country
    return territory_of(language_code)


def language_name(locale: str) -> str:
    """A language named in itself ("Deutsch"), as a patient looks for it."""
    return Locale.parse(locale).get_display_name(locale).capitalize()


def switch(locale: str) -> None:
    """Change the language for the rest of the current `use()` block (the patient just chose one)."""
    _current.set(locale if locale in SUPPORTED else DEFAULT)
