"""The real python-telegram-bot Application, polling a Bot API emulator over HTTP on loopback."""
from __future__ import annotations

import asyncio
import io
from contextlib import asynccontextmanager
import logging
import time

import pytest
from sqlalchemy import func, select

from bot.cli import setup_logging
from bot.polling import serve
from bot.config import Settings
from bot.sender import Sender
from bot.telegram import build_application
from dialogs.engine import Engine
from phone import Phone
from storage.models import Alert, Inbox, Patient, SafetyEvent

ALICE, BOB = 5001, 5002


@asynccontextmanager
async def running(app, database):
    """The bot as `paincoach run` serves it (inbox polling), until the block ends."""
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, database, stop))
    try:
        yield
    finally:
        stop.set()
        await serving


@pytest.fixture
async def bot(emulator, database, database_url):
    """Starts the bot as `paincoach run` does (long polling), with a quicker per-chat pace for floods."""
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url)
    app = build_application(settings, Engine(database), sender=Sender(per_chat_interval=0.25))
    async with running(app, database):
        yield app


async def walk_onboarding(phone: Phone) -> None:
    phone.send("/start")
    await phone.expect("Which language")
    phone.press("English")
    await phone.expect("not an emergency service")
    await walk_onboarding_after_language(phone)


async def walk_onboarding_after_language(phone: Phone) -> None:
    phone.press("Continue")
    await phone.expect("Do you agree")
    phone.press("Yes, I agree")
    await phone.expect("18 or older")
    phone.press("Yes, I'm 18 or older")
    await phone.expect("Which time zone")
    phone.press("New York")
    await phone.expect("Is that your local time?")
    phone.press("Yes, that's right")
    await phone.expect("What would you like me to call you?")
    phone.send("Alice")
    await phone.expect("Where does it hurt?")
    for answer in ["Neck and shoulders", "Two years", "Sitting at a desk", "Physio, yoga"]:
        phone.send(answer)
        await phone.expect("?")
    phone.send("Gardening in the morning")
    await phone.expect("What would you like to do?")


async def test_a_button_on_a_message_too_old_for_telegram_to_show_still_works(bot, emulator):
    """Telegram sends a press on an old message without the message's text or buttons: the
    signature alone decides, as where a transport cannot tell."""
    alice = Phone(emulator, ALICE)
    alice.send("/start")
    await alice.expect("Which language")
    alice.press("English", old=True)
    await alice.expect("emergency service")
    assert "This button has expired" not in alice.transcript()


async def test_a_button_moved_onto_another_message_is_refused(bot, emulator):
    """Signed for this patient and this step, but sent from a message that does not carry it
    (a client that edits callback data): Telegram reports that message's buttons, and it is refused."""
    alice = Phone(emulator, ALICE)
    alice.send("/start")
    await alice.expect("Which language")
    first = emulator.messages(ALICE)[0]["message_id"]
    alice.press("English")
    await alice.expect("emergency service")
    continue_data = dict(emulator.buttons(emulator.messages(ALICE)[-1]))["Continue"]
    emulator.press(ALICE, first, continue_data, check=False)  # the answered language question: no buttons now
    await alice.expect("This button has expired.")


async def test_a_new_patient_walks_onboarding_by_pressing_buttons(bot, emulator, database):
    alice = Phone(emulator, ALICE)
    await walk_onboarding(alice)

    # A pressed question is edited to show the answer, and its buttons are gone.
    consent = next(m for m in emulator.messages(ALICE) if m["text"].startswith("Do you agree"))
    assert consent["text"].endswith("✓ Yes, I agree") and not emulator.buttons(consent)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        assert (patient.timezone, patient.preferred_name, patient.consent) == ("America/New_York", "Alice", "given")
        assert patient.onboarded_at is not None
    # The command menu was set for every language.
    assert sorted(c["params"].get("language_code") or "" for c in emulator.calls_to("setMyCommands")) == ["", "de", "es"]


async def test_a_flooding_patient_does_not_delay_another(bot, emulator, database):
    bob = Phone(emulator, BOB)
    bob.send("/start")
    await bob.expect("Which language")
    for i in range(20):
        emulator.send_text(BOB, f"spam {i}")

    alice = Phone(emulator, ALICE)
    alice.send("/start")
    await alice.expect("Which language")
    alice.press("English")
    await alice.expect("not an emergency service")
    # Bob's 20 replies need at least 5 s at one per 0.25 s; Alice's two steps did not queue behind them.
    assert len(emulator.messages(BOB)) < 21

    await emulator.until(lambda: len(emulator.messages(BOB)) >= 21, timeout=20)
    sends = [c["t"] for c in emulator.calls_to("sendMessage") if c["chat_id"] == BOB]
    gaps = [b - a for a, b in zip(sends, sends[1:])]
    assert min(gaps) >= 0.24  # one chat's pace is kept
    assert all("Please choose one of the buttons" in m["text"] for m in emulator.messages(BOB)[1:])


async def test_a_redelivered_update_is_applied_once(bot, emulator, database):
    alice = Phone(emulator, ALICE)
    alice.send("/start")
    await alice.expect("Which language")
    message = emulator.last_message(ALICE)
    data = dict((t, d) for t, d in emulator.buttons(message))["English"]
    query = {"id": "99", "from": {"id": ALICE, "is_bot": False, "first_name": "A", "language_code": "en"},
             "message": message["message"], "chat_instance": "1", "data": data}
    emulator.push_raw({"update_id": 424242, "callback_query": query})
    await alice.expect("not an emergency service")
    emulator.push_raw({"update_id": 424242, "callback_query": {**query, "id": "100"}})
    await emulator.until(lambda: not emulator.pending_updates())  # fetched...
    await asyncio.sleep(0.5)
    assert len(emulator.calls_to("answerCallbackQuery")) == 1  # ...and recognised: not handled again
    assert sum("not an emergency service" in m["text"] for m in emulator.messages(ALICE)) == 1
    with database.transaction() as session:
        assert session.get(Patient, 1).language == "en"
        assert session.scalar(select(func.count()).select_from(Inbox)) == 0


async def test_groups_get_one_line(bot, emulator):
    emulator.send_text(ALICE, "/start", chat_id=-100123, chat_type="group")
    emulator.send_text(ALICE, "hello?", chat_id=-100123, chat_type="group")
    await emulator.until(lambda: emulator.messages(-100123))
    await asyncio.sleep(0.3)
    assert [m["text"] for m in emulator.messages(-100123)] == ["I only talk in private chats. Please message me directly."]


async def test_crisis_language_in_a_group_gets_the_lines_there_and_nothing_is_kept(bot, emulator, database):
    emulator.send_text(ALICE, "@paincoach_bot honestly I just want to die", chat_id=-100124, chat_type="group")
    await emulator.until(lambda: emulator.messages(-100124))
    (reply,) = [m["text"] for m in emulator.messages(-100124)]
    assert "you don't have to carry this alone" in reply and "message me directly" in reply
    assert "want to die" not in reply  # their words are never repeated
    assert emulator.messages(ALICE) == []  # nothing sent to them privately unasked
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0
        assert session.scalar(select(func.count()).select_from(SafetyEvent)) == 0
        assert session.scalar(select(func.count()).select_from(Alert)) == 0


async def test_stickers_edits_and_captions_are_screened_and_answered(bot, emulator, database):
    alice = Phone(emulator, ALICE)
    alice.send("/start")
    await alice.expect("Which language")
    alice.emu.send_sticker(ALICE)
    await alice.expect("I can only read text")
    alice.send("I want to end my life", edited=True)
    await alice.expect("you don't have to carry this alone")
    alice.send("thinking about ending my life", caption_kind="photo")
    await alice.expect("you don't have to carry this alone")
    assert sum("you don't have to carry this alone" in m["text"] for m in emulator.messages(ALICE)) == 2
    with database.transaction() as session:  # answered, but before consent nothing is recorded
        assert session.scalar(select(func.count()).select_from(SafetyEvent)) == 0


async def test_a_failing_step_gets_an_apology_and_the_question(bot, emulator, database, monkeypatch):
    alice = Phone(emulator, ALICE)
    alice.send("/start")
    await alice.expect("Which language")
    engine: Engine = bot.bot_data["engine"]
    real = engine.step  # (the step as the transport's unit of work runs it)
    calls = []

    def broken_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("the disk fell off")
        return real(*args)

    monkeypatch.setattr(engine, "step", broken_once)
    alice.send("hello")
    await alice.expect("Sorry, something went wrong on my side. Please send that again.")
    await alice.expect("Which language")


async def test_a_red_flag_whose_step_fails_still_gets_the_advice(bot, emulator, monkeypatch):
    def broken(*args):
        raise RuntimeError("the database is down")

    monkeypatch.setattr(bot.bot_data["engine"], "step", broken)
    alice = Phone(emulator, ALICE, language_code="en-US")
    alice.send("since this morning I can't control my bladder")
    text = await alice.expect("needs a doctor")
    assert "call 911" in text


@pytest.mark.parametrize("words", ["I want to end my life", "I can't go on like this"])
async def test_a_crisis_message_whose_step_fails_still_gets_the_crisis_lines(bot, emulator, monkeypatch, words):
    engine: Engine = bot.bot_data["engine"]

    def broken(*args):
        raise RuntimeError("the database is down")

    monkeypatch.setattr(engine, "step", broken)
    alice = Phone(emulator, ALICE, language_code="en-US")
    alice.send(words)  # an ambiguous message too: the question cannot be asked, the lines can
    text = await alice.expect("you don't have to carry this alone")
    assert "988 Suicide & Crisis Lifeline: call or text 988" in text and "Sorry" not in text


async def test_telegram_429_is_honoured_and_nothing_is_sent_twice(bot, emulator):
    emulator.fail_next("sendMessage", status=429, retry_after=1)
    alice = Phone(emulator, ALICE)
    started = time.monotonic()
    alice.send("/start")
    await alice.expect("Which language")
    assert time.monotonic() - started >= 1.0
    assert len(emulator.messages(ALICE)) == 1


async def test_a_failing_command_menu_is_not_fatal(emulator, database, database_url):
    emulator.fail_next("setMyCommands", status=500, description="Internal Server Error", times=3)
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url)
    app = build_application(settings, Engine(database))
    async with running(app, database):
        alice = Phone(emulator, ALICE)
        alice.send("/start")
        await alice.expect("Which language")
        assert emulator.calls_to("setMyCommands")  # tried, failed, carried on


async def test_the_token_never_reaches_the_logs(emulator, database, database_url):
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, log_level="DEBUG")
    stream = io.StringIO()
    setup_logging(settings, stream=stream)
    try:
        app = build_application(settings, Engine(database))
        async with running(app, database):
            alice = Phone(emulator, ALICE)
            alice.send("/start")
            await alice.expect("Which language")
            alice.send("my private words")
            await alice.expect("Please choose one of the buttons")
            logging.getLogger("check").debug("debug is on")
            logging.getLogger("check").info("token is %s", emulator.token)  # even when logged on purpose
            try:
                raise RuntimeError(f"failed with {emulator.token}")
            except RuntimeError:
                logging.getLogger("check").exception("and in a traceback")
    finally:
        logging.basicConfig(force=True, handlers=[logging.NullHandler()])
    output = stream.getvalue()
    assert "DEBUG check: debug is on" in output and "Application.stop() complete" in output
    assert "token is [redacted]" in output and "failed with [redacted]" in output
    assert "my private words" not in output  # python-telegram-bot logs whole updates at DEBUG: held at INFO
    assert emulator.token not in output
    assert emulator.token.split(":")[1] not in output


async def test_one_patients_quick_messages_are_handled_in_order(bot, emulator, database):
    alice = Phone(emulator, ALICE)
    alice.send("/start")
    await alice.expect("Which language")
    for label, wait_for in [("English", "emergency service"), ("Continue", "Do you agree"), ("Yes, I agree", "18 or older"),
                            ("Yes, I'm 18 or older", "Which time zone"), ("Denver", "local time"),
                            ("Yes, that's right", "call you")]:
        alice.press(label)
        await alice.expect(wait_for)
    alice.send("Al")
    await alice.expect("Where does it hurt?")
    answers = ["one", "two", "three", "four", "five"]
    for answer in answers:  # typed fast, without waiting for the questions
        emulator.send_text(ALICE, answer)
    await alice.expect("What would you like to do?", timeout=15)
    with database.transaction() as session:
        from storage.models import PainStory

        story = session.scalars(select(PainStory)).one()
        assert [story.where_it_hurts, story.since_when, story.what_makes_it_worse, story.what_has_been_tried, story.good_day] == answers


async def test_progress_arrives_as_a_picture(bot, emulator, database):
    from datetime import datetime, timedelta, timezone

    from storage.models import Answer, Response

    alice = Phone(emulator, ALICE)
    await walk_onboarding(alice)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        now = datetime.now(timezone.utc)
        for days in range(10):
            response = Response(patient_id=patient.id, instrument="daily", source="self", language="en",
                                started_at=now - timedelta(days=days), completed_at=now - timedelta(days=days))
            session.add(response)
            session.flush()
            session.add(Answer(response_id=response.id, item_id="pain_now", value=5 + days % 3))
    alice.send("/progress")
    await emulator.until(lambda: emulator.calls_to("sendPhoto"), timeout=15)
    photo = emulator.messages(ALICE)[-2] if emulator.messages(ALICE)[-1]["kind"] != "photo" else emulator.messages(ALICE)[-1]
    assert photo["kind"] == "photo" and "You checked in on 10 of the last" in photo["caption"]


async def test_scheduled_prompts_meet_403_and_429_from_telegram(bot, emulator, database):
    from datetime import datetime, timezone

    from factories import due_prompts
    from bot.delivery import prompt_deliverer
    from scheduler.dispatcher import Dispatcher
    from storage.models import Prompt

    due_prompts(database, [ALICE, BOB], datetime.now(timezone.utc))
    emulator.blocked.add(BOB)
    emulator.fail_next("sendMessage", status=429, retry_after=1)
    engine: Engine = bot.bot_data["engine"]

    assert await Dispatcher(database, engine, prompt_deliverer(bot.bot, engine)).tick() == 1
    with database.transaction() as session:
        by_chat = {p.external_id: (prompt.status, p.reachable) for prompt, p in
                   session.execute(select(Prompt, Patient).join(Patient, Prompt.patient_id == Patient.id).where(Prompt.kind == "checkin"))}
    assert by_chat == {str(ALICE): ("sent", True), str(BOB): ("blocked", False)}
    assert [m["text"] for m in emulator.messages(ALICE)] == ["Hello P, time for your check-in: 5 short questions."]


async def test_polling_rides_out_a_conflict(bot, emulator):
    emulator.fail_next("getUpdates", status=409, description="Conflict: terminated by other getUpdates request")
    await asyncio.sleep(0.2)
    alice = Phone(emulator, ALICE)
    alice.send("/start")
    await alice.expect("Which language", timeout=15)


async def test_a_guided_drill_edits_one_message_and_stop_works(emulator, database, database_url):
    from bot.guide import GuidePlayer

    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(database), sender=Sender(per_chat_interval=0.05), guides=GuidePlayer(time_scale=0.02))
    async with running(app, database):
        alice = Phone(emulator, ALICE)
        await walk_onboarding(alice)
        await alice.open("Breathing exercise")
        await alice.expect("Which breathing exercise")
        for label, expect in [("Slow paced breathing (4 in, 6 out)", "For how long?"),
                              ("1 minute", "how tense do you feel right now"), ("5", "Breathe in… 4")]:
            alice.press(label)
            await alice.expect(expect)
        guide = emulator.last_message(ALICE)
        await alice.expect("How tense do you feel now", timeout=15)  # played out by itself
        guide = next(m for m in emulator.messages(ALICE) if m["message_id"] == guide["message_id"])
        assert guide["text"] == "Well done. Breathe normally now." and guide["edits"] == 12  # one edit per phase

        alice.press("2")
        await alice.expect("Tension: from 5 to 2.")
        await alice.open("Breathing exercise")
        await alice.expect("Which breathing exercise")
        for label, expect in [("Box breathing (4-4-4-4)", "For how long?"),
                              ("5 minutes", "how tense do you feel right now"), ("6", "Breathe in… 4")]:
            alice.press(label)
            await alice.expect(expect)
        await asyncio.sleep(0.3)
        alice.press("Stop")
        await alice.expect("How tense do you feel now")
        edits_at_stop = len(emulator.calls_to("editMessageText"))
        await asyncio.sleep(0.5)
        assert len(emulator.calls_to("editMessageText")) <= edits_at_stop + 1  # the drill stopped


async def test_cancel_during_a_drill_takes_its_stop_button_off_the_message(emulator, database, database_url):
    from bot.guide import GuidePlayer
    from storage.models import BreathingSession, DialogState

    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(database), sender=Sender(per_chat_interval=0.05), guides=GuidePlayer(time_scale=0.2))
    async with running(app, database):
        alice = Phone(emulator, ALICE)
        await walk_onboarding(alice)
        await alice.open("Breathing exercise")
        await alice.expect("Which breathing exercise")
        for label, expect in [("Box breathing (4-4-4-4)", "For how long?"),
                              ("5 minutes", "how tense do you feel right now"), ("6", "Breathe in… 4")]:
            alice.press(label)
            await alice.expect(expect)
        drill = emulator.last_message(ALICE)
        [(_label, stop)] = emulator.buttons(drill)

        def on_screen() -> dict:
            return next(m for m in emulator.messages(ALICE) if m["message_id"] == drill["message_id"])

        alice.send("/cancel")
        await alice.expect("What would you like to do?")
        await emulator.until(lambda: on_screen()["text"] == "Exercise stopped.")
        assert not on_screen()["reply_markup"] and emulator.buttons(on_screen()) == []  # no Stop left to press
        edits = len(emulator.calls_to("editMessageText"))
        await asyncio.sleep(1.0)  # a phase lasts 0.8 s here: the player would have edited again
        assert len(emulator.calls_to("editMessageText")) == edits and on_screen()["text"] == "Exercise stopped."

        emulator.press(ALICE, drill["message_id"], stop, check=False)  # a stale tap, from an app that had not redrawn yet
        await alice.expect("That exercise has already ended.")
        await asyncio.sleep(0.3)
        assert on_screen()["text"] == "Exercise stopped." and not on_screen()["reply_markup"]
        with database.transaction() as session:
            row = session.scalars(select(BreathingSession)).one()
            assert (row.completed, row.tension_after) == (False, None) and row.actual_seconds is not None
            state = session.scalars(select(DialogState)).one()
            assert (state.dialog, state.state) == ("menu", "main")
