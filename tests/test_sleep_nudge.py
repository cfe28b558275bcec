"""The wind-down nudge (sent at its time or not at all) and the sleep diary (answered in the chat,
then in every export), through the real Application and the Bot API emulator, in three languages."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.delivery import prompt_deliverer
from bot.sender import Sender
from bot.telegram import build_application
from conftest import NOW
from content.sleep import routine
from dialogs.engine import Engine
from exports import dictionary, fhir, long, redcap, wide
from exports.source import Filters
from phone import Phone
from scheduler import planner
from scheduler.dispatcher import Dispatcher
from storage.models import Answer, Patient, Prompt, Response, Schedule, SleepRoutine
from test_sleep import at_the_menu, buttons, shown, tr
from test_export_fhir import export as fhir_export
from test_telegram import running

UTC = timezone.utc
USER = 7201
NUDGE = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)  # 22:00 in Madrid: half an hour before a 22:30 bedtime


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def with_routine(database, language: str, *, diary: bool = False, steps: tuple[str, ...] = ("screens", "dim"), **fields) -> None:
    at_the_menu(database, USER, language, **fields)
    with database.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.external_id == str(USER))).one()
        session.add(SleepRoutine(patient_id=patient.id, wake_time="07:00", bedtime="22:30", wind_down=list(steps),
                                 daylight="walk", nudge_minutes=30))
        if diary:
            session.add(Schedule(patient_id=patient.id, instrument="sleep_diary", local_time="09:00"))


def nudges(database) -> list[tuple[datetime, str]]:
    with database.transaction() as session:
        return [(p.scheduled_for, p.status) for p in session.scalars(
            select(Prompt).where(Prompt.kind == "wind_down").order_by(Prompt.scheduled_for))]


def sent_to(emulator, fragment: str) -> list[str]:
    return [m.get("text") or "" for m in emulator.messages(USER) if fragment in (m.get("text") or "")]


def bot(database, database_url, emulator, clock):
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    engine = Engine(database, clock=clock)
    app = build_application(settings, engine, sender=Sender(per_chat_interval=0.05))
    return app, engine


def plan(database, clock) -> None:
    with database.transaction() as session:
        planner.plan(session, clock())


@pytest.mark.parametrize("language", ["en", "es", "de"])
async def test_the_nudge_comes_at_its_time_once_with_the_chosen_steps(emulator, database, database_url, language):
    clock = Clock(NOW)
    app, engine = bot(database, database_url, emulator, clock)
    with_routine(database, language)
    plan(database, clock)
    assert nudges(database)[0] == (NUDGE + timedelta(seconds=1), "scheduled")
    async with running(app, database):
        dispatcher = Dispatcher(database, engine, prompt_deliverer(app.bot, engine), clock=clock)
        clock.at = NUDGE - timedelta(minutes=1)
        assert await dispatcher.tick() == 0  # not before its time
        clock.at = NUDGE + timedelta(seconds=30)
        assert await dispatcher.tick() == 1
        phone = Phone(emulator, USER, language)
        text = await phone.expect(tr(language, "Time to start winding down for the night. Your steps:"))
        for step in ("screens", "dim"):
            assert tr(language, routine().wind_down[step].label) in text
        assert tr(language, "Bedtime: {time}.", time=shown(language, "22:30")) in text
        phone.press(tr(language, "Thanks, I'm winding down"))
        await phone.expect(tr(language, "Sleep well."))
        clock.at = NUDGE + timedelta(minutes=15)
        assert await dispatcher.tick() == 0  # once
    assert nudges(database)[0] == (NUDGE + timedelta(seconds=1), "answered")
    assert len(sent_to(emulator, tr(language, "Time to start winding down for the night. Your steps:"))) == 1


async def test_a_nudge_with_the_relaxation_step_opens_a_breathing_exercise(emulator, database, database_url):
    clock = Clock(NOW)
    app, engine = bot(database, database_url, emulator, clock)
    with_routine(database, "es", steps=("relax", "shower"))
    plan(database, clock)
    async with running(app, database):
        dispatcher = Dispatcher(database, engine, prompt_deliverer(app.bot, engine), clock=clock)
        clock.at = NUDGE + timedelta(seconds=5)
        assert await dispatcher.tick() == 1
        phone = Phone(emulator, USER, "es")
        await phone.expect(tr("es", "Time to start winding down for the night. Your steps:"))
        assert buttons(emulator, USER) == [tr("es", "Start a muscle relaxation"), tr("es", "Start a breathing exercise"),
                                           tr("es", "Thanks, I'm winding down")]
        phone.press(tr("es", "Start a breathing exercise"))
        await emulator.until(lambda: tr("es", "Slow paced breathing (4 in, 6 out)") in buttons(emulator, USER))
    assert nudges(database)[0][1] == "answered"


@pytest.mark.parametrize("language", ["en", "es", "de"])
async def test_the_nudges_drills_open_whenever_pressed_even_long_after_it_closed(emulator, database, database_url, language):
    clock = Clock(NOW)
    app, engine = bot(database, database_url, emulator, clock)
    with_routine(database, language, steps=("relax", "dim"))
    plan(database, clock)
    async with running(app, database):
        dispatcher = Dispatcher(database, engine, prompt_deliverer(app.bot, engine), clock=clock)
        clock.at = NUDGE + timedelta(seconds=5)
        assert await dispatcher.tick() == 1
        phone = Phone(emulator, USER, language)
        await phone.expect(tr(language, "Time to start winding down for the night. Your steps:"))
        clock.at = NUDGE + timedelta(minutes=25)
        await dispatcher.tick()  # closed: its twenty minutes are over
        assert nudges(database)[0][1] == "expired"
        clock.at = NUDGE + timedelta(hours=1)
        phone.press(tr(language, "Start a muscle relaxation"))
        text = await phone.expect(tr(language, "Before we start: how tense do you feel right now, from 0 to 10?"))
        assert tr(language, "Progressive muscle relaxation") in text and tr(language, "Sleep well.") not in text
        phone.send("/menu")
        await phone.expect(tr(language, "What would you like to do?"))
        phone.press(tr(language, "Start a breathing exercise"))
        await emulator.until(lambda: tr(language, "Slow paced breathing (4 in, 6 out)") in buttons(emulator, USER))
        assert tr(language, "Sleep well.") not in phone.latest_text()
        phone.press(tr(language, "Thanks, I'm winding down"))  # the other button, late, still says good night
        await phone.expect(tr(language, "Sleep well."))


async def test_no_nudge_for_a_patient_who_withdrew(emulator, database, database_url):
    clock = Clock(NOW)
    app, engine = bot(database, database_url, emulator, clock)
    with_routine(database, "en")
    plan(database, clock)
    async with running(app, database):
        phone = Phone(emulator, USER)
        phone.send("/withdraw")
        await phone.expect("You have withdrawn your consent")
        dispatcher = Dispatcher(database, engine, prompt_deliverer(app.bot, engine), clock=clock)
        clock.at = NUDGE + timedelta(seconds=30)
        assert await dispatcher.tick() == 0
        plan(database, clock)  # nor planned again for the next evenings
        clock.at = NUDGE + timedelta(days=1, seconds=30)
        assert await dispatcher.tick() == 0
    assert sent_to(emulator, "winding down") == []
    assert all(status != "sent" for _at, status in nudges(database))


async def test_a_nudge_whose_time_passed_is_never_sent_late(emulator, database, database_url):
    """The bot was down at 22:00: at 22:25 the nudge has expired; it is not sent then, nor later."""
    clock = Clock(NOW)
    app, engine = bot(database, database_url, emulator, clock)
    with_routine(database, "en")
    plan(database, clock)
    async with running(app, database):
        dispatcher = Dispatcher(database, engine, prompt_deliverer(app.bot, engine), clock=clock)
        clock.at = NUDGE + timedelta(minutes=25)
        assert await dispatcher.tick() == 0
        clock.at = NUDGE + timedelta(hours=9)
        assert await dispatcher.tick() == 0
    assert nudges(database)[0] == (NUDGE + timedelta(seconds=1), "expired")
    assert sent_to(emulator, "winding down") == []


async def test_quiet_hours_never_defer_the_nudge_to_the_morning(emulator, database, database_url):
    clock = Clock(NOW)
    app, engine = bot(database, database_url, emulator, clock)
    with_routine(database, "de", quiet_start="21:30", quiet_end="07:00")
    plan(database, clock)
    async with running(app, database):
        dispatcher = Dispatcher(database, engine, prompt_deliverer(app.bot, engine), clock=clock)
        clock.at = NUDGE + timedelta(seconds=30)
        assert await dispatcher.tick() == 0  # inside quiet hours
        clock.at = datetime(2026, 11, 29, 6, 0, 30, tzinfo=UTC)  # 07:00:30 in Madrid: quiet hours over
        assert await dispatcher.tick() == 0
    assert nudges(database)[0] == (NUDGE + timedelta(seconds=1), "expired")
    assert sent_to(emulator, "Zeit, für die Nacht") == []


def test_the_routine_warns_when_its_nudge_falls_in_quiet_hours(chat, database):
    from onboard import onboard

    onboard(chat)
    with database.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.external_id == "1001")).one()
        patient.quiet_start, patient.quiet_end = "21:00", "07:00"
    chat.open("My sleep routine")
    chat.press("Set up my sleep routine")
    chat.say("7:00")
    chat.say("22:30")
    chat.press("Screens away")
    chat.press("Dim the lights")
    chat.press("Done")
    chat.press("A short morning walk")
    chat.press("30 minutes before bedtime (22:00)")
    assert "Note: 22:00 falls in your quiet hours, so the reminder will not come." in chat.text


# -- the sleep diary --------------------------------------------------------------------------------

DIARY = {  # bedtime 23:00 and getting up at 07:30, as typed in each language
    "en": ("11pm", "half seven in the morning"),
    "es": ("a las once de la noche", "las siete y media de la mañana"),
    "de": ("23 Uhr", "halb acht morgens"),
}


@pytest.mark.parametrize("language", ["en", "es", "de"])
async def test_the_sleep_diary_answered_then_in_every_export(emulator, database, database_url, language, tmp_path):
    clock = Clock(NOW)
    app, _engine = bot(database, database_url, emulator, clock)
    with_routine(database, language, diary=True, study_code="SLEEP1")  # the exports take coded patients
    bedtime, wake = DIARY[language]
    async with running(app, database):
        phone = Phone(emulator, USER, language)
        phone.send("/menu")
        await phone.expect(tr(language, "What would you like to do?"))
        phone.press(tr(language, "Plan and pace"))
        await emulator.until(lambda: tr(language, "My sleep routine") in buttons(emulator, USER))
        phone.press(tr(language, "My sleep routine"))
        await emulator.until(lambda: tr(language, "Fill in the sleep diary now") in buttons(emulator, USER))
        phone.press(tr(language, "Fill in the sleep diary now"))
        await phone.expect(tr(language, "At what time did you go to bed last night?"))
        phone.send("25:00")
        await phone.expect(tr(language, "Please send a time of day, such as 22:30."))
        phone.send(bedtime)
        await phone.expect(tr(language, "At what time did you get up this morning?"))
        phone.send(wake)
        await phone.expect(tr(language, "How well did you sleep?"))
        phone.send("11")  # out of range
        await phone.expect(tr(language, "Please send a whole number from {low} to {high}.", low=0, high=10))
        phone.press("7")
        await phone.expect(tr(language, "Thank you, that's your check-in done."))

    with database.transaction() as session:
        response = session.scalars(select(Response).where(Response.instrument == "sleep_diary")).one()
        answers = {a.item_id: a.value for a in session.scalars(select(Answer).where(Answer.response_id == response.id))}
        assert response.completed_at is not None and response.language == language
    assert answers == {"bedtime": 23 * 60, "wake_time": 7 * 60 + 30, "sleep_quality": 7}
    assert_exported(database, tmp_path)


def export(writer, database, filters=Filters()) -> list[dict[str, str]]:
    out = io.StringIO()
    with database.reading() as session:
        writer(session, filters, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def assert_exported(database, tmp_path) -> None:
    rows = {r["item_id"]: r for r in export(long.write, database) if r["instrument"] == "sleep_diary"}
    assert {item: rows[item]["value"] for item in rows} == {"bedtime": "1380", "wake_time": "450", "sleep_quality": "7"}
    assert rows["bedtime"]["translation_validated"] == "0"
    [row] = export(wide.write, database)
    assert (row["bedtime"], row["wake_time"], row["sleep_quality"]) == ("1380", "450", "7")
    # The daily check-in keeps its columns, in their order, ahead of the diary's.
    header = wide.columns(Filters())
    daily = ["pain_now", "sleep_hours", "active_minutes", "steps", "pacing_followed"]
    assert header[header.index("pain_now"):header.index("pain_now") + 5] == daily
    assert header.index("bedtime") > header.index("pacing_followed")

    out = io.StringIO()
    dictionary.write(out)
    described = {r["name"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert described["bedtime"]["values"].startswith("0-1439 (a time of day as minutes after midnight")
    assert described["sleep_quality"]["values"] == "0-10 (0 = Very badly; 10 = Very well)"
    assert described["sleep_diary"]["kind"] == "instrument" and "validated wording: none" in described["sleep_diary"]["description"]
    assert described["sleep_hours"]["type"] == "decimal"  # the daily item as it was

    out = io.StringIO()
    redcap.write_dictionary(Filters(), out)
    fields = {r[0]: r for r in csv.reader(io.StringIO(out.getvalue()))}
    assert fields["bedtime"][1] == "sleep_diary" and fields["bedtime"][7] == "integer" and "sleep_completed_local" in fields
    assert (fields["bedtime"][8], fields["bedtime"][9]) == ("0", "1439") and "minutes after midnight" in fields["bedtime"][6].lower()
    assert fields["sleep_quality"][7] == "integer"

    counts, resources = fhir_export(database, tmp_path / "fhir")  # every resource valid R4
    assert counts["QuestionnaireResponse"] == 1
    questionnaires = {q["url"]: q for q in resources["Questionnaire"]}
    diary = questionnaires["urn:paincoach:questionnaire:sleep_diary"]
    assert diary["id"] == "sleep-diary" and [q["type"] for q in diary["item"]] == ["integer", "integer", "integer"]
    assert [q["code"] for q in diary["item"]] == [[{"system": fhir.LOCAL, "code": item}] for item in ("bedtime", "wake_time", "sleep_quality")]
    assert all("code" not in q for q in questionnaires["urn:paincoach:questionnaire:daily"]["item"] if q["linkId"] == "pain_now")
    [response] = resources["QuestionnaireResponse"]
    assert response["questionnaire"] == "urn:paincoach:questionnaire:sleep_diary"
    assert {i["linkId"]: i["answer"][0] for i in response["item"]} == {
        "bedtime": {"valueInteger": 1380}, "wake_time": {"valueInteger": 450}, "sleep_quality": {"valueInteger": 7}}
    # Each answer is an Observation too, under the one local code system, times as times of day.
    assert counts["Observation"] == 3
    observed = {o["code"]["coding"][0]["code"]: o for o in resources["Observation"]}
    assert {o["code"]["coding"][0]["system"] for o in observed.values()} == {fhir.LOCAL} == {"urn:paincoach:codes"}
    assert (observed["bedtime"]["valueTime"], observed["wake_time"]["valueTime"], observed["sleep_quality"]["valueInteger"]) == (
        "23:00:00", "07:30:00", 7)
    assert observed["bedtime"]["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{response['id']}"}]


def test_the_diary_joins_the_daily_check_in_and_follows_its_time(chat, database):
    from onboard import onboard

    onboard(chat)
    chat.open("My sleep routine")
    chat.press("Set up my sleep routine")
    chat.say("7:00")
    chat.say("23:00")
    chat.press("Screens away")
    chat.press("A warm shower")
    chat.press("Done")
    chat.press("A short morning walk")
    chat.press("No reminder")
    chat.press("Yes, add it")
    with database.transaction() as session:
        times = {s.instrument: s.local_time for s in session.scalars(select(Schedule))}
        waiting = [p.instruments for p in session.scalars(select(Prompt).where(Prompt.kind == "checkin", Prompt.status == "scheduled"))]
        assert waiting and all(instruments[-1] == "sleep_diary" for instruments in waiting)  # from the next check-in on
        planner.plan(session, NOW + timedelta(days=1))
        sittings = [p.instruments for p in session.scalars(select(Prompt).where(Prompt.kind == "checkin"))]
    assert times["sleep_diary"] == times["daily"]
    assert any(s[0] == "daily" and s[-1] == "sleep_diary" for s in sittings)  # one sitting: the daily items first
    chat.command("menu")
    chat.open("Check-in times")
    chat.press("Daily time")
    chat.say("08:30")
    with database.transaction() as session:
        times = {s.instrument: s.local_time for s in session.scalars(select(Schedule))}
    assert times["daily"] == times["sleep_diary"] == "08:30"


def test_pausing_reminders_pauses_the_nudge_and_resuming_brings_it_back(chat, database):
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
    chat.press("30 minutes before bedtime (22:30)")
    chat.press("No, thanks")
    assert [status for _at, status in nudges(database)] == ["scheduled", "scheduled"]
    chat.command("menu")
    chat.open("Pause reminders")
    chat.press("Pause reminders")
    assert nudges(database) == []
    chat.press("Resume reminders")
    assert [status for _at, status in nudges(database)] == ["scheduled", "scheduled"]


@pytest.mark.parametrize("language, bed, wake, expected", [
    ("en", "11", "half six", (23 * 60, 6 * 60 + 30)),
    ("es", "la una", "las doce", (60, 12 * 60)),
    ("de", "halb zwölf", "halb sieben", (23 * 60 + 30, 6 * 60 + 30)),
])
def test_a_bare_hour_in_the_diary_is_read_as_its_question_implies(chat, database, language, bed, wake, expected):
    # "When did you get up this morning?" - "halb sieben" is 06:30, not a question back; a bedtime's
    # bare hour is read at night ("11" is 23:00, "one" is 01:00).
    from onboard import onboard

    onboard(chat)
    chat.open("My sleep routine")
    chat.press("Add the sleep diary to my check-ins")
    with database.transaction() as session:
        session.scalars(select(Patient)).one().language = language
    chat.press("Fill in the sleep diary now")
    chat.say(bed)
    assert tr(language, "At what time did you get up this morning?") in chat.text
    chat.say(wake)
    assert tr(language, "How well did you sleep?") in chat.text
    chat.press("7")
    with database.transaction() as session:
        response = session.scalars(select(Response).where(Response.instrument == "sleep_diary")).one()
        answers = {a.item_id: a.value for a in session.scalars(select(Answer).where(Answer.response_id == response.id))}
    assert (answers["bedtime"], answers["wake_time"]) == expected
