"""What the coach says when the safety screen flags a message, and the crisis resources to show.

Crisis language pauses the dialog: the patient gets a warm message and the crisis lines of their
country before anything else, and the dialog waits until they choose to continue. Red flags get
advice to seek urgent care today, and the step then goes on as usual. Nothing here may fail:
a clinic's malformed setting falls back to the shipped defaults.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterable

from babel import Locale
from babel.core import get_global

import content
import locales
from storage import alerts
from dialogs.answers import polarity
from dialogs.base import Choice
from dialogs.io import Command, Text
from locales import _
from screen import Finding, Screening
from screen import policy as outcomes
from screen.text import normalize
from storage.models import SafetyEvent, SafetyPlan

if TYPE_CHECKING:
    from dialogs.base import Turn

log = logging.getLogger(__name__)
RESUME = "resume"
DIRECT = "direct"  # the buttons of the direct question asked after an ambiguous message
UNSURE = {"not sure", "im not sure", "i am not sure", "unsure", "dont know", "i dont know", "maybe",
          "no se", "no lo se", "no estoy seguro", "no estoy segura", "quizas", "quiza", "tal vez",
          "nicht sicher", "bin mir nicht sicher", "ich bin mir nicht sicher", "weiss nicht", "ich weiss nicht", "vielleicht"}


def country_of(turn: "Turn") -> str | None:
    return locales.region_of(turn.patient.country, turn.patient.timezone, turn.language_code)


def resource_tables(clinic_settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Shipped defaults by country, each overridden key by key by the clinic's own entry."""
    tables = {code: dict(table) for code, table in content.load("crisis_resources").items()}
    for code, entry in (clinic_settings.get("crisis_resources") or {}).items():
        valid = isinstance(entry, dict) and all(
            (key in ("emergency", "poison") and isinstance(value, str))
            or (key in ("lines", "abuse_lines") and isinstance(value, list)
                and all(isinstance(l, dict) and {"name", "phone"} <= l.keys() for l in value))
            for key, value in entry.items()
        )
        if not valid:
            log.error("clinic crisis resources for %r are malformed; using the defaults", code)
            continue
        tables[code] = {**tables.get(code, tables["default"]), **entry}
    return tables


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


def not_an_emergency_line(turn: "Turn") -> str:
    number = emergency_number(country_of(turn), turn.patient.clinic.settings)
    return _("I'm not an emergency service. If you are in danger, call {number}.").format(number=number)


# The category a safety event and an alert are recorded under, per outcome (the clinic's words).
EVENT_CATEGORY = {
    outcomes.CRISIS: "crisis", outcomes.OVERDOSE_TAKEN: "overdose_taken", outcomes.DIRECT_QUESTION: "ambiguous",
    outcomes.ABUSE: "abuse", outcomes.EATING_DISORDER: "eating_disorder",
    outcomes.RED_FLAG_EMERGENCY: "red_flag", outcomes.RED_FLAG_TODAY: "red_flag",
}


def _record(turn: "Turn", finding: Finding, *, alert: bool = True) -> None:
    # The matched content phrase and the model's score, never the patient's words; nothing before consent.
    if turn.patient.consent != "given":
        return
    category = EVENT_CATEGORY.get(finding.outcome, finding.outcome)
    turn.session.add(
        SafetyEvent(
            patient_id=turn.patient.id,
            category=category,
            phrase=finding.phrase,
            language=finding.language,
            dialog=turn.state.dialog,
            state=turn.state.state,
            source=finding.source,
            model_version=turn.screened_with,
            model_score=round(finding.score, 4) if finding.score is not None else None,
        )
    )
    if alert:
        alerts.raise_alert(turn.session, turn.patient, category, turn.now, words=turn.text)


def crisis(turn: "Turn", finding: Finding) -> None:
    from dialogs.safetyplan import SafetyPlanDialog

    _record(turn, finding)
    turn.state.paused = True
    text = crisis_text(country_of(turn), turn.patient.clinic.settings)
    if plan := SafetyPlanDialog.text_of(turn.session.get(SafetyPlan, turn.patient.id)):
        text += "\n\n" + _("Your safety plan:") + "\n\n" + plan
    turn.say(text + "\n\n" + _("Our coaching is paused. When you feel ready, tap Continue."), [Choice(RESUME, _("Continue"))], action=RESUME)
    _urgent(turn)


def resources_once(turn: "Turn") -> None:
    """Crisis words where they are the answer (a safety plan's warning signs): the lines, once."""
    if not turn.state.data.get("resources_shown"):
        turn.state.data = {**turn.state.data, "resources_shown": True}
        lines = [_("If any of this is happening now, please reach out:"), *resource_lines(country_of(turn), turn.patient.clinic.settings)]
        turn.say("\n".join(lines))
        _urgent(turn)


def _urgent(turn: "Turn") -> None:
    """The message just said answers a crisis, a red flag or a disclosure: a transport never drops
    it, not even among a flood's replies (bot/flood.py)."""
    turn.outputs[-1] = replace(turn.outputs[-1], urgent=True)


def still_paused(turn: "Turn") -> None:
    lines = [
        _("I'm still here. If things feel too much, please reach out now:"),
        *resource_lines(country_of(turn), turn.patient.clinic.settings),
        "",
        _("When you feel ready, tap Continue."),
    ]
    # Not urgent: in a flood, the crisis reply itself is never thinned, and the patient's latest
    # message still gets this one; forty copies of it would hold up the reply they need next.
    turn.say("\n".join(lines), [Choice(RESUME, _("Continue"))], action=RESUME)


def unpause(turn: "Turn") -> None:
    """Leave the pause; its Continue buttons expire with it."""
    turn.state.paused = False


def resume(turn: "Turn") -> None:
    """The patient chose to continue after a crisis message."""
    unpause(turn)
    lines = [_("Thank you. Let's carry on.")]
    if turn.session.get(SafetyPlan, turn.patient.id) is None:  # the moment it would have helped: offer it, gently
        lines.append(_("When you feel up to it, writing a safety plan can help for times like this: "
                       "\"My safety plan\" in the menu guides you through it."))
    turn.say(" ".join(lines))
    turn.ask()


def red_flag(turn: "Turn", finding: Finding) -> None:
    _record(turn, finding)
    number = emergency_number(country_of(turn), turn.patient.clinic.settings)
    turn.say(red_flag_text(number, emergency=finding.outcome == outcomes.RED_FLAG_EMERGENCY))
    _urgent(turn)


HELD = "_held_answer"  # in the dialog's data: the message that prompted the direct question
ASKED_AT = "_direct_question_at"  # in the dialog's data: the step at which the direct question is open


def direct_question_open(turn: "Turn") -> bool:
    """Asked at this step and not answered: once the dialog moves on, it is closed like any other."""
    return turn.state.data.get(ASKED_AT) == turn.state.step


def ask_directly(turn: "Turn", finding: Finding, text: str | None = None) -> None:
    """An ambiguous message ("I can't go on like this"): ask, gently and plainly. Asking about
    suicide does not put the idea in anyone's head; not asking can miss it. The message is held
    until the answer: after a no it is the answer to the step it was written for (a hopeless
    thought in a thought-check is what that step asked for)."""
    _record(turn, finding, alert=False)  # the clinic is alerted if the answer is yes or not sure
    data = {k: v for k, v in turn.state.data.items() if k != HELD}
    turn.state.data = {**data, ASKED_AT: turn.state.step, **({HELD: text} if text else {})}
    lines = [
        _("That sounds really hard. Sometimes people in a lot of pain have thoughts of ending their life. "
          "Is that happening for you?"),
        "",
        _("Whatever the answer, people are there for you right now:"),
        *resource_lines(country_of(turn), turn.patient.clinic.settings),
    ]
    turn.say(
        "\n".join(lines),
        [Choice("yes", _("Yes")), Choice("unsure", _("Not sure")), Choice("no", _("No"))], columns=3, action=DIRECT,
    )
    _urgent(turn)


def direct_answer(turn: "Turn", value: str) -> None:
    """Yes or not sure: the crisis path. No: heard, and back to where they were."""
    from dialogs.base import Answer

    held = turn.state.data.get(HELD)
    close_direct_question(turn)
    if value in ("yes", "unsure"):
        crisis(turn, Finding(outcomes.CRISIS, "answer", f"direct question: {value}"))
        return
    number = emergency_number(country_of(turn), turn.patient.clinic.settings)
    turn.say(_("Thank you for telling me. Pain like this wears anyone down. If those thoughts ever do come, "
               "tell me or call {number}.").format(number=number))
    if held:
        turn.replied = True  # if the step cannot read the message, no "choose a button" after this
        turn.answer(Answer(text=held))
    else:
        turn.ask()


def typed_direct_answer(turn: "Turn", text: str) -> bool:
    """A typed yes, no or not sure to the direct question, while it is the open question, counts
    as its button. Anything else closes it: the patient chose to go on."""
    value = typed_answer_value(turn, text)
    if value is not None:
        direct_answer(turn, value)
        return True
    close_direct_question(turn)
    return False


def typed_answer_value(turn: "Turn", text: str) -> str | None:
    """"yes", "no" or "unsure" when the text answers the direct question that is open now."""
    typed = normalize(text)
    value = "unsure" if typed in UNSURE or any(typed.startswith(u + " ") for u in UNSURE) else polarity(typed)
    if value is None:
        return None
    return value if direct_question_open(turn) else None


def close_direct_question(turn: "Turn") -> None:
    """No answer is coming: its buttons expire, and the message held for it goes."""
    if HELD in turn.state.data or ASKED_AT in turn.state.data:
        turn.state.data = {k: v for k, v in turn.state.data.items() if k not in (HELD, ASKED_AT)}


def eating_disorder(turn: "Turn", finding: Finding) -> None:
    """A disclosure of disordered eating: no food or weight advice, the clinician, and help now."""
    _record(turn, finding)
    lines = [
        _("Thank you for trusting me with this. Struggles with eating and weight deserve real support, and I can't "
          "give advice about food or weight. Please tell your clinician about it."),
        "",
        _("If you feel unsafe right now, please reach out:"),
        *resource_lines(country_of(turn), turn.patient.clinic.settings),
    ]
    turn.say("\n".join(lines))
    _urgent(turn)


def overdose_taken_text(country: str | None, clinic_settings: dict[str, Any]) -> str:
    """Someone has taken too much: the emergency first. Needs no database (the error path sends it too)."""
    tables = resource_tables(clinic_settings)
    table = tables.get(country, tables["default"])
    lines = [_("If you have taken more than your prescribed dose, this is an emergency even if you feel fine now. "
               "Call {number} or go to the emergency department now, and take the packets with you.").format(number=table["emergency"])]
    if table.get("poison"):
        lines.append(_("Poison information: {phone}").format(phone=table["poison"]))
    return "\n".join(lines)


def overdose_taken(turn: "Turn", finding: Finding) -> None:
    turn.say(overdose_taken_text(country_of(turn), turn.patient.clinic.settings))
    _urgent(turn)


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


def abuse(turn: "Turn", finding: Finding) -> None:
    _record(turn, finding)
    turn.say(abuse_text(country_of(turn), turn.patient.clinic.settings, alerted=turn.patient.consent == "given"))
    _urgent(turn)


SURE = 0.9  # a crisis the model is this sure of takes the crisis path even where dark thoughts are invited
DIRECT_ANSWER_WORDS = 4  # a typed answer to the direct question is this short; a longer text is screened as any


def _is_direct_answer(turn: "Turn", text: str) -> bool:
    return len(normalize(text).split()) <= DIRECT_ANSWER_WORDS and typed_answer_value(turn, text) is not None


def answer_screening(turn: "Turn", event, screening: Screening) -> bool:
    """Answer what the screen found in a message, the leading concern first and every other after it.
    True when the step must wait (the crisis path, the direct question); False when it goes on."""
    turn.screened_with = screening.model_version
    found = set(screening.outcomes())
    acute = found & {outcomes.CRISIS, outcomes.OVERDOSE_TAKEN}
    if not found or (not acute and isinstance(event, Text) and _is_direct_answer(turn, event.text)):
        return False  # nothing, or just a typed yes, no or not sure to the direct question on screen
    danger = found & outcomes.DANGER
    if (danger and outcomes.OVERDOSE_TAKEN not in found and not turn.fresh and isinstance(event, Text)
            and turn.dialog().expects_crisis_words()):
        resources_once(turn)  # crisis words are the answer here (a safety plan's warning signs)
        _answer_rest(turn, event, screening, skip=outcomes.DANGER)
        return False
    model_crisis = screening.get(outcomes.CRISIS)
    if (model_crisis and model_crisis.source == "model" and (model_crisis.score or 0) < SURE and not turn.fresh
            and turn.dialog().invites_dark_thoughts()):
        screening = replace(screening, findings=tuple(
            replace(f, outcome=outcomes.DIRECT_QUESTION) if f is model_crisis else f for f in screening.findings))
        found = set(screening.outcomes())
    if outcomes.OVERDOSE_TAKEN in found:
        overdose_taken(turn, screening.get(outcomes.OVERDOSE_TAKEN))
    if found & {outcomes.CRISIS, outcomes.OVERDOSE_TAKEN}:
        crisis(turn, screening.get(outcomes.OVERDOSE_TAKEN) or screening.get(outcomes.CRISIS))  # recorded as what it is
        _answer_rest(turn, event, screening, skip=outcomes.DANGER)
        return True
    if outcomes.DIRECT_QUESTION in found and not turn.state.paused:
        _answer_rest(turn, event, screening, skip=outcomes.DANGER)
        ask_directly(turn, screening.get(outcomes.DIRECT_QUESTION), turn.text if isinstance(event, Text) else None)
        return True
    said = len(turn.outputs)
    _answer_rest(turn, event, screening, skip=outcomes.DANGER)
    turn.replied = len(turn.outputs) > said
    return False


def _answer_rest(turn: "Turn", event, screening: Screening, skip: Iterable[str]) -> None:
    from dialogs import advice

    found = {f.outcome: f for f in screening.findings if f.outcome not in skip}
    if not turn.fresh and (invited := turn.dialog().answers_may_mention()):
        found = {o: f for o, f in found.items() if not (o in invited and f.source == "model")}
    if outcomes.ABUSE in found:
        abuse(turn, found[outcomes.ABUSE])
    if outcomes.EATING_DISORDER in found:
        eating_disorder(turn, found[outcomes.EATING_DISORDER])  # never diet advice: said there
    for tier in (outcomes.RED_FLAG_EMERGENCY, outcomes.RED_FLAG_TODAY):
        if tier in found:
            red_flag(turn, found[tier])
    if (outcomes.EATING_DISORDER not in found and not turn.fresh and not isinstance(event, Command)
            and not turn.state.paused):
        for kind in (outcomes.MEDICATION, outcomes.DIET):
            if kind in found:
                advice.reply(turn, turn.text, kind)  # never advice, then the step goes on
                break
