"""An ambiguous message gets the gentle direct question; yes or not sure is the crisis path.
A disclosure of disordered eating gets no diet advice, the clinician, and the lines."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from onboard import onboard
from storage.models import Alert, Answer, DialogState, SafetyEvent

AMBIGUOUS = "this pain is killing me and I can't go on like this"
QUESTION = "Sometimes people in a lot of pain have thoughts of ending their life. Is that happening for you?"


def rows(database, model):
    with database.transaction() as session:
        return list(session.scalars(select(model)))


def paused(database) -> bool:
    with database.transaction() as session:
        return session.scalars(select(DialogState)).one().paused


def in_daily_check_in(chat) -> None:
    onboard(chat)
    chat.open("Check in now")
    chat.press("Daily check-in")
    assert "How strong is your pain right now?" in chat.text


def test_an_ambiguous_message_is_asked_about_plainly_and_no_goes_back_to_the_step(chat, database):
    in_daily_check_in(chat)
    chat.say(AMBIGUOUS)
    assert QUESTION in chat.text and chat.buttons == ["Yes", "Not sure", "No"]
    assert rows(database, Answer) == []  # the message is not taken as an answer
    assert [e.category for e in rows(database, SafetyEvent)] == ["ambiguous"] and rows(database, Alert) == []
    chat.press("No")
    assert "Thank you for telling me." in chat.text and "999" in chat.text  # London: the UK's number
    # Back where they were: the message is read as the answer it was written as (not a number here).
    assert "Please send a whole number from 0 to 10." in chat.text and "How strong is your pain right now?" in chat.text
    assert not paused(database)
    chat.press("7")
    assert [a.value for a in rows(database, Answer)] == [7.0]


@pytest.mark.parametrize("reply", ["Yes", "Not sure"])
def test_yes_or_not_sure_is_the_crisis_path_and_alerts_the_clinic(chat, database, reply):
    in_daily_check_in(chat)
    chat.say(AMBIGUOUS)
    chat.press(reply)
    assert "Samaritans" in chat.text and chat.buttons == ["Continue"]
    assert paused(database)
    assert [e.category for e in rows(database, SafetyEvent)] == ["ambiguous", "crisis"]
    assert [a.category for a in rows(database, Alert)] == ["crisis"]


@pytest.mark.parametrize("typed, crisis", [("yes", True), ("not sure", True), ("i don't know", True), ("no estoy segura", True),
                                           ("ich bin mir nicht sicher", True), ("no", False), ("nein", False)])
def test_typed_answers_to_the_direct_question_count(chat, database, typed, crisis):
    in_daily_check_in(chat)
    chat.say(AMBIGUOUS)
    chat.say(typed)
    assert paused(database) is crisis
    assert ("Samaritans" in chat.text) is crisis
    assert rows(database, Answer) == []


def test_after_a_no_the_held_message_answers_the_step_it_was_written_for(chat, database):
    from storage.models import ThoughtRecord

    onboard(chat)
    chat.press("I'm having a flare")
    chat.say("8")
    chat.press("A quick thought-check")
    chat.say("This will never get better")
    assert QUESTION in chat.text
    chat.say("no")
    with database.transaction() as session:
        assert session.scalars(select(ThoughtRecord.thought)).one() == "This will never get better"


def test_an_ambiguous_message_with_a_red_flag_gets_both(chat, database):
    onboard(chat)
    chat.say("I can't go on like this, and since this morning I can't control my bladder")
    assert "needs a doctor" in chat.text and QUESTION in chat.text


def test_a_disclosure_of_disordered_eating_gets_no_diet_advice_but_the_clinician_and_the_lines(chat, database):
    onboard(chat)
    chat.say("I've been making myself throw up after meals to lose weight")
    assert "I can't give advice about food or weight" in chat.text and "Samaritans" in chat.text
    assert "What would you like to do?" in chat.text  # not a pause: the menu goes on
    assert not paused(database)
    assert [a.category for a in rows(database, Alert)] == ["eating_disorder"]


def test_the_direct_question_closes_when_the_patient_goes_on(chat, database):
    in_daily_check_in(chat)
    chat.say(AMBIGUOUS)
    chat.say("7")  # an answer to the check-in instead: they chose to go on
    assert "How many hours did you sleep last night?" in chat.text
    chat.say("yes")  # later, a yes is not an answer to the closed question
    assert not paused(database) and rows(database, Alert) == []
    with database.transaction() as session:
        assert "_held_answer" not in session.scalars(select(DialogState)).one().data


def test_no_button_nagging_after_a_safety_reply_at_the_menu(chat, database):
    onboard(chat)
    chat.say("since this morning I can't control my bladder")
    assert "needs a doctor" in chat.text and "What would you like to do?" in chat.text
    assert "Please choose one of the buttons below." not in chat.text
    chat.say("I can't go on like this")
    chat.press("No")
    assert "Please choose one of the buttons below." not in chat.text and "What would you like to do?" in chat.text
    chat.say("what is this")  # an ordinary message still gets the hint
    assert "Please choose one of the buttons below." in chat.text


def test_after_a_crisis_continue_offers_a_safety_plan_to_someone_without_one(chat, database):
    onboard(chat)
    chat.say("I want to die")
    chat.press("Continue")
    assert "Let's carry on." in chat.text and "writing a safety plan can help" in chat.text


def test_an_old_direct_questions_buttons_answer_no_newer_one(chat, database):
    onboard(chat)
    chat.say(AMBIGUOUS)
    old_yes = chat.last_buttons["Yes"]
    chat.press("No")
    chat.command("menu")  # on to another step
    chat.say(AMBIGUOUS)
    assert QUESTION in chat.text
    new_yes = chat.last_buttons["Yes"]
    chat.last_buttons["old yes"] = old_yes
    chat.press("old yes")
    assert "This button has expired." in chat.text and not paused(database)
    chat.last_buttons["new yes"] = new_yes
    chat.press("new yes")  # the question on screen still takes its own answer
    assert paused(database) and [a.category for a in rows(database, Alert)] == ["crisis"]
