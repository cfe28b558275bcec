"""Where a clinician reads time: in their own time zone, set with /timezone in Telegram or on the
dashboard's "My time zone" page, else in their clinic's `timezone` setting (UTC until one is set).

A zone is read as patients' zones are read (`dialogs.timezone`): an IANA name in any case
("europe/berlin"), or a city or a country that has one zone. Every time shown names its zone
(`locales.moment`), so a clinician never has to guess which clock a time is on.
"""
from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import locales
from exports.source import zone_named
from locales import _
from storage import audit
from storage.models import Clinic, Clinician

CLINIC = "clinic"  # /timezone clinic: back to the clinic's zone
SHOWN_CHOICES = 8  # zones named when a place has several


def clinic_zone(session: Session, clinic_id: int) -> ZoneInfo:
    """The clinic's `timezone` setting (UTC until one is set): the fallback chat's, and every
    clinician's who chose none."""
    return zone_named(session.get(Clinic, clinic_id).setting("timezone"))


def clinician_zone(session: Session, clinician: Clinician) -> ZoneInfo:
    """Where this clinician reads times: their own zone, else their clinic's."""
    return zone_named(clinician.timezone) if clinician.timezone else clinic_zone(session, clinician.clinic_id)


def chat_zones(session: Session, clinic_id: int) -> dict[int, ZoneInfo]:
    """The clinic's verified clinicians: chat id → the zone they read times in."""
    fallback = clinic_zone(session, clinic_id)
    return {
        int(telegram_id): zone_named(own) if own else fallback
        for telegram_id, own in session.execute(
            select(Clinician.telegram_id, Clinician.timezone).where(
                Clinician.clinic_id == clinic_id, Clinician.verified_at.is_not(None), Clinician.revoked_at.is_(None)
            )
        )
    }


@cache
def _iana_names() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def zones_for(text: str) -> list[str]:
    """The zones a typed name may mean: an IANA name (any case) is itself; else, as a patient's
    typed place is read, a city (the biggest first when it dwarfs its namesakes) or a country."""
    from dialogs.timezone import DOMINANT, places_for, places_in_country, zones_for_country

    text = " ".join(text.split())
    if not text:
        return []
    if (name := _iana_names().get(text.casefold().replace(" ", "_"))) is not None:
        return [name]
    places = places_for(text) or places_in_country(text)
    if places:
        first, others = places[0], [place for place in places if place.zone != places[0].zone]
        if not others or first.population >= DOMINANT * max(place.population for place in others):
            return [first.zone]
        return list(dict.fromkeys(place.zone for place in places))
    return zones_for_country(text)


def describe(session: Session, clinician: Clinician) -> str:
    """Which zone the clinician reads times in, and whose it is."""
    zone = clinician_zone(session, clinician)
    if clinician.timezone:
        return _("Your time zone: {zone}. Every time you read here and on the dashboard is in it.").format(zone=zone.key)
    return _("Your time zone is your clinic's: {zone}.").format(zone=zone.key)


class ZoneRefused(ValueError):
    """A zone not understood, with what the clinician reads; nothing was changed."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def choose(session: Session, clinician_id: int, text: str, now: datetime, *, via: str | None = None) -> str:
    """Sets a clinician's zone from what they typed ("clinic", or nothing, for their clinic's),
    audited, and returns what they read. Raises ZoneRefused, changing nothing, for a name that is
    not one zone."""
    clinician = session.get(Clinician, clinician_id)
    typed = " ".join(text.split())[:100]
    if typed and typed.casefold() != CLINIC:
        zones = zones_for(typed)
        if not zones:
            raise ZoneRefused(_("I don't know the time zone “{text}”. Write it as a name such as Europe/Berlin or "
                                "America/New_York, or as a city.").format(text=typed))
        if len(zones) > 1:
            raise ZoneRefused(_("“{text}” has more than one time zone: {zones}. Please choose one of them.").format(
                text=typed, zones=", ".join(zones[:SHOWN_CHOICES])))
        clinician.timezone = zones[0]
    else:
        clinician.timezone = None
    audit.record(session, f"clinician:{clinician.id}", "set_timezone", now, clinic_id=clinician.clinic_id,
                 timezone=clinician.timezone, **({"via": via} if via else {}))
    zone = clinician_zone(session, clinician)
    saved = (_("Saved: your time zone is {zone}.") if clinician.timezone else
             _("Saved: you read times in your clinic's time zone, {zone}.")).format(zone=zone.key)
    return saved + " " + _("It is now {time}.").format(time=locales.moment(now, zone))
