"""The grouped menu: "I'm having a flare" and the groups at the top, a group's tools with a Back;
typed tool names and the old one-list menu's buttons still open their tools."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.sender import Sender
from bot.telegram import build_application
from conftest import NOW
from dialogs.engine import Engine
from dialogs.io import Press
from dialogs.menu import GROUPS, TOOLS
from onboard import onboard
from phone import Phone
from storage.models import DialogState, Patient
from test_telegram import running

# The old one-list menu's values in their places, as patients may still have it on screen.
OLD_MENU = ["checkin", "progress", "breathing", "pacing", "flare", "thoughts", "flareplan", "sprint", "visit", "safetyplan",
            "schedule", "story", "language", "timezone"]

TOP = {
    "en": ["I'm having a flare", "Calm now", "Plan and pace", "Learn", "My numbers", "Settings"],
    "es": ["Tengo un brote de dolor", "Calmarme ahora", "Planificar y dosificar", "Aprender", "Mis números", "Ajustes"],
    "de": ["Ich habe einen Schmerzschub", "Jetzt zur Ruhe kommen", "Planen und einteilen", "Lernen", "Meine Zahlen", "Einstellungen"],
}
WORDS = {  # the first screen's question, a group's, its tools and Back, and "My small wins" with none yet
    "en": ("What would you like to do?", "Calm now: what would you like to do?", ["Breathing exercise", "Muscle relaxation", "Mindfulness", "Thought-check", "Back"],
           "My small wins", "No small wins noted yet"),
    "es": ("¿Qué te gustaría hacer?", "Calmarme ahora: ¿qué te gustaría hacer?", ["Ejercicio de respiración", "Relajación muscular", "Atención plena", "Revisar un pensamiento", "Volver"],
           "Mis pequeños logros", "Todavía no hay pequeños logros anotados"),
    "de": ("Was möchten Sie tun?", "Jetzt zur Ruhe kommen: Was möchten Sie tun?", ["Atemübung", "Muskelentspannung", "Achtsamkeit", "Gedanken hinterfragen", "Zurück"],
           "Meine kleinen Erfolge", "Noch keine kleinen Erfolge notiert"),
}


def at_the_menu(database, telegram_id: int, language: str) -> None:
    """An onboarded patient who speaks `language`, at the menu."""
    with database.transaction() as session:
        patient = Patient(clinic_id=database.default_clinic(session).id, channel="telegram", external_id=str(telegram_id), consent="given",
                          timezone="Europe/Madrid", language=language, onboarded_at=NOW, preferred_name="P", adult=True)
        session.add(patient)
        session.flush()
        session.add(DialogState(patient_id=patient.id, dialog="menu", state="main", data={}, stack=[], step=1))


def buttons_of_last(emulator, user_id: int) -> list[str]:
    return [label for label, _data in emulator.buttons(emulator.last_message(user_id))]


@pytest.mark.parametrize("language", ["en", "es", "de"])
async def test_the_grouped_menu_on_telegram(emulator, database, database_url, language):
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(database), sender=Sender(per_chat_interval=0.05))
    at_the_menu(database, 6001, language)
    question, calm_question, calm_tools, wins_label, no_wins = WORDS[language]
    async with running(app, database):
        phone = Phone(emulator, 6001, language)
        phone.send("/menu")
        await phone.expect(question)
        assert buttons_of_last(emulator, 6001) == TOP[language]

        phone.press(TOP[language][1])
        await phone.expect(calm_question)
        assert buttons_of_last(emulator, 6001) == calm_tools
        phone.press(calm_tools[-1])  # Back
        await phone.expect(question)
        assert buttons_of_last(emulator, 6001) == TOP[language]

        phone.press(TOP[language][4])
        await emulator.until(lambda: wins_label in buttons_of_last(emulator, 6001))
        phone.press(wins_label)
        await phone.expect(no_wins)
        await phone.expect(question)  # and the menu again, under it
        assert buttons_of_last(emulator, 6001) == TOP[language]


def test_every_tool_sits_in_one_place_and_every_group_has_a_back(chat):
    onboard(chat)
    placed = [tool for group in GROUPS.values() for tool in group.tools] + ["flare"]
    assert sorted(placed) == sorted(TOOLS) and len(placed) == len(set(placed))
    for group in GROUPS.values():
        chat.command("menu")
        chat.press(group.label)
        assert chat.buttons == [TOOLS[tool].label for tool in group.tools] + ["Back"]
        chat.press("Back")
        assert "What would you like to do?" in chat.text and chat.buttons[0] == "I'm having a flare"


def test_the_flare_is_one_press_away(chat):
    onboard(chat)
    chat.press("I'm having a flare")
    assert "How strong is the pain right now, from 0 to 10?" in chat.text, chat.text


@pytest.mark.parametrize("typed, opens", [("Check-in times", "check-in"), ("my small wins", "No small wins noted yet"),
                                           ("Breathing exercise", "Which breathing exercise")])
def test_a_tool_typed_at_the_first_screen_opens_it_wherever_it_sits(chat, typed, opens):
    onboard(chat)
    chat.say(typed)
    assert opens in chat.text, chat.text


def test_words_that_are_no_tool_still_get_the_buttons_asked_for(chat):
    onboard(chat)
    chat.say("hello there")
    assert "Please choose one of the buttons below." in chat.text and chat.buttons[0] == "I'm having a flare"
    chat.command("progress")  # commands as before
    assert "progress" in chat.text.lower()


def old_button(chat, database, value: str, step: int | None = None) -> Press:
    """A press on the old one-list menu's button for `value`, signed as it was when it was shown."""
    engine = chat.engine
    with database.transaction() as session:
        state = session.scalars(select(DialogState)).one()
        patient_id, current = state.patient_id, state.step
    button = engine.signer.step(patient_id, current if step is None else step, OLD_MENU.index(value), value)
    return Press(button, 1, "What would you like to do?", (button,))  # the old message, as Telegram reports its buttons


@pytest.mark.parametrize("value, opens", [("breathing", "Which breathing exercise"), ("checkin", "Which check-in"),
                                          ("timezone", "time zone"), ("progress", "progress"), ("story", "Your pain story:")])
def test_a_button_of_the_old_one_list_menu_still_opens_its_tool(chat, database, value, opens):
    onboard(chat)
    chat.event(old_button(chat, database, value))
    assert "This button has expired" not in chat.text
    assert opens.lower() in chat.text.lower(), chat.text


def test_an_old_menu_button_from_an_earlier_step_gets_a_kind_reply_and_the_menu(chat, database):
    onboard(chat)
    stale = old_button(chat, database, "breathing")
    chat.press("Calm now")  # the patient moved on: that step is over
    chat.event(stale)
    assert "This button has expired." in chat.text and "Calm now: what would you like to do?" in chat.text


def test_an_old_button_answers_only_for_the_tool_it_was_signed_for(chat, database):
    onboard(chat)
    with database.transaction() as session:
        state = session.scalars(select(DialogState)).one()
    forged = chat.engine.signer.step(state.patient_id, state.step, OLD_MENU.index("breathing"), "not-a-tool")
    chat.event(Press(forged, 1, "What would you like to do?", (forged,)))
    assert "This button has expired." in chat.text and "Which breathing exercise" not in chat.text
