"""What the coach says and does when the safety screen flags a message (the words of help are in
dialogs/helplines.py).

Crisis language pauses the dialog: the patient gets a warm message and the crisis lines of their
country before anything else, and the dialog waits until they choose to continue. Red flags get
advice to seek urgent care today, and the step then goes on as usual. Nothing here may fail:
a clinic's malformed setting falls back to the shipped defaults.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable


import locales
from storage import alerts
from dialogs import helplines
from dialogs.answers import polarity
from dialogs.written_plan import plan_text
from dialogs.base import Choice
from dialogs.io import Command, Text
from locales import N_, _
from screen import Finding, Screening
from screen import policy as outcomes
from screen.text import normalize
from storage.models import SafetyEvent, SafetyPlan

if TYPE_CHECKING:
    from dialogs.base import Turn

log = logging.getLogger(__name__)

# The safety plan's parts (state, column, question): written in the `safetyplan` dialog, shown here.
PLAN = [
    ("warning_signs", "warning_signs", N_("What are your warning signs that a crisis may be building (thoughts, feelings, situations)?")),
    ("what_helps", "what_helps", N_("What can you do on your own that helps, even a little?")),
    ("people", "people", N_("Who can you contact for support or distraction? Names and numbers.")),
    ("safe_places", "safe_places", N_("Which places feel safe or calming to you?")),
    ("professionals", "professionals", N_("Which professionals or services can you call (your clinic, your doctor, a crisis line)?")),
    ("safer", "safer_surroundings", N_("How can you make your surroundings safer (for example, giving medicines to someone to keep)?")),
]
RESUME = "resume"
DIRECT = "direct"  # the buttons of the direct question asked after an ambiguous message
UNSURE = {"not sure", "im not sure", "i am not sure", "unsure", "dont know", "i dont know", "maybe",
          "no se", "no lo se", "no estoy seguro", "no estoy segura", "quizas", "quiza", "tal vez",
          "nicht sicher", "bin mir nicht sicher", "ich bin mir nicht sicher", "weiss nicht", "ich weiss nicht", "vielleicht"}


def country_of(turn: "Turn") -> str | None:
    return locales.region_of(turn.patient.country, turn.patient.timezone, turn.language_code)


def not_an_emergency_line(turn: "Turn") -> str:
    number = helplines.emergency_number(country_of(turn), turn.patient.clinic.settings)
    return _("I'm not an emergency service. If you are in danger, call {number}.").format(number=number)


# The category a safety event and an alert are recorded under, per outcome (the clinic's words).
EVENT_CATEGORY = {
    outcomes.CRISIS: "crisis", outcomes.OVERDOSE_TAKEN: "overdose_taken", outcomes.DIRECT_QUESTION: "ambiguous",
    outcomes.ABUSE: "abuse", outcomes.EATING_DISORDER: "eating_disorder",
    outcomes.RED_FLAG_EMERGENCY: "red_flag", outcomes.RED_FLAG_TODAY: "red_flag",
}


def _record(turn: "Turn", finding: Finding, *, alert: bool = True) -> bool:
    """The safety event (the matched content phrase and the model's score, never the patient's
    words) and the clinic's alert; returns whether an alert was raised. Nothing before consent;
    after consent is withdrawn, nothing is kept but the alert, without their words."""
    category = EVENT_CATEGORY.get(finding.outcome, finding.outcome)
    if turn.patient.consent == "withdrawn":
        return alert and alerts.raise_alert(turn.session, turn.patient, category, turn.now) is not None
    if turn.patient.consent != "given":
        return False
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
    return alert and alerts.raise_alert(turn.session, turn.patient, category, turn.now, words=turn.text) is not None


def crisis(turn: "Turn", finding: Finding) -> None:
    _record(turn, finding)
    turn.state.paused = True
    text = helplines.crisis_text(country_of(turn), turn.patient.clinic.settings)
    if plan := plan_text(PLAN, turn.session.get(SafetyPlan, turn.patient.id)):
        text += "\n\n" + _("Your safety plan:") + "\n\n" + plan
    turn.say(text + "\n\n" + _("Our coaching is paused. When you feel ready, tap Continue."), [Choice(RESUME, _("Continue"))], action=RESUME)
    _urgent(turn)


def resources_once(turn: "Turn") -> None:
    """Crisis words where they are the answer (a safety plan's warning signs): the lines, once."""
    if not turn.state.data.get("resources_shown"):
        turn.state.data = {**turn.state.data, "resources_shown": True}
        lines = [_("If any of this is happening now, please reach out:"), *helplines.resource_lines(country_of(turn), turn.patient.clinic.settings)]
        turn.say("\n".join(lines))
        _urgent(turn)


def _urgent(turn: "Turn") -> None:
    """The message just said answers a crisis, a red flag or a disclosure: a transport never drops
    it, not even among a flood's replies (bot/flood.py)."""
    turn.outputs[-1] = replace(turn.outputs[-1], urgent=True)


def still_paused(turn: "Turn") -> None:
    lines = [
        _("I'm still here. If things feel too much, please reach out now:"),
        *helplines.resource_lines(country_of(turn), turn.patient.clinic.settings),
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
    number = helplines.emergency_number(country_of(turn), turn.patient.clinic.settings)
    turn.say(helplines.red_flag_text(number, emergency=finding.outcome == outcomes.RED_FLAG_EMERGENCY))
    _urgent(turn)


HELD = "_held_answer"  # in the dialog's data: the message that prompted the direct question
ASKED_AT = "_direct_question_at"  # in the dialog's data: the step at which the direct question is open


def direct_question_open(turn: "Turn", button: str | None = None) -> bool:
    """Asked at this step and not answered: once the dialog moves on, it is closed like any other.
    With a button's value ("<step>:<answer>"): and that button belongs to this asking of it."""
    if turn.state.data.get(ASKED_AT) != turn.state.step:
        return False
    return button is None or button.partition(":")[0] == str(turn.state.step)


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
        *helplines.resource_lines(country_of(turn), turn.patient.clinic.settings),
    ]
    turn.say(
        "\n".join(lines),
        # Each answer names the step it was asked at: an old question's buttons answer no new one.
        [Choice(f"{turn.state.step}:{value}", label) for value, label in (("yes", _("Yes")), ("unsure", _("Not sure")), ("no", _("No")))],
        columns=3, action=DIRECT,
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
    number = helplines.emergency_number(country_of(turn), turn.patient.clinic.settings)
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
        *helplines.resource_lines(country_of(turn), turn.patient.clinic.settings),
    ]
    turn.say("\n".join(lines))
    _urgent(turn)


def overdose_taken(turn: "Turn", finding: Finding) -> None:
    turn.say(helplines.overdose_taken_text(country_of(turn), turn.patient.clinic.settings))
    _urgent(turn)


def abuse(turn: "Turn", finding: Finding) -> None:
    alerted = _record(turn, finding)
    turn.say(helplines.abuse_text(country_of(turn), turn.patient.clinic.settings, alerted=alerted))
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
    takes_step = bool(found & {outcomes.CRISIS, outcomes.OVERDOSE_TAKEN}) or (
        outcomes.DIRECT_QUESTION in found and not turn.state.paused)
    # The step waits, so a guided exercise playing now stops here, its length recorded (the
    # transport stopped its edits already): after the pause or the question it is not played again.
    held = turn.text if isinstance(event, Text) else None
    if takes_step and not turn.fresh and turn.stop_guide():
        held = None  # what they wrote stopped the exercise: it answers no later step
    if outcomes.OVERDOSE_TAKEN in found:
        overdose_taken(turn, screening.get(outcomes.OVERDOSE_TAKEN))
    if found & {outcomes.CRISIS, outcomes.OVERDOSE_TAKEN}:
        crisis(turn, screening.get(outcomes.OVERDOSE_TAKEN) or screening.get(outcomes.CRISIS))  # recorded as what it is
        _answer_rest(turn, event, screening, skip=outcomes.DANGER)
        return True
    if outcomes.DIRECT_QUESTION in found and not turn.state.paused:
        _answer_rest(turn, event, screening, skip=outcomes.DANGER)
        ask_directly(turn, screening.get(outcomes.DIRECT_QUESTION), held)
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
