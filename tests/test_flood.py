"""A flood from one patient (100 messages in 5 seconds) is thinned for that patient only.

The real Application, with the production sender (one message a second per chat), against the
Bot API emulator. Every message is handled and recorded; the flooder gets a short note and the
reply to their latest message instead of 100 replies; a crisis message inside the flood gets
its crisis reply; another patient chatting at the same time is answered as quickly as without it.
"""
from __future__ import annotations

import asyncio
import statistics
import time

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.flood import FloodGuard
from bot.polling import serve
from bot.telegram import build_application
from conftest import Chat
from dialogs.engine import Engine
from dialogs.io import Who
from onboard import onboard
from storage.models import Answer, Inbox, ProcessedUpdate, Response, SafetyEvent

FLOODER, OTHER = 7001, 7002
NOTE = "You're sending a lot at once"
CYCLE = 7  # messages per check-in below


def checkin_cycle(i: int) -> list[str]:
    """Open a daily check-in by typing its buttons, and answer its five items."""
    return ["Check in now", "Daily check-in", str(i % 11), "7", str(10 + i), str(1000 + i), "Yes"]


@pytest.fixture
async def bot(emulator, database, database_url):
    """The bot as production runs it: the default sender, so one message a second per chat."""
    engine = Engine(database)
    for patient in (FLOODER, OTHER):  # both at the menu already
        onboard(Chat(engine, str(patient)))
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, engine)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, database, stop))
    await emulator.until(lambda: emulator.calls_to("getUpdates"))
    yield app
    stop.set()
    await serving


def texts(emulator, chat: int) -> list[str]:
    return [m["text"] or "" for m in emulator.messages(chat)]


async def converse(emulator, rounds: int, gap: float = 1.2) -> list[float]:
    """The other patient writes now and then, as people do; returns how long each reply took."""
    latencies = []
    for i in range(rounds):
        before = len(emulator.messages(OTHER))
        sent = time.monotonic()
        emulator.send_text(OTHER, f"hello {i}")
        await emulator.until(lambda: len(emulator.messages(OTHER)) > before, timeout=10)
        arrived = next(c["t"] for c in emulator.calls_to("sendMessage") if c["chat_id"] == OTHER and c["t"] > sent and "error" not in c)
        latencies.append(arrived - sent)
        await asyncio.sleep(max(0.0, gap - (time.monotonic() - sent)))
    return latencies


async def flood(emulator, messages: list[str], seconds: float = 5.0) -> None:
    for text in messages:
        emulator.send_text(FLOODER, text)
        await asyncio.sleep(seconds / len(messages))


async def settled(emulator, database) -> None:
    await emulator.until(lambda: not emulator.pending_updates(), timeout=30)

    def inbox_empty() -> bool:
        with database.transaction() as session:
            return session.scalar(select(func.count()).select_from(Inbox)) == 0

    await emulator.until(inbox_empty, timeout=30)


async def test_a_flood_is_thinned_for_the_flooder_only_and_every_answer_is_kept(bot, emulator, database):
    alone = await converse(emulator, 4)

    messages = [text for i in range(14) for text in checkin_cycle(i)] + ["Check in now", "Daily check-in"]
    assert len(messages) == 100
    flooding = asyncio.create_task(flood(emulator, messages))
    beside = await converse(emulator, 5)
    await flooding
    await settled(emulator, database)
    await asyncio.sleep(1.5)  # the last reply is paced a second behind the one before

    # Every message was handled and every answer kept, in order.
    with database.transaction() as session:
        assert session.scalar(select(func.count()).where(ProcessedUpdate.update_id > 100_000)) == 100 + 4 + 5
        answers = session.execute(
            select(Response.id, Answer.item_id, Answer.value).join(Answer, Answer.response_id == Response.id)
            .where(Response.completed_at.is_not(None)).order_by(Response.id, Answer.id)
        ).all()
    assert len(answers) == 14 * 5
    assert [value for _r, item, value in answers if item == "active_minutes"] == [10 + i for i in range(14)]
    assert [value for _r, item, value in answers if item == "pain_now"] == [i % 11 for i in range(14)]

    # The flooder got a few messages, one note, and, last, the question they are at now.
    received = texts(emulator, FLOODER)
    print(f"\nflooder: {len(received)} messages for 100 sent; other patient's reply took "
          f"{max(alone) * 1000:.0f} ms at most alone (median {statistics.median(alone) * 1000:.0f}), "
          f"{max(beside) * 1000:.0f} ms at most beside the flood (median {statistics.median(beside) * 1000:.0f})")
    assert len(received) <= 15, received
    assert sum(NOTE in text for text in received) == 1
    current = bot.bot_data["engine"].current_question(Who("telegram", str(FLOODER), "en"))
    assert received[-1].endswith(current[-1].text) and "Question 1 of 5" in received[-1]

    # The other patient noticed nothing: every reply came, and none queued behind the flooder's
    # (their replies went out between the flooder's, which are paced a second apart).
    # The latencies are printed above; how fast is for benchmarks, not for a test.
    assert len(texts(emulator, OTHER)) == 9
    sends = [c["chat_id"] for c in emulator.calls_to("sendMessage") if c["chat_id"] in (FLOODER, OTHER) and "error" not in c]
    first, last = sends.index(FLOODER), len(sends) - 1 - sends[::-1].index(FLOODER)
    assert OTHER in sends[first:last], sends


async def test_a_crisis_message_inside_a_flood_gets_its_crisis_reply(bot, emulator, database):
    messages = [text for i in range(15) for text in checkin_cycle(i)][:100]
    messages[52] = "honestly I just want to die"  # in place of the eighth check-in's second answer
    await flood(emulator, messages)
    await settled(emulator, database)
    await asyncio.sleep(1.5)

    received = texts(emulator, FLOODER)
    assert len(received) <= 15, received
    crisis = [text for text in received if "you don't have to carry this alone" in text]
    assert len(crisis) == 1 and "Continue" in str(emulator.messages(FLOODER))
    assert "I'm still here" in received[-1]  # paused since: the latest reply says so, with the lines
    with database.transaction() as session:
        assert session.scalars(select(SafetyEvent.category)).all() == ["crisis"]
        assert session.scalar(select(func.count()).where(ProcessedUpdate.update_id > 100_000)) == 100
        # What came before the crisis was kept: seven whole check-ins, and the first item of the eighth.
        assert session.scalar(select(func.count()).select_from(Answer)) == 7 * 5 + 1


def test_the_guard_counts_waiting_updates_and_recent_arrivals():
    now = [0.0]
    guard = FloodGuard(max_waiting=3, max_burst=100, clock=lambda: now[0])
    for _ in range(3):
        guard.arrived(1)
    assert not guard.hold(1)  # three waiting: not a flood yet
    guard.arrived(1)
    assert guard.hold(1) and not guard.hold(2)  # four waiting: the older replies give way, in this chat only
    for _ in range(3):
        guard.finished(1)
    assert not guard.hold(1)  # the latest is always answered...
    assert guard.note_due(1) and not guard.note_due(1)  # ...with the note, once
    guard.finished(1)

    guard = FloodGuard(max_waiting=100, max_burst=5, window=5.0, clock=lambda: now[0])
    for _ in range(6):  # six arrived within five seconds
        guard.arrived(1)
    assert guard.hold(1)
    for _ in range(6):
        guard.finished(1)
    now[0] = 2.0
    guard.arrived(1)
    guard.arrived(1)
    assert guard.hold(1)  # still a flood two seconds later...
    guard.finished(1)
    guard.finished(1)
    assert guard.note_due(1)
    now[0] = 10.0  # ...but not after a quiet while; the next flood is told again
    guard.arrived(1)
    guard.arrived(1)
    assert not guard.hold(1) and not guard.note_due(1)
    now[0] = 20.0
    guard.finished(1)
    guard.finished(1)
    assert guard._chats == {}  # nothing kept for a chat gone quiet
