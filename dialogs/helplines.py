"""The words of help: a country's crisis lines, emergency number, and the texts built from them
(the crisis lines, red-flag advice, an overdose taken, a disclosure of abuse).

From content/crisis_resources.toml and the clinic's settings; no database and no patient, so the
error path and group chats can send them too. Nothing here may fail: a clinic's malformed setting
falls back to the shipped defaults.
"""
from __future__ import annotations

import logging
from typing import Any

from babel import Locale
from babel.core import get_global

import content
import locales
from locales import _

log = logging.getLogger(__name__)


def resource_tables(clinic_settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Shipped defaults by country, each overridden key by key by the clinic's own entry."""
    tables = {code: dict(table) for code, table in content.load("crisis_resources").items()}
    for code, entry in (clinic_settings.get("crisis_resources") or {}).items():
        if not well_formed(entry):
            log.error("clinic crisis resources for %r are malformed; using the defaults", code)
            continue
        tables[code] = {**tables.get(code, tables["default"]), **entry}
    return tables


def well_formed(entry: Any) -> bool:
    """A clinic's entry for a country that the crisis reply can read (else the defaults serve)."""
    return isinstance(entry, dict) and all(
        (key in ("emergency", "poison") and isinstance(value, str))
        or (key in ("lines", "abuse_lines") and isinstance(value, list)
            and all(isinstance(l, dict) and {"name", "phone"} <= l.keys() for l in value))
        for key, value in entry.items()
    )


def resource_lines(country: str | None, clinic_settings: dict[str, Any]) -> list[str]:
    tables = resource_tables(clinic_settings)
    if country in tables:
        places = [(None, tables[country])]
    else:  # country unknown: the lines of the countries that speak the patient's language, named
        names = Locale.parse(locales.current()).territories
        known = [(code, table) for code, table in tables.items() if code != "default" and table["lines"]]
        speaking = [(code, table) for code, table in known if _speaks(code, locales.current())]
        places = [(names.get(code, code), table) for code, table in (speaking or known)]
    lines = []
    for place, table in places:
        for line in table["lines"]:
            template = _("{name}: call or text {phone}") if line.get("text_ok") else _("{name}: call {phone}")
            text = template.format(name=line["name"], phone=line["phone"])
            lines.append(f"• {place}: {text}" if place else f"• {text}")
    if places and places[0][0] is not None:
        # Country unknown: each named country's own emergency number (112 is not the US's or Australia's).
        by_number: dict[str, list[str]] = {}
        for place, table in places:
            by_number.setdefault(table["emergency"], []).append(place)
        number = " · ".join(f"{n} ({', '.join(names)})" for n, names in by_number.items())
    else:
        number = emergency_number(country, clinic_settings)
    lines.append("• " + _("Emergency: {number}").format(number=number))
    return lines


def _speaks(country: str, language: str) -> bool:
    status = get_global("territory_languages").get(country, {}).get(language, {}).get("official_status")
    return status in ("official", "de_facto_official")


def emergency_number(country: str | None, clinic_settings: dict[str, Any]) -> str:
    # 112 reaches emergency services from mobile phones in most countries, not only in Europe.
    tables = resource_tables(clinic_settings)
    return tables.get(country, tables["default"])["emergency"]


def red_flag_text(number: str, emergency: bool = False) -> str:
    """The advice for a red-flag symptom; needs no database, so the error path can send it too.
    New saddle numbness, new loss of bladder or bowel control, or leg weakness getting quickly
    worse can mean nerves are being squeezed: hours matter, so that tier says "now"."""
    if emergency:
        return _(
            "What you describe can be a sign that nerves in your back are being squeezed, and that needs a doctor now, "
            "not tomorrow. Please go to the nearest emergency department now, or call {number}. "
            "I can't examine you, so please don't wait for me."
        ).format(number=number)
    return _(
        "What you describe can be a sign of something that needs a doctor today. "
        "Please contact your doctor or an urgent care service today, "
        "or call {number} if it is severe or came on suddenly. I can't examine you, so please don't wait for me."
    ).format(number=number)


def crisis_text(country: str | None, clinic_settings: dict[str, Any]) -> str:
    """The crisis message; needs no database, so the error path can send it too."""
    return "\n".join(
        [
            _("Thank you for telling me. I'm really glad you did, and you don't have to carry this alone."),
            "",
            _("I'm a coaching bot and can't help in a crisis, but people can, right now:"),
            *resource_lines(country, clinic_settings),
            "",
            _("If you might act on these thoughts, please call the emergency number now or go to the nearest emergency department."),
        ]
    )


def overdose_taken_text(country: str | None, clinic_settings: dict[str, Any]) -> str:
    """Someone has taken too much: the emergency first. Needs no database (the error path sends it too)."""
    tables = resource_tables(clinic_settings)
    table = tables.get(country, tables["default"])
    lines = [_("If you have taken more than your prescribed dose, this is an emergency even if you feel fine now. "
               "Call {number} or go to the emergency department now, and take the packets with you.").format(number=table["emergency"])]
    if table.get("poison"):
        lines.append(_("Poison information: {phone}").format(phone=table["poison"]))
    return "\n".join(lines)


def abuse_text(country: str | None, clinic_settings: dict[str, Any], alerted: bool = False) -> str:
    """Discreet: someone else may read this phone. Needs no database. Says the clinic knows only
    when an alert was raised."""
    tables = resource_tables(clinic_settings)
    table = tables.get(country, tables["default"])
    lines = [_("Thank you for telling me. What happens to you matters, and nobody has the right to hurt or frighten you."),
             _("If you are in danger right now, call {number}.").format(number=table["emergency"])]
    for line in table.get("abuse_lines") or []:
        lines.append("• " + _("{name}: call {phone}").format(name=line["name"], phone=line["phone"]))
    lines.append(_("Your clinician can help too; I've let your clinic know.") if alerted else _("Your clinician can help too."))
    lines.append(_("If someone else might read this phone, you can delete this chat."))
    return "\n".join(lines)
