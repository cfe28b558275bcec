"""Input that means something else: a typed label is its button, wherever a button is shown;
what is not the current question's label stays the patient's own words."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from onboard import onboard
from storage.models import Answer, Patient, Response, VisitPrep

START = {"en": ("English", "Continue"), "es": ("Español", "Continuar"), "de": ("Deutsch", "Weiter")}
AGREE = {"en": "Yes, I agree", "es": "Sí, acepto", "de": "Ja, einverstanden"}
ADULT = {"en": "Yes, I'm 18 or older", "es": "Sí, tengo 18 o más", "de": "Ja, ich bin 18 oder älter"}


def patient(database, external_id: str) -> Patient:
    with database.transaction() as session:
        return session.scalars(select(Patient).where(Patient.external_id == external_id)).one()


def to_consent(chat, language: str) -> None:
    chat.command("start")
    for label in START[language]:
        chat.press(label)


@pytest.mark.parametrize("language, typed", [("en", "Yes"), ("en", "yes"), ("en", "YES "), ("en", "Yes!"),
                                             ("es", "Sí"), ("es", "si"), ("es", " SÍ."), ("de", "Ja"), ("de", "ja")])
def test_yes_typed_on_a_yes_no_question_is_the_yes_button(new_chat, database, language, typed):
    pressing, typing = new_chat("7001", language), new_chat("7002", language)
    to_consent(pressing, language)
    pressing.press(AGREE[language])
    pressing.press(ADULT[language])
    to_consent(typing, language)
    typing.say(typed)  # consent
    typing.say(typed)  # 18 or older
    pressed, typed_row = patient(database, "7001"), patient(database, "7002")
    assert (typed_row.consent, typed_row.adult) == (pressed.consent, pressed.adult) == ("given", True)
    assert typing.texts[-1] == pressing.texts[-1]  # both on to the time zone, alike


@pytest.mark.parametrize("typed", ["Yes", "yes", "YES ", "✅ yes"])
def test_yes_typed_in_a_check_in_stores_what_the_button_stores(new_chat, database, typed):
    values = []
    for external_id, answer in (("7101", None), ("7102", typed)):
        chat = new_chat(external_id)
        onboard(chat)
        chat.open("Check in now")
        chat.press("Daily check-in")
        chat.press("4")
        for _ in range(3):
            chat.press("Skip")
        assert "Did you pace your activities yesterday" in chat.text
        chat.press("Yes") if answer is None else chat.say(answer)
        assert "that's your check-in done" in chat.text
        with database.transaction() as session:
            row = session.scalars(select(Answer).join(Response, Answer.response_id == Response.id).where(
                Answer.item_id == "pacing_followed", Response.patient_id == patient(database, external_id).id)).one()
            values.append((row.value, row.skipped))
    assert values[0] == values[1] == (2.0, False)


def test_a_label_of_another_question_is_not_a_press(chat, database):
    onboard(chat)
    chat.say("Yes, I agree")  # consent's button, long gone: the menu asks for its own buttons
    assert "Please choose one of the buttons below." in chat.text
    assert patient(database, "1001").consent == "given"
    chat.open("Prepare for a visit")
    chat.say("Skip this question")  # this question's own button: a skip
    chat.say("Check in now")  # a menu label, typed here: the patient's words
    chat.say("Skip")  # the start of this question's button
    assert "Is a treatment being considered" in chat.text
    chat.say("No, but I want to ask about surgery")  # beside a "No treatment…" button: still their words
    with database.transaction() as session:
        row = session.scalars(select(VisitPrep)).one()
        assert (row.changes, row.goals, row.questions, row.treatment) == (
            None, "Check in now", None, "No, but I want to ask about surgery")


def test_a_bare_no_on_the_treatment_question_is_its_no_button(chat, database):
    onboard(chat)
    chat.open("Prepare for a visit")
    for _ in range(3):
        chat.press("Skip this question")
    chat.say("no")  # "No treatment is being considered": the start of the label
    with database.transaction() as session:
        assert session.scalars(select(VisitPrep)).one().treatment is None


@pytest.mark.parametrize("typed", ["seit 3 Tagen schlimmer", "did 5 minutes", "peor desde hace 2 días", "worse for 2 weeks"])
def test_a_span_of_time_typed_on_a_0_to_10_scale_is_no_rating(typed):
    # "seit 3 Tagen schlimmer" at "how strong is the pain" was stored as a pain of 3.
    from content.instruments import Item
    from dialogs.answers import read_value
    from dialogs.base import Answer

    scale = Item(id="pain", text="", kind="scale", minimum=0, maximum=10)
    assert read_value(scale, Answer(text=typed)) is None
    assert read_value(scale, Answer(text="7, worse since Friday")) == 7  # a rating with words after it still counts
    hours = Item(id="sleep_hours", text="", kind="number", minimum=0, maximum=24)
    assert read_value(hours, Answer(text="7 hours")) == 7  # a number item asked in hours keeps its unit
