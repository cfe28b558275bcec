"""When the Bot API fails: 5xx, answers later than the client waits, 429, 403, 400, getUpdates down.

The real Application against the emulator's failure injection. Whatever fails, what the patient
answered is kept, nothing they sent is lost or applied twice, and their next message gets the
question they are at. The sender's retry rules are checked on their own at the end.
"""
from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest
from sqlalchemy import func, select
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.config import Settings
from bot.polling import serve
from bot.sender import REPLY, SCHEDULED, Sender
from bot.telegram import build_application
from conftest import Chat
from dialogs.engine import Engine
from onboard import onboard
from phone import Phone
from storage.models import Answer, Inbox, Patient, ProcessedUpdate, Prompt

ALICE, BOB = 8001, 8002
READ_TIMEOUT = 1.0  # how long the bot waits for an answer from the Bot API (5 s in production)


@pytest.fixture
async def bot(emulator, database, database_url, caplog):
    """Alice is in a daily check-in, Bob at the menu; the bot gives up on an answer after a second."""
    engine = Engine(database)
    alice = Chat(engine, str(ALICE))
    onboard(alice)
    alice.open("Check in now")
    alice.press("Daily check-in")
    onboard(Chat(engine, str(BOB)))
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    sender = Sender(per_chat_interval=0.05, retry_delay=0.1)
    app = build_application(settings, engine, sender=sender, read_timeout=READ_TIMEOUT)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, database, stop, poll_timeout=1))
    await emulator.until(lambda: emulator.calls_to("getUpdates"))
    caplog.set_level(logging.INFO)
    yield app
    stop.set()
    await serving


def answers(database) -> list[tuple[str, float]]:
    with database.transaction() as session:
        return [tuple(row) for row in session.execute(select(Answer.item_id, Answer.value).order_by(Answer.id))]


def copies(emulator, fragment: str, chat: int = ALICE) -> int:
    return sum(fragment in (m["text"] or "") for m in emulator.messages(chat))


def failed_updates(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().endswith(" failed") and r.name in ("bot.telegram", "bot.recovery")]


async def test_a_reply_that_meets_a_5xx_is_sent_again_once(bot, emulator, database):
    emulator.fail_next("sendMessage", status=502, description="Bad Gateway")
    alice = Phone(emulator, ALICE)
    alice.send("5")
    await alice.expect("Question 2 of 5")
    await asyncio.sleep(0.3)
    assert copies(emulator, "Question 2 of 5") == 1
    assert [c.get("error") for c in emulator.calls_to("sendMessage")] == [502, None]
    assert answers(database) == [("pain_now", 5)]


async def test_a_5xx_after_the_message_went_out_costs_a_duplicate_never_the_reply(bot, emulator, database):
    # Telegram sent it and still answered 500: the bot cannot tell, so the reply goes once more.
    emulator.fail_next("sendMessage", status=500, description="Internal Server Error", applied=True)
    alice = Phone(emulator, ALICE)
    alice.send("5")
    await alice.expect("Question 2 of 5")
    await asyncio.sleep(0.3)
    assert copies(emulator, "Question 2 of 5") == 2
    assert answers(database) == [("pain_now", 5)]  # the answer itself, once


async def test_a_reply_answered_later_than_the_bot_waits_is_sent_again(bot, emulator, database):
    emulator.fail_next("sendMessage", delay=READ_TIMEOUT + 0.5)
    alice = Phone(emulator, ALICE)
    started = time.monotonic()
    alice.send("5")
    await alice.expect("Question 2 of 5")
    await emulator.until(lambda: copies(emulator, "Question 2 of 5") == 2)  # the first arrived too, late
    assert time.monotonic() - started >= READ_TIMEOUT
    alice.send("7")  # the chat carries on in order
    await alice.expect("Question 3 of 5")
    assert answers(database) == [("pain_now", 5), ("sleep_hours", 7)]


async def test_a_reply_that_cannot_be_sent_is_recovered_without_asking_to_send_again(bot, emulator, database, caplog):
    emulator.fail_next("sendMessage", status=503, description="Service Unavailable", times=2)  # both tries
    alice = Phone(emulator, ALICE)
    alice.send("5")
    text = await alice.expect("Question 2 of 5")  # asked again by the error handler, once the API is back
    assert "send that again" not in text  # the answer was kept: sending it again would answer question 2
    assert answers(database) == [("pain_now", 5)]

    # Telegram away for longer: nothing reaches Alice, but her answer is kept and her next
    # message is met with the question she is at.
    emulator.fail_next("sendMessage", status=504, description="Gateway Timeout", times=4)
    alice.send("7")
    await emulator.until(lambda: len(emulator.calls_to("sendMessage")) == 2 + 1 + 4)
    await asyncio.sleep(0.3)
    assert alice.new_messages() == [] and answers(database)[-1] == ("sleep_hours", 7)
    alice.send("30")
    await alice.expect("Question 4 of 5")
    assert answers(database)[-1] == ("active_minutes", 30)
    assert failed_updates(caplog) == ["update 100001 failed", "update 100002 failed"]  # logged, with their update ids


async def test_a_blocked_bot_marks_the_patient_unreachable_without_a_crash(bot, emulator, database, caplog):
    emulator.blocked.add(ALICE)
    emulator.send_text(ALICE, "5")
    await emulator.until(lambda: emulator.calls_to("sendMessage"))
    await asyncio.sleep(0.3)
    assert [c.get("error") for c in emulator.calls_to("sendMessage")] == [403]  # not retried, no apology
    with database.transaction() as session:
        alice = session.scalars(select(Patient).where(Patient.external_id == str(ALICE))).one()
        assert alice.reachable is False
        statuses = set(session.scalars(select(Prompt.status).where(Prompt.patient_id == alice.id)))
        assert statuses <= {"blocked"}, statuses  # no check-in is sent while blocked
    assert failed_updates(caplog) == []
    assert answers(database) == [("pain_now", 5)]

    bob = Phone(emulator, BOB)  # the others carry on
    bob.send("hello")
    await bob.expect("What would you like to do?")

    emulator.blocked.discard(ALICE)  # unblocked, and writes again
    alice_phone = Phone(emulator, ALICE)
    alice_phone.send("7")
    await alice_phone.expect("Question 3 of 5")
    with database.transaction() as session:
        assert session.scalars(select(Patient.reachable).where(Patient.external_id == str(ALICE))).one() is True


async def test_a_400_is_not_retried_and_the_question_is_asked_again(bot, emulator, database):
    emulator.fail_next("sendMessage", status=400, description="Bad Request: can't parse entities")
    alice = Phone(emulator, ALICE)
    alice.send("5")
    text = await alice.expect("Question 2 of 5")
    assert "send that again" not in text
    assert [c.get("error") for c in emulator.calls_to("sendMessage")] == [400, None]
    assert bot.bot.rate_limiter.resent == 0
    assert answers(database) == [("pain_now", 5)]


async def test_429_is_honoured_and_a_5xx_after_it_still_retried(bot, emulator, database):
    emulator.fail_next("sendMessage", status=429, retry_after=1)
    emulator.fail_next("sendMessage", status=502, description="Bad Gateway")
    alice = Phone(emulator, ALICE)
    started = time.monotonic()
    alice.send("5")
    await alice.expect("Question 2 of 5")
    assert time.monotonic() - started >= 1.0
    await asyncio.sleep(0.3)
    assert copies(emulator, "Question 2 of 5") == 1
    assert [c.get("error") for c in emulator.calls_to("sendMessage")] == [429, 502, None]


async def test_get_updates_failing_neither_loses_nor_repeats_an_update(bot, emulator, database):
    # The long poll that carries Alice's messages is answered with a 502, the next one too late
    # for the bot to wait (both after Telegram handed the updates out); then polling recovers.
    emulator.fail_next("getUpdates", status=502, description="Bad Gateway", applied=True)
    emulator.fail_next("getUpdates", delay=READ_TIMEOUT + 1 + 1)  # the wait is the poll's 1 s plus the read timeout
    await emulator.until(lambda: emulator.calls_to("getUpdates")[-1].get("injected"), timeout=5)
    for text in ["5", "7", "30"]:
        emulator.send_text(ALICE, text)
    await emulator.until(lambda: copies(emulator, "Question 4 of 5") >= 1, timeout=20)
    await asyncio.sleep(0.5)

    polls = emulator.calls_to("getUpdates")
    assert [c.get("error") for c in polls if c.get("injected")] == [502, None]
    for question in ("Question 2 of 5", "Question 3 of 5", "Question 4 of 5"):
        assert copies(emulator, question) == 1, question
    assert answers(database) == [("pain_now", 5), ("sleep_hours", 7), ("active_minutes", 30)]
    with database.transaction() as session:
        assert session.scalar(select(func.count()).where(ProcessedUpdate.update_id > 100_000)) == 3
        assert session.scalar(select(func.count()).select_from(Inbox)) == 0


# -- the sender's retry rules ------------------------------------------------------------------------


def failing(*errors):
    """A Bot API call that fails with `errors` in turn, then succeeds; `calls` counts the tries."""

    async def call():
        call.calls += 1
        if call.calls <= len(errors):
            raise errors[call.calls - 1]
        return "sent"

    call.calls = 0
    return call


def not_sent() -> NetworkError:
    error = NetworkError("httpx.ConnectError: connection refused")
    error.__cause__ = httpx.ConnectError("connection refused")
    return error


def read_timeout() -> TimedOut:
    error = TimedOut()
    error.__cause__ = httpx.ReadTimeout("read timed out")
    return error


@pytest.mark.parametrize("priority", [REPLY, SCHEDULED])
async def test_a_request_that_never_left_is_sent_again_whatever_it_is(priority):
    sender = Sender(per_chat_interval=0, retry_delay=0.01)
    call = failing(not_sent(), not_sent(), not_sent())
    assert await sender.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, priority) == "sent"
    assert call.calls == 4


@pytest.mark.parametrize("error", [NetworkError("Bad Gateway"), read_timeout()])
async def test_a_reply_that_may_have_gone_out_is_sent_once_more_a_scheduled_send_never(error):
    sender = Sender(per_chat_interval=0, retry_delay=0.01)
    reply = failing(error)
    assert await sender.process_request(reply, (), {}, "sendMessage", {"chat_id": 1}, REPLY) == "sent"
    twice = failing(error, error)
    with pytest.raises(NetworkError):
        await sender.process_request(twice, (), {}, "sendMessage", {"chat_id": 1}, REPLY)
    assert twice.calls == 2
    scheduled = failing(error)
    with pytest.raises(NetworkError):
        await sender.process_request(scheduled, (), {}, "sendMessage", {"chat_id": 1}, SCHEDULED)
    assert scheduled.calls == 1


async def test_bad_requests_and_calls_without_a_chat_are_not_retried():
    sender = Sender(per_chat_interval=0, retry_delay=0.01)
    bad = failing(BadRequest("Message is too long"))
    with pytest.raises(BadRequest):
        await sender.process_request(bad, (), {}, "sendMessage", {"chat_id": 1}, REPLY)
    poll = failing(NetworkError("Bad Gateway"))
    with pytest.raises(NetworkError):  # the poller has its own backoff
        await sender.process_request(poll, (), {}, "getUpdates", {}, None)
    assert (bad.calls, poll.calls) == (1, 1)


async def test_telegram_unreachable_at_start_is_one_line_and_tried_again(emulator, database, database_url, caplog):
    """getMe fails twice on the way (502): the bot says so in a line each time, without a
    traceback, waits, tries again, and then serves as usual."""
    caplog.set_level(logging.INFO)
    emulator.fail_next("getMe", status=502, times=2)
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(database))
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, database, stop, poll_timeout=1))
    try:
        alice = Phone(emulator, 5001)
        alice.send("/start")
        await alice.expect("Which language", timeout=30)
    finally:
        stop.set()
        await serving
    down = [r for r in caplog.records if r.getMessage().startswith("Telegram cannot be reached")]
    assert len(down) == 2 and all(r.exc_info is None for r in down)
