"""The sleep routine on Telegram, in English, Spanish and German: times typed in every form, a night
under 4 or over 12 hours confirmed (never refused, never cut), 25:00 refused with an example, and
the wind-down steps picked from the list."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import locales
from bot.config import Settings
from bot.sender import Sender
from bot.telegram import build_application
from conftest import NOW
from content.sleep import routine
from dialogs.daytime import BareHour, read_time, show
from dialogs.engine import Engine
from locales import _, ngettext
from phone import Phone
from storage.models import DialogState, Patient, Prompt, Schedule, SleepRoutine
from test_telegram import running

USER = 7101


def tr(language: str, msgid: str, **kw) -> str:
    with locales.use(language):
        text = _(msgid)
    return text.format(**kw) if kw else text


def shown(language: str, hhmm: str) -> str:
    """A time as the bot shows it to a patient in Madrid speaking `language` (7:00 in Spanish)."""
    with locales.use(language, "ES"):
        return show(hhmm)


def trn(language: str, singular: str, plural: str, n: int) -> str:
    with locales.use(language):
        return ngettext(singular, plural, n).format(n=n)


def at_the_menu(database, telegram_id: int, language: str, **fields) -> None:
    """An onboarded patient in Madrid who speaks `language`, at the menu."""
    with database.transaction() as session:
        patient = Patient(clinic_id=database.default_clinic(session).id, channel="telegram", external_id=str(telegram_id),
                          consent="given", timezone="Europe/Madrid", language=language, onboarded_at=NOW, preferred_name="P",
                          adult=True, **fields)
        session.add(patient)
        session.flush()
        session.add(DialogState(patient_id=patient.id, dialog="menu", state="main", data={}, stack=[], step=1))


def buttons(emulator, user: int = USER) -> list[str]:
    return [label for label, _data in emulator.buttons(emulator.last_message(user))]


def stored(database, user: int = USER) -> tuple[SleepRoutine | None, set[str], list[Prompt]]:
    with database.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.external_id == str(user))).one()
        row = session.scalars(select(SleepRoutine).where(SleepRoutine.patient_id == patient.id)).first()
        if row is not None:
            session.expunge(row)
        instruments = set(session.scalars(select(Schedule.instrument).where(Schedule.patient_id == patient.id)))
        nudges = list(session.scalars(select(Prompt).where(Prompt.patient_id == patient.id, Prompt.kind == "wind_down")))
        for prompt in nudges:
            session.expunge(prompt)
        return row, instruments, nudges


# -- the one parser, extended ---------------------------------------------------------------------

@pytest.mark.parametrize("language, typed, read", [
    ("en", "22:30", "22:30"), ("en", "10pm", "22:00"), ("en", "22h", "22:00"), ("en", "midnight", "00:00"), ("es", "a medianoche", "00:00"),
    ("de", "Mitternacht", "00:00"), ("en", "noon", "12:00"), ("en", "half ten", BareHour(10, 30)), ("en", "half past ten pm", "22:30"),
    ("de", "halb zehn", BareHour(9, 30)), ("de", "halb zehn abends", "21:30"), ("de", "um halb 11", BareHour(10, 30)),
    ("es", "las diez y media", BareHour(10, 30)), ("es", "a las diez y media de la noche", "22:30"),
    ("es", "las once menos cuarto", BareHour(10, 45)),
    ("en", "quarter to eleven", BareHour(10, 45)), ("de", "viertel nach sieben", BareHour(7, 15)), ("de", "zehn Uhr abends", "22:00"),
    ("es", "diez de la noche", "22:00"), ("en", "ten at night", "22:00"), ("de", "halb eins nachts", "00:30"),
    ("de", "halb eins", BareHour(12, 30)), ("en", "seven", BareHour(7)),
])
def test_times_in_words_and_figures_in_three_languages(language, typed, read):
    with locales.use(language):
        assert read_time(typed) == read


@pytest.mark.parametrize("typed", ["25:00", "24:30", "half 10:30", "halb", "y media", "ten eleven", "las 25"])
def test_what_is_still_no_time(typed):
    assert read_time(typed) is None


def test_the_german_half_is_half_to_the_hour_and_the_english_half_past_it():
    assert BareHour(10, 30).readings() == ("10:30", "22:30") == read_time("half ten").readings()
    with locales.use("de"):
        assert read_time("halb zehn").readings() == ("09:30", "21:30")
    with locales.use("es"):
        assert read_time("las diez y media").readings() == ("10:30", "22:30")


# -- the dialog on Telegram -----------------------------------------------------------------------

WAKE = {"en": "7am", "es": "a las siete de la mañana", "de": "7 Uhr morgens"}  # 07:00
BED = {"en": "half ten", "es": "las diez y media", "de": "halb elf"}  # a bare hour: 10:30 or 22:30


@pytest.mark.parametrize("language", ["en", "es", "de"])
async def test_a_routine_set_with_times_as_people_type_them(emulator, database, database_url, language):
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(database, clock=lambda: NOW), sender=Sender(per_chat_interval=0.05))
    at_the_menu(database, USER, language)
    async with running(app, database):
        phone = Phone(emulator, USER, language)
        phone.send("/menu")
        await phone.expect(tr(language, "What would you like to do?"))
        phone.press(tr(language, "Plan and pace"))
        await emulator.until(lambda: tr(language, "My sleep routine") in buttons(emulator))
        phone.press(tr(language, "My sleep routine"))
        await emulator.until(lambda: tr(language, "Set up my sleep routine") in buttons(emulator))
        phone.press(tr(language, "Set up my sleep routine"))
        await emulator.until(lambda: shown(language, "07:00") in buttons(emulator))

        phone.send("25:00")  # refused, with an example
        refusal = tr(language, "I couldn't read that as a time of day. Please send a time such as {example}, or 10pm, or half past ten.",
                     example="07:00")  # the example is the same in every language
        await phone.expect(refusal)
        phone.send(WAKE[language])
        await phone.expect(tr(language, "And at what time do you want to go to bed? Tap one, or type a time such as 22:30."))

        phone.send(BED[language])  # either half of the day: asked, never guessed
        await phone.expect(tr(language, "When do you want to go to bed?"))
        evening = buttons(emulator)[1]
        assert shown(language, "22:30") in evening
        phone.press(evening)
        steps_question = tr(language, "Pick {low} or {high} steps for the hour before bed. Tap a step to add or remove it, then Done.",
                            low=2, high=3)
        await phone.expect(steps_question)

        labels = {step.id: tr(language, step.label) for step in routine().wind_down.values()}
        phone.send("banana")  # text where a button was expected: a kind word, nothing lost
        await phone.expect(tr(language, "Please choose one of the buttons below."))
        phone.press(labels["screens"])
        await emulator.until(lambda: "✓ " + labels["screens"] in buttons(emulator))
        phone.press(tr(language, "Done"))  # one step only
        await phone.expect(trn(language, "Please pick at least {n} step.", "Please pick at least {n} steps.", 2))
        phone.press(labels["dim"])
        await emulator.until(lambda: "✓ " + labels["dim"] in buttons(emulator))
        phone.press(labels["list"])
        await emulator.until(lambda: "✓ " + labels["list"] in buttons(emulator))
        phone.press(labels["shower"])  # a fourth: kindly refused
        await phone.expect(tr(language, "That's {n} already: a short routine is easier to keep. Tap a step to remove it first, "
                                        "or tap Done.", n=3))
        phone.press(tr(language, "Done"))
        daylight = tr(language, routine().daylight["walk"].label)
        await emulator.until(lambda: daylight in buttons(emulator))
        phone.press(daylight)
        await emulator.until(lambda: tr(language, "No reminder") in buttons(emulator))
        first = buttons(emulator)[0]
        assert shown(language, "21:30") in first  # an hour before 22:30
        phone.press(first)
        await emulator.until(lambda: tr(language, "Yes, add it") in buttons(emulator))
        phone.press(tr(language, "Yes, add it"))
        text = await phone.expect(tr(language, "Your sleep routine:"))
        assert tr(language, "Saved. Your routine is set.") in text
        assert tr(language, "Getting up: {time}, every day", time=shown(language, "07:00")) in text
        assert tr(language, "Wind-down reminder: {time}", time=shown(language, "21:30")) in text
        assert tr(language, "Sleep diary: in your daily check-in") in text
        for word in ("less time in bed", "menos tiempo", "weniger Zeit"):  # never suggested
            assert word not in phone.transcript()

    row, instruments, nudges = stored(database)
    assert (row.wake_time, row.bedtime, row.wind_down, row.daylight, row.nudge_minutes) == (
        "07:00", "22:30", ["screens", "dim", "list"], "walk", 60)
    assert "sleep_diary" in instruments
    # The nudge is planned at 21:30 Madrid (20:30 UTC) today, a second after its minute, and expires 20 minutes later.
    today = [p for p in nudges if p.local_date == NOW.date()]
    assert [(p.scheduled_for.strftime("%H:%M:%S"), p.expires_at.strftime("%H:%M"), p.status) for p in today] == [
        ("20:30:01", "20:50", "scheduled")]


@pytest.mark.parametrize("language, bed, wake, length", [
    ("en", "3 am", "6:00", "3 hours"),  # under 4 hours
    ("es", "las ocho de la tarde", "9:00", "13 horas"),  # over 12 hours
    ("de", "Mitternacht", "halb vier morgens", "3 Std. 30 Min."),
])
async def test_a_night_under_4_or_over_12_hours_is_confirmed_not_refused(emulator, database, database_url, language, bed, wake,
                                                                         length):
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(database, clock=lambda: NOW), sender=Sender(per_chat_interval=0.05))
    at_the_menu(database, USER, language)
    async with running(app, database):
        phone = Phone(emulator, USER, language)
        phone.send("/menu")
        await phone.expect(tr(language, "What would you like to do?"))
        phone.press(tr(language, "Plan and pace"))
        await emulator.until(lambda: tr(language, "My sleep routine") in buttons(emulator))
        phone.press(tr(language, "My sleep routine"))
        await emulator.until(lambda: tr(language, "Set up my sleep routine") in buttons(emulator))
        phone.press(tr(language, "Set up my sleep routine"))
        await emulator.until(lambda: shown(language, "07:00") in buttons(emulator))
        phone.send(wake)
        await emulator.until(lambda: shown(language, "22:30") in buttons(emulator))
        phone.send(bed)
        confirm = await phone.expect(length)
        assert tr(language, "Yes, that's right") in buttons(emulator)
        assert "?" in confirm
        phone.press(tr(language, "Change the bedtime"))  # the patient may change it: asked again, nothing lost
        await emulator.until(lambda: shown(language, "22:30") in buttons(emulator))
        phone.send(bed)
        await phone.expect(length)
        phone.press(tr(language, "Yes, that's right"))
        steps = [tr(language, step.label) for step in routine().wind_down.values()]
        await emulator.until(lambda: steps[0] in buttons(emulator))


def test_shift_workers_sleeping_from_8_to_16_are_not_asked_twice(chat, database):
    from onboard import onboard

    onboard(chat)
    chat.open("My sleep routine")
    chat.press("Set up my sleep routine")
    chat.say("16:00")
    chat.say("08:00")
    assert chat.text.startswith("Pick 2 or 3 steps"), chat.text
    chat.press("Screens away")
    chat.press("A relaxation drill")
    chat.press("Done")
    chat.press("A short morning walk")
    chat.press("No reminder")
    chat.press("No, thanks")
    assert "Bedtime: 08:00" in chat.text and "Getting up: 16:00, every day" in chat.text
    assert "Wind-down reminder: none" in chat.text and "Sleep diary: not added" in chat.text
    row, instruments, nudges = stored(database, 1001)
    assert (row.bedtime, row.wake_time, row.nudge_minutes, nudges) == ("08:00", "16:00", None, [])
    assert "sleep_diary" not in instruments


def test_a_stale_button_of_the_routine_gets_a_kind_reply(chat, database):
    from onboard import onboard

    onboard(chat)
    chat.open("My sleep routine")
    chat.press("Set up my sleep routine")
    chat.say("7:00")
    old = dict(chat.last_buttons)
    chat.say("23:00")
    chat.last_buttons = old  # a bedtime button pressed again, from the older message
    chat.press("22:30")
    assert chat.texts == ["This button has expired.",
                          "Pick 2 or 3 steps for the hour before bed. Tap a step to add or remove it, then Done."]
    row, _i, _n = stored(database, 1001)
    assert row is None  # nothing saved until the routine is complete


def test_mydata_carries_the_routine_and_deletion_erases_it_with_its_nudges(chat, new_chat, database):
    import json

    from dialogs.io import File
    from onboard import onboard

    onboard(chat)
    other = new_chat("2002")
    onboard(other, name="Kim")
    for patient_chat in (chat, other):
        patient_chat.command("menu")
        patient_chat.open("My sleep routine")
        patient_chat.press("Set up my sleep routine")
        patient_chat.say("7:00")
        patient_chat.say("23:00")
        patient_chat.press("Screens away")
        patient_chat.press("Dim the lights")
        patient_chat.press("Done")
        patient_chat.press("A short morning walk")
        patient_chat.press("30 minutes before bedtime (22:30)")
        patient_chat.press("Yes, add it")
    chat.command("mydata")
    [file] = [o for o in chat.outputs if isinstance(o, File)]
    [kept] = json.loads(file.data)["sleep_routines"]
    assert (kept["wake_time"], kept["bedtime"], kept["wind_down"], kept["nudge_minutes"]) == ("07:00", "23:00", ["screens", "dim"], 30)

    chat.command("delete")
    chat.press("Yes, delete everything")
    with database.transaction() as session:
        owners = {row.patient_id for row in session.scalars(select(SleepRoutine))}
        nudge_owners = {p.patient_id for p in session.scalars(select(Prompt).where(Prompt.kind == "wind_down"))}
        diary_owners = {s.patient_id for s in session.scalars(select(Schedule).where(Schedule.instrument == "sleep_diary"))}
        kim = session.scalars(select(Patient).where(Patient.external_id == "2002")).one()
    assert owners == nudge_owners == diary_owners == {kim.id}  # theirs gone, Kim's kept


def test_a_clock_item_must_be_minutes_after_midnight():
    from content.files import ContentError
    from content.instruments import parse

    base = {"id": "x", "name": "X", "recall": "r", "licence": "l", "scoring": "none", "validated": {}}
    parse({**base, "items": [{"id": "t", "text": "When?", "number": [0, 1439], "clock": True}]}, "x")
    with pytest.raises(ContentError, match="minutes after midnight"):
        parse({**base, "items": [{"id": "t", "text": "When?", "number": [0, 24], "clock": True}]}, "x")


def test_a_bedtime_that_is_the_wake_time_is_asked_again(chat):
    from onboard import onboard

    onboard(chat)
    chat.open("My sleep routine")
    chat.press("Set up my sleep routine")
    chat.say("7:00")
    chat.say("7 am")
    assert chat.texts[0] == "That is the time you get up. Please send the time you want to go to bed."
    assert chat.texts[1].startswith("And at what time do you want to go to bed?")


def test_the_diary_alone_can_be_added_and_taken_out_again(chat, database):
    from onboard import onboard

    onboard(chat)
    chat.open("My sleep routine")
    chat.press("Add the sleep diary to my check-ins")
    assert chat.texts[0] == "The sleep diary is now part of your daily check-in."
    assert "Fill in the sleep diary now" in chat.buttons and "Set up my sleep routine" in chat.buttons
    _row, instruments, _n = stored(database, 1001)
    assert "sleep_diary" in instruments
    chat.press("Take the sleep diary out of my check-ins")
    assert chat.texts[0] == "The sleep diary is no longer in your check-ins. What you answered is kept."
    _row, instruments, _n = stored(database, 1001)
    assert "sleep_diary" not in instruments and "daily" in instruments


def test_changing_the_routine_starts_from_the_steps_already_chosen(chat, database):
    from onboard import onboard

    onboard(chat)
    chat.open("My sleep routine")
    chat.press("Set up my sleep routine")
    chat.say("7:00")
    chat.say("23:00")
    chat.press("Screens away")
    chat.press("Dim the lights")
    chat.press("Done")
    chat.press("A short morning walk")
    chat.press("No reminder")
    chat.press("No, thanks")
    chat.press("Change my routine")
    chat.say("6:30")
    chat.say("22:30")
    assert "✓ Screens away" in chat.buttons and "✓ Dim the lights" in chat.buttons
    chat.press("✓ Dim the lights")  # taken off
    chat.press("A warm shower")
    chat.press("Done")
    chat.press("A short morning walk")
    chat.press("60 minutes before bedtime (21:30)")
    chat.press("No, thanks")
    row, _instruments, nudges = stored(database, 1001)
    assert (row.wake_time, row.bedtime, row.wind_down, row.nudge_minutes) == ("06:30", "22:30", ["screens", "shower"], 60)
    # London: 21:30 local is 21:30 UTC; one for tonight and one for tomorrow night.
    assert sorted((str(p.local_date), p.scheduled_for.strftime("%H:%M:%S")) for p in nudges) == [
        ("2026-11-28", "21:30:01"), ("2026-11-29", "21:30:01")]
