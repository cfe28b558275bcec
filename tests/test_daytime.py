"""Times of day as patients type them: a bare hour ("7") is asked, morning or evening, at every
question that asks a time; what says which half of the day it is keeps working."""
from __future__ import annotations

from io import StringIO

import pytest
from sqlalchemy import select

import locales

from dialogs.daytime import BareHour, read_range, read_time
from onboard import onboard
from storage import open_database
from storage.models import Patient, Schedule


@pytest.mark.parametrize("typed, hhmm", [
    ("19", "19:00"), ("07:30", "07:30"), ("7:30", "07:30"), ("7.30", "07:30"), ("07", "07:00"), ("0", "00:00"), ("13", "13:00"),
    ("23", "23:00"), ("7pm", "19:00"), ("7 am", "07:00"), ("7 a.m.", "07:00"), ("7 P.M.", "19:00"), ("12 am", "00:00"),
    ("12 pm", "12:00"), ("19h", "19:00"), ("19h30", "19:30"), ("20 Uhr", "20:00"), ("7 Uhr abends", "19:00"),
    ("um 7 Uhr am Abend", "19:00"), ("7 in the evening", "19:00"), ("7 de la tarde", "19:00"), ("a las 7 de la mañana", "07:00"),
    ("11 at night", "23:00"), ("2 at night", "02:00"), ("8 pm", "20:00"),
])
def test_times_that_say_which_half_of_the_day(typed, hhmm):
    assert read_time(typed) == hhmm


@pytest.mark.parametrize("typed, hour", [("7", 7), ("7h", 7), ("7 Uhr", 7), (" 7 ", 7), ("7 o'clock", 7), ("12", 12), ("1", 1), ("seven", 7)])
def test_a_bare_hour_is_neither_half(typed, hour):
    assert read_time(typed) == BareHour(hour)


@pytest.mark.parametrize("typed", ["24", "7 cats", "7 30", "25:00", "half 10:30", "seven eight", "-0", "+7", "1e309", "10⁹", "7,5", "19 am", ""])
def test_what_is_no_time_of_day(typed):
    assert read_time(typed) is None


@pytest.mark.parametrize("typed, hhmm", [
    ("quarter to 12 pm", "11:45"), ("quarter to 12 am", "23:45"), ("quarter to 7 am", "06:45"), ("quarter to 1 pm", "12:45"),
    ("quarter to 1 am", "00:45"), ("quarter past 12 am", "00:15"), ("half past 12 pm", "12:30"), ("quarter to 12 at night", "23:45"),
])
def test_am_and_pm_belong_to_the_hour_named_before_the_quarter_is_taken_off(typed, hhmm):
    assert read_time(typed) == hhmm


@pytest.mark.parametrize("language, typed, read", [
    ("en", "at once", None), ("en", "elf", None), ("en", "diez", None), ("en", "eleven", BareHour(11)),
    ("es", "a las once", BareHour(11)), ("es", "eleven", None), ("es", "zehn", None),
    ("de", "um elf", BareHour(11)), ("de", "once", None), ("de", "ten", None),
])
def test_hours_in_words_are_read_only_in_the_patients_language(language, typed, read):
    with locales.use(language):
        assert read_time(typed) == read


def test_ranges_of_quiet_hours():
    assert read_range("22:00-07:00") == ("22:00", "07:00")
    assert read_range("10 pm to 7 am") == read_range("22 a 7 am") == read_range("22 bis 7 Uhr morgens") == ("22:00", "07:00")
    assert read_range("7 a.m. - 8 a.m.") == ("07:00", "08:00")
    assert read_range("22-7") == ("22:00", BareHour(7))
    assert read_range("nonsense") is None


def schedules(database, external_id: str = "1001") -> dict[str, str]:
    with database.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.external_id == external_id)).one()
        return {row.instrument: row.local_time for row in session.scalars(select(Schedule).where(Schedule.patient_id == patient.id))}


def quiet_hours(database, external_id: str = "1001") -> tuple[str | None, str | None]:
    with database.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.external_id == external_id)).one()
        return patient.quiet_start, patient.quiet_end


def to_the_time_question(chat, which: str) -> None:
    chat.command("menu")
    chat.open("Check-in times")
    if which == "weekly":
        chat.press("Weekly day and time")
        chat.press("Friday")
    else:
        chat.press("Daily time")


@pytest.mark.parametrize("which", ["daily", "weekly"])
def test_a_bare_hour_for_a_check_in_is_asked_morning_or_evening(chat, database, which):
    onboard(chat, zone_button="New York")  # 12-hour times
    to_the_time_question(chat, which)
    chat.say("7")
    assert "Did you mean 7:00\u202fAM or 7:00\u202fPM?" in chat.text  # (a narrow space, as the locale writes it)
    assert chat.buttons == ["Morning (7:00\u202fAM)", "Evening (7:00\u202fPM)"]
    chat.press("Evening (7:00\u202fPM)")
    assert "Saved." in chat.text
    stored = schedules(database)
    assert (stored["daily"] if which == "daily" else stored["peg3"]) == "19:00"

    to_the_time_question(chat, which)
    chat.say("7")
    chat.say("morning")  # the button's label, typed
    stored = schedules(database)
    assert (stored["daily"] if which == "daily" else stored["peg3"]) == "07:00"


def test_what_is_not_morning_or_evening_asks_again(chat, database):
    onboard(chat)
    to_the_time_question(chat, "daily")
    chat.say("7")
    chat.say("7")
    assert "Please choose one of the buttons below." in chat.text and "Did you mean 07:00 or 19:00?" in chat.text
    chat.say("19:30")  # a whole time instead: that time
    assert schedules(database)["daily"] == "19:30"


def test_at_once_in_english_is_no_time_and_asks_again(chat, database):
    onboard(chat)
    to_the_time_question(chat, "daily")
    before = schedules(database)
    chat.say("at once")
    assert "Did you mean" not in chat.text and schedules(database) == before  # not eleven o'clock


def test_unambiguous_times_are_saved_without_a_question(chat, database):
    onboard(chat)
    for typed, hhmm in [("19", "19:00"), ("07:30", "07:30"), ("7pm", "19:00"), ("7 am", "07:00"), ("19h", "19:00")]:
        to_the_time_question(chat, "daily")
        chat.say(typed)
        assert "Saved." in chat.text, typed
        assert schedules(database)["daily"] == hhmm


def test_quiet_hours_ask_for_each_bare_end(chat, database):
    onboard(chat)
    chat.command("menu")
    chat.open("Check-in times")
    chat.press("Quiet hours")
    chat.say("22-7")  # 22 is 22:00; 7 is asked
    assert "When should the quiet hours end?" in chat.text and chat.buttons == ["Morning (07:00)", "Evening (19:00)"]
    chat.say("morning")
    assert quiet_hours(database) == ("22:00", "07:00")

    chat.press("Quiet hours")
    chat.say("10-6")
    assert "When should the quiet hours start?" in chat.text
    chat.press("Evening (22:00)")
    assert "When should the quiet hours end?" in chat.text
    chat.press("Morning (06:00)")
    assert quiet_hours(database) == ("22:00", "06:00")

    chat.press("Quiet hours")
    chat.say("19-7")
    chat.press("Evening (19:00)")  # starts when it ends: asked again from the start
    assert "Please send two times" in chat.text and "When should I never send you anything?" in chat.text
    assert quiet_hours(database) == ("22:00", "06:00")


@pytest.mark.parametrize("language, settings, button, evening, morning_typed", [
    ("Español", "Ajustes", "Horarios", "Por la tarde (19:00)", "mañana"),
    ("Deutsch", "Einstellungen", "Zeiten einstellen", "Abends (19:00)", "morgens"),
])
def test_morning_or_evening_in_spanish_and_german(new_chat, database, language, settings, button, evening, morning_typed):
    chat = new_chat("7301")
    onboard(chat)
    chat.command("language")
    chat.press(language)
    chat.command("menu")
    chat.press(settings)
    chat.press(button)
    chat.press(next(label for label in chat.buttons if label.startswith(("Hora diaria", "Tägliche"))))
    chat.say("7")
    assert chat.buttons[1] == evening
    chat.press(evening)
    assert schedules(database, "7301")["daily"] == "19:00"
    chat.press(next(label for label in chat.buttons if label.startswith(("Hora diaria", "Tägliche"))))
    chat.say("7")
    chat.say(morning_typed)
    assert schedules(database, "7301")["daily"] == "07:00"


def test_in_the_terminal_a_typed_hour_is_the_hour_not_the_seventh_button(tmp_path):
    from bot.terminal import TerminalChat
    from dialogs.engine import Engine

    database = open_database(f"sqlite:///{tmp_path / 'chat.db'}")
    lines = ["1", "1", "1", "1", "1", "1", "Lee", *["skip"] * 5, "Check-in times", "Daily time", "7", "evening"]
    out = StringIO()
    TerminalChat(Engine(database), stdin=StringIO("\n".join(lines) + "\n"), stdout=out).run()
    assert "  a) 07:00" in out.getvalue()  # lettered: a typed number is a time here
    assert "Did you mean 07:00 or 19:00?" in out.getvalue()
    with database.transaction() as session:
        assert session.scalars(select(Schedule.local_time).where(Schedule.instrument == "daily")).one() == "19:00"
    database.dispose()
