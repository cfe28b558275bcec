"""Onboarding through the engine, branch by branch, asserting on what the patient sees and what is stored."""
from __future__ import annotations

from sqlalchemy import func, select

from dialogs.io import Media
from storage.models import DialogState, PainStory, Patient


def patient_row(database, external_id="1001") -> Patient:
    with database.transaction() as session:
        return session.scalars(select(Patient).where(Patient.external_id == external_id)).one()


def dialog_row(database, external_id="1001") -> DialogState:
    with database.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.external_id == external_id)).one()
        return session.get(DialogState, patient.id)


def walk_to_timezone(chat) -> None:
    chat.command("start")
    chat.press("English")
    chat.press("Continue")
    chat.press("Yes, I agree")
    chat.press("Yes, I'm 18 or older")


def walk_to_name(chat) -> None:
    walk_to_timezone(chat)
    chat.press("London")
    chat.press("Yes, that's right")


def test_new_patient_reaches_the_menu(chat, database):
    chat.command("start")
    assert "Which language" in chat.text
    assert chat.buttons == ["English", "Español", "Deutsch"]

    chat.press("English")
    assert "not a doctor and not an emergency service" in chat.text
    assert "never give advice about medication" in chat.text
    assert "clinic's team can see your answers" in chat.text
    chat.press("Continue")
    assert "Do you agree" in chat.text
    chat.press("Yes, I agree")
    assert "18 or older" in chat.text
    chat.press("Yes, I'm 18 or older")
    assert "Which time zone" in chat.text
    assert "London" in chat.buttons and "New York" in chat.buttons
    chat.press("London")
    # 13:05 UTC on 28 November is 13:05 in London: the local time is shown to confirm.
    assert "In London it is now 13:05, Saturday, 28 November 2026." in chat.text
    chat.press("Yes, that's right")
    assert "What would you like me to call you?" in chat.text
    chat.say("  Maria  ")
    assert "Nice to meet you, Maria." in chat.text
    assert chat.texts[-1].startswith("Where does it hurt?")
    chat.say("Lower back, and my left leg")
    assert "Since when" in chat.text
    chat.say("Since a fall in 2021")
    chat.press("Skip this question")
    assert "What have you tried" in chat.text
    chat.say("Physiotherapy helped a bit")
    chat.say("Walking the dog for half an hour")
    assert "Thank you, Maria" in chat.text
    assert "What would you like to do?" in chat.texts[-1]
    assert chat.buttons == ["I'm having a flare", "Calm now", "Plan and pace", "Learn", "My numbers", "Settings"]

    patient = patient_row(database)
    assert (patient.language, patient.consent, patient.adult) == ("en", "given", True)
    assert patient.timezone == "Europe/London"
    assert patient.preferred_name == "Maria"
    assert patient.onboarded_at is not None
    with database.transaction() as session:
        story = session.get(PainStory, patient.id)
        assert story.where_it_hurts == "Lower back, and my left leg"
        assert story.since_when == "Since a fall in 2021"
        assert story.what_makes_it_worse is None  # skipped, not an empty answer
        assert story.good_day == "Walking the dog for half an hour"
    assert dialog_row(database).dialog == "menu"

    chat.open("My pain story")
    assert "Lower back, and my left leg" in chat.text and "(skipped)" in chat.text


def test_start_again_never_duplicates_a_patient(chat, database):
    walk_to_name(chat)
    chat.command("start")
    assert "What would you like me to call you?" in chat.text  # resumes where they were
    chat.command("start")
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 1


def test_declining_consent_keeps_nothing_but_the_language(chat, database):
    chat.command("start")
    chat.press("English")
    chat.press("Continue")
    chat.press("No, thank you")
    assert "I keep nothing about you except your language choice" in chat.text
    patient = patient_row(database)
    assert patient.consent == "refused"
    assert (patient.timezone, patient.preferred_name, patient.adult) == (None, None, None)

    chat.command("timezone")
    assert "right after you've agreed" in chat.text
    chat.command("start")
    assert "Do you agree" in chat.text
    chat.press("Yes, I agree")
    assert patient_row(database).consent == "given"


def test_under_18_is_not_coached(chat, database):
    chat.command("start")
    chat.press("English")
    chat.press("Continue")
    chat.press("Yes, I agree")
    chat.press("No")
    assert "made for adults" in chat.text
    chat.say("please")
    assert "Please choose one of the buttons" in chat.text and "made for adults" in chat.text
    assert patient_row(database).adult is False
    chat.press("I am 18 or older")
    assert "Are you 18 or older?" in chat.text


def test_timezone_from_a_typed_city_in_any_language(chat, database):
    walk_to_timezone(chat)
    chat.say("  WIEN ")  # Vienna, in German
    assert "In Vienna it is now 14:05" in chat.text
    chat.press("Yes, that's right")
    assert patient_row(database).timezone == "Europe/Vienna"


def test_a_town_too_small_for_the_city_index_is_found_by_its_country(chat, database):
    walk_to_timezone(chat)
    chat.say("Oberammergau")  # some 5,000 people
    assert "Which country are you in?" in chat.text
    chat.say("Deutschland")
    assert "Berlin" in chat.buttons  # and Büsingen, Germany's other zone
    chat.press("Berlin")
    assert "In Berlin it is now 14:05" in chat.text
    chat.press("Yes, that's right")
    assert patient_row(database).timezone == "Europe/Berlin"


def test_timezone_from_the_country_when_the_city_is_unknown(chat, database):
    walk_to_timezone(chat)
    chat.say("Villarriba del Monte")
    assert "Which country are you in?" in chat.text
    chat.say("Narnia")
    assert "I don't know that country" in chat.text
    chat.say("spain")
    assert "closest to you" in chat.text
    assert sorted(chat.buttons) == ["Canaries", "Ceuta", "Choose again", "Madrid"]
    chat.say("Guadalajara")
    assert "Please choose the one closest to you" in chat.text
    chat.press("Madrid")
    chat.press("No, choose again")
    assert "Which time zone" in chat.text
    chat.say("Madrid")
    chat.press("Yes, that's right")
    assert patient_row(database).timezone == "Europe/Madrid"


def test_typos_and_everyday_country_names_are_understood(chat, database):
    walk_to_timezone(chat)
    chat.say("londn")
    assert "In London it is now" in chat.text
    chat.press("No, choose again")
    chat.say("Little Snoring")
    assert "I couldn't find that city." in chat.text and "Which country are you in?" in chat.text
    chat.say("no")  # a word, not Norway's code
    assert "I don't know that country" in chat.text
    chat.say("UK")
    assert "In London it is now" in chat.text
    chat.press("Yes, that's right")
    assert "Saved: your time zone is London." in chat.text


def test_text_where_a_button_is_expected_asks_again(chat, database):
    chat.command("start")
    chat.press("English")
    chat.say("hmm, what is this?")
    assert "Please choose one of the buttons below." in chat.text
    assert chat.buttons == ["Continue"]
    assert dialog_row(database).state == "about"


def test_typing_a_buttons_label_counts_as_pressing_it(chat, database):
    chat.command("start")
    chat.say("español")
    assert patient_row(database).language == "es"
    assert dialog_row(database).state == "about"


def test_expired_forged_and_foreign_buttons_change_nothing(chat, new_chat, database):
    chat.command("start")
    old_english = chat.last_buttons["English"]
    chat.press("English")
    chat.last_buttons["old"] = old_english
    chat.press("old")
    assert "This button has expired." in chat.text
    assert dialog_row(database).state == "about"

    chat.last_buttons["forged"] = ("not-a-button", 1)
    chat.press("forged")
    assert "This button has expired." in chat.text

    other = new_chat("2002")
    other.command("start")
    chat.last_buttons["theirs"] = other.last_buttons["Deutsch"]
    chat.press("theirs")
    assert "This button has expired." in chat.text
    assert patient_row(database, "2002").language == "en"
    assert dialog_row(database, "2002").state == "choose"


def test_a_button_pressed_on_another_message_is_refused(chat, database):
    chat.command("start")
    button_id, message_id = chat.last_buttons["English"]
    chat.last_buttons["moved"] = (button_id, message_id + 5)
    chat.press("moved")
    assert "This button has expired." in chat.text


def test_the_same_update_twice_is_applied_once(chat, database):
    walk_to_name(chat)
    chat.say("Maria")
    chat.say("Lower back", update_id=500)
    assert "Since when" in chat.text
    chat.say("Lower back", update_id=500)
    assert chat.texts == []  # its reply went out the first time (or waits in the outbox): not twice
    assert dialog_row(database).state == "story_since"


def test_commands_work_in_any_state(chat, database):
    walk_to_name(chat)
    chat.command("help")
    assert "/menu" in chat.text and "not an emergency service" in chat.text
    assert chat.texts[-1] == "What would you like me to call you?"
    chat.command("menu")
    assert "finish setting up first" in chat.text
    chat.command("frobnicate")
    assert "I don't know that command" in chat.text
    chat.command("cancel")
    assert "nothing to cancel" in chat.text

    chat.command("language")
    assert "Which language" in chat.text
    chat.press("Deutsch")
    assert patient_row(database).language == "de"
    assert dialog_row(database).state == "name"
    chat.command("language")
    chat.command("cancel")
    assert dialog_row(database).dialog == "onboarding" and dialog_row(database).state == "name"

    chat.command("timezone")
    chat.command("cancel")
    assert dialog_row(database).state == "name"
    assert patient_row(database).timezone == "Europe/London"


def test_media_and_edits_get_a_kind_reply(chat, database):
    walk_to_name(chat)
    chat.event(Media("sticker"))
    assert "I can only read text" in chat.text
    assert chat.texts[-1] == "What would you like me to call you?"
    from dialogs.io import Edited

    chat.event(Edited("Mariah"))
    assert "I keep answers as you first sent them" in chat.text
    assert patient_row(database).preferred_name is None


def test_a_very_long_message_is_kept_whole(chat, database):
    walk_to_name(chat)
    chat.say("Maria")
    long_text = "It hurts when I sit. " * 500  # 10,500 characters
    chat.say(long_text)
    assert "Since when" in chat.text
    with database.transaction() as session:
        assert session.get(PainStory, patient_row(database).id).where_it_hurts == long_text.strip()


def test_a_name_that_is_too_long_is_asked_again(chat, database):
    walk_to_name(chat)
    chat.say("x" * 200)
    assert "a bit long for a name" in chat.text
    assert patient_row(database).preferred_name is None


def test_language_follows_telegram_language_code(new_chat, database):
    spanish = new_chat("3003", "es-MX")
    spanish.command("start")
    assert "¿Qué idioma" in spanish.text
    german = new_chat("3004", "de-AT")
    german.command("start")
    assert "Welche Sprache" in german.text
    unknown = new_chat("3005", "pt-br")
    unknown.command("start")
    assert "Which language" in unknown.text


def test_answers_typed_the_way_people_type_them(chat, database):
    chat.command("start")
    chat.say("english")
    chat.say("ok")  # Continue
    assert "Do you agree" in chat.text
    chat.say("yes")  # "Yes, I agree"
    assert "Are you 18 or older?" in chat.text
    chat.say("Yeah, I'm 64.")
    assert "Which time zone" in chat.text
    chat.say("London")
    chat.say("yes thats right")
    chat.say("My name is Maria.")
    assert "Nice to meet you, Maria." in chat.text
    chat.say("?")
    assert "A few words in your own way are enough" in chat.text and "Where does it hurt?" in chat.text
    chat.say("skip")
    assert "Since when" in chat.text
    with database.transaction() as session:
        assert session.get(PainStory, patient_row(database).id).where_it_hurts is None


def test_spanish_and_german_yes_and_no(new_chat, database):
    maria = new_chat("4001", "es")
    maria.command("start")
    maria.press("Español")
    maria.press("Continuar")
    maria.say("si acepto")
    assert patient_row(database, "4001").consent == "given"
    anna = new_chat("4002", "de")
    anna.command("start")
    anna.press("Deutsch")
    anna.press("Weiter")
    anna.say("Nein, danke. Ich möchte zuerst mit meinem Arzt sprechen.")
    assert patient_row(database, "4002").consent == "refused"
