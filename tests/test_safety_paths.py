"""No path into the engine bypasses the safety screen: every state, every kind of input."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dialogs.io import Command, Edited, Media, Text
from storage.models import Clinic, DialogState, PainStory, Patient, SafetyEvent

CRISIS = "honestly I just want to die"
RED_FLAG = "since this morning I can't control my bladder"


def events(database) -> list[SafetyEvent]:
    with database.transaction() as session:
        return list(session.scalars(select(SafetyEvent)))


def state(database) -> tuple[str, str, bool]:
    with database.transaction() as session:
        row = session.scalars(select(DialogState)).one()
        return row.dialog, row.state, row.paused


def go_to(chat, where: str) -> None:
    """Walk a new patient to a named point of onboarding or the menu."""
    steps = [
        ("language", lambda: chat.command("start")),
        ("about", lambda: chat.press("English")),
        ("consent", lambda: chat.press("Continue")),
        ("age", lambda: chat.press("Yes, I agree")),
        ("timezone", lambda: chat.press("Yes, I'm 18 or older")),
        ("confirm", lambda: chat.press("London")),
        ("name", lambda: chat.press("Yes, that's right")),
        ("story", lambda: chat.say("Sam")),
        ("menu", lambda: [chat.say("back") for _ in range(5)]),
    ]
    for name, step in steps:
        step()
        if name == where:
            return
    raise ValueError(where)


POINTS = ["language", "about", "consent", "age", "timezone", "confirm", "name", "story", "menu"]


@pytest.mark.parametrize("where", POINTS)
@pytest.mark.parametrize(
    "make", [Text, Edited, lambda t: Media("photo", t), lambda t: Command("start", t)], ids=["text", "edit", "caption", "command"]
)
def test_crisis_language_pauses_every_state_on_every_path(chat, database, where, make):
    go_to(chat, where)
    before = state(database)
    chat.event(make(CRISIS))
    assert "you don't have to carry this alone" in chat.text
    assert "Emergency:" in chat.text
    assert chat.buttons == ["Continue"]
    assert state(database) == (*before[:2], True)
    if POINTS.index(where) <= POINTS.index("consent"):
        assert events(database) == []  # answered, but nothing is recorded before consent
    else:
        [event] = events(database)
        assert event.category == "crisis" and event.phrase and CRISIS not in event.phrase

    chat.say("ok")  # anything else while paused: still here, resources again
    assert "I'm still here" in chat.text and state(database)[2] is True
    chat.press("Continue")
    assert "Let's carry on." in chat.text
    assert state(database) == (*before[:2], False)


def test_crisis_text_is_not_recorded_as_an_answer(chat, database):
    go_to(chat, "story")
    chat.say("I keep thinking about killing myself")
    with database.transaction() as session:
        assert session.scalars(select(PainStory)).first() is None


def test_the_first_message_of_a_new_patient_is_screened(chat, database):
    chat.say("I want to kill myself")
    assert "you don't have to carry this alone" in chat.text
    assert events(database) == []  # answered; before consent nothing about them is recorded


def test_resources_follow_the_patients_country(new_chat, database):
    berlin = new_chat("7001")
    go_to(berlin, "timezone")
    berlin.say("Berlin")
    berlin.press("Yes, that's right")
    berlin.say(CRISIS)
    assert "TelefonSeelsorge: call 0800 111 0 111" in berlin.text and "Emergency: 112" in berlin.text
    assert "988" not in berlin.text

    american = new_chat("7002", "en-US")  # before any time zone: the language code's country
    american.say(CRISIS)
    assert "988 Suicide & Crisis Lifeline: call or text 988" in american.text and "Emergency: 911" in american.text

    unknown = new_chat("7003", "en")  # no country at all: the lines of English-speaking countries, named
    unknown.say(CRISIS)
    assert "United Kingdom: Samaritans: call 116 123" in unknown.text and "Australia: Lifeline: call 13 11 14" in unknown.text
    assert "Spain" not in unknown.text
    # Each named country's own emergency number, not 112 for all.
    assert "Emergency: 911 (United States, Canada) · 999 (United Kingdom) · 000 (Australia) · 112 (Ireland)" in unknown.text


def test_a_clinic_can_set_its_own_crisis_lines(new_chat, database):
    with database.transaction() as session:
        clinic = session.scalars(select(Clinic)).one()
        clinic.settings = {"crisis_resources": {"US": {"emergency": "911", "lines": [{"name": "Our on-call nurse", "phone": "555 0100"}]}}}
    patient = new_chat("7004", "en-US")
    patient.say(CRISIS)
    assert "Our on-call nurse: call 555 0100" in patient.text and "988" not in patient.text


def test_a_red_flag_gets_urgent_care_advice_and_the_answer_is_kept(chat, database):
    go_to(chat, "story")
    chat.say(RED_FLAG)
    assert "needs a doctor" in chat.text
    assert "Since when" in chat.text  # the step went on
    with database.transaction() as session:
        assert session.scalars(select(PainStory)).one().where_it_hurts == RED_FLAG
        assert session.scalars(select(Patient)).one().onboarded_at is None
    assert [e.category for e in events(database)] == ["red_flag"]


def test_near_misses_are_coached_as_usual(chat, database):
    go_to(chat, "story")
    chat.say("My back is killing me today")
    assert "Since when" in chat.text
    assert events(database) == []


def test_crisis_words_after_a_command_on_the_next_line_are_screened(chat, database):
    chat.command("start")
    chat.event(Command.parse("/help\nI want to kill myself"))
    assert "you don't have to carry this alone" in chat.text
    chat.event(Command.parse("/menu\u00a0I want to kill myself"))  # a non-breaking space
    assert "you don't have to carry this alone" in chat.text


def test_a_pause_is_left_only_by_continue_or_a_navigation_command(chat, database):
    go_to(chat, "name")
    chat.say(CRISIS)
    old_continue = chat.last_buttons["Continue"]
    chat.command("help")
    assert "/menu" in chat.text and "I'm still here" in chat.text  # help, then still the pause
    chat.command("nonsense")
    assert state(database)[2] is True
    chat.event(Media("sticker"))
    assert "I'm still here" in chat.text and state(database)[2] is True
    chat.command("cancel")
    assert state(database)[2] is False
    chat.last_buttons["old"] = old_continue
    chat.press("old")
    assert "This button has expired." in chat.text


def test_a_malformed_clinic_setting_never_blocks_the_crisis_reply(new_chat, database):
    with database.transaction() as session:
        clinic = session.scalars(select(Clinic)).one()
        clinic.settings = {"crisis_resources": {"US": {"lines": [{"name": "no phone"}]}, "GB": "nonsense"}}
    patient = new_chat("7010", "en-US")
    patient.say(CRISIS)
    assert "988 Suicide & Crisis Lifeline: call or text 988" in patient.text and "Emergency: 911" in patient.text


def test_opening_a_dialog_twice_does_not_stack_it(chat, database):
    go_to(chat, "name")
    chat.command("language")
    chat.command("language")
    chat.command("language")
    chat.press("English")
    assert chat.texts[-1] == "What would you like me to call you?"
    with database.transaction() as session:
        row = session.scalars(select(DialogState)).one()
        assert (row.dialog, row.state, row.stack) == ("onboarding", "name", [])
