"""What the coach says when the safety screen flags a message, and the crisis resources to show.

Crisis language pauses the dialog: the patient gets a warm message and the crisis lines of their
country before anything else, and the dialog waits until they choose to continue. Red flags get
advice to seek urgent care today, and the step then goes on as usual.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from babel import Locale
from babel.core import get_global
from sqlalchemy import delete

import content
import locales
from dialogs.base import Choice
from locales import _
from storage.models import Button, SafetyEvent

if TYPE_CHECKING:
    from dialogs.engine import Turn
    from dialogs.screen import Verdict

RESUME = "resume"


def country_of(turn: "Turn") -> str | None:
    """The patient's own choice, else the country of their time zone, else of their language code."""
    patient = turn.patient
    if patient.country:
        return patient.country
    if patient.timezone and (country := get_global("zone_territories").get(patient.timezone)):
        return country
    return locales.territory_of(turn.language_code)


def resource_tables(clinic_settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Shipped defaults by country, with the clinic's own entries over them."""
    return {**content.load("crisis_resources"), **clinic_settings.get("crisis_resources", {})}


def resource_lines(turn: "Turn") -> list[str]:
    tables = resource_tables(turn.patient.clinic.settings)
    country = country_of(turn)
    if country in tables:
        places = [(None, tables[country])]
    else:  # country unknown: every line we know, each with its country's name
        names = Locale.parse(locales.current()).territories
        places = [(names.get(code, code), table) for code, table in tables.items() if code != "default" and table["lines"]]
    lines = []
    for place, table in places:
        for line in table["lines"]:
            template = _("{name}: call or text {phone}") if line.get("text_ok") else _("{name}: call {phone}")
            text = template.format(name=line["name"], phone=line["phone"])
            lines.append(f"• {place}: {text}" if place else f"• {text}")
    lines.append("• " + _("Emergency: {number}").format(number=emergency_number(turn)))
    return lines


def emergency_number(turn: "Turn") -> str:
    tables = resource_tables(turn.patient.clinic.settings)
    country = country_of(turn)
    # 112 reaches emergency services from mobile phones in most countries, not only in Europe.
    return tables.get(country, tables["default"])["emergency"]


def not_an_emergency_line(turn: "Turn") -> str:
    return _("I'm not an emergency service. If you are in danger, call {number}.").format(number=emergency_number(turn))


def _record(turn: "Turn", verdict: "Verdict") -> None:
    # The matched content phrase, never the patient's words; nothing before consent.
    if turn.patient.consent != "given":
        return
    turn.session.add(
        SafetyEvent(
            patient_id=turn.patient.id,
            category=verdict.category,
            phrase=verdict.phrase,
            language=verdict.language,
            dialog=turn.state.dialog,
            state=turn.state.state,
        )
    )


def crisis(turn: "Turn", verdict: "Verdict") -> None:
    _record(turn, verdict)
    turn.state.paused = True
    text = "\n".join(
        [
            _("Thank you for telling me. I'm really glad you did, and you don't have to carry this alone."),
            "",
            _("I'm a coaching bot and can't help in a crisis, but people can, right now:"),
            *resource_lines(turn),
            "",
            _("If you might act on these thoughts, please call the emergency number now or go to the nearest emergency department."),
            "",
            _("Our coaching is paused. When you feel ready, tap Continue."),
        ]
    )
    turn.say(text, [Choice(RESUME, _("Continue"))], action=RESUME)


def still_paused(turn: "Turn") -> None:
    text = "\n".join(
        [
            _("I'm still here. If things feel too much, please reach out now:"),
            *resource_lines(turn),
            "",
            _("When you feel ready, tap Continue."),
        ]
    )
    turn.say(text, [Choice(RESUME, _("Continue"))], action=RESUME)


def red_flag(turn: "Turn", verdict: "Verdict") -> None:
    _record(turn, verdict)
    turn.say(
        _(
            "What you describe can be a sign of something that needs a doctor today. "
            "Please contact your doctor or an urgent care service today, "
            "or call {number} if it is severe or came on suddenly. I can't examine you, so please don't wait for me."
        ).format(number=emergency_number(turn))
    )


def resume(turn: "Turn") -> None:
    """The patient chose to continue after a crisis message."""
    turn.session.execute(delete(Button).where(Button.patient_id == turn.patient.id, Button.action == RESUME))
    turn.state.paused = False
    turn.say(_("Thank you. Let's carry on."))
    turn.ask()
