"""Update ids are applied once within 48 hours, and a message once whatever its update id; after
Telegram starts its ids again, an old id is a new update (it used to be dropped in silence)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import NOW, Chat
from dialogs.engine import Engine
from dialogs.io import Inbound, Message, Text, Who
from onboard import onboard
from storage import updates
from storage.models import ProcessedUpdate

WHO = Who("telegram", "1001", "en")


@pytest.fixture
def chat(database):
    """A patient whose engine reads the calendar the test moves."""
    return Chat(Engine(database))


def texts(outputs) -> list[str]:
    return [o.text for o in outputs if isinstance(o, Message)]


def say(engine, text: str, update_id: int, message_id: int | None = None):
    message = (1001, message_id) if message_id is not None else None
    return texts(engine.handle(Inbound(WHO, Text(text), update_id, message)))


def test_a_repeated_update_changes_nothing_and_says_nothing(chat, calendar):
    onboard(chat)
    first = say(chat.engine, "/menu", 500, 77)
    assert first
    assert say(chat.engine, "/menu", 500, 77) == []  # redelivered: its reply went out the first time
    calendar.shift(timedelta(hours=47))
    assert say(chat.engine, "/menu", 500) == []  # still within the window


def test_the_same_message_under_another_update_id_is_applied_once(chat):
    onboard(chat)
    assert say(chat.engine, "/menu", 600, 88)
    assert say(chat.engine, "/menu", 601, 88) == []
    assert say(chat.engine, "/menu", 602, 89)  # the next message


def test_an_id_from_before_telegram_started_over_is_a_new_update(chat, calendar, database):
    onboard(chat)
    assert say(chat.engine, "/menu", 700, 90)
    calendar.shift(timedelta(days=8))  # a week without updates: Telegram's ids may start again
    assert say(chat.engine, "/menu", 700, 5), "a new message with an old id was dropped"
    with database.transaction() as session:
        assert session.get(ProcessedUpdate, ("telegram", 700)).message_id == 5


def test_pruning_keeps_only_the_window(chat, calendar, database):
    onboard(chat)
    say(chat.engine, "/menu", 800, 91)
    calendar.shift(timedelta(hours=30))
    say(chat.engine, "/menu", 801, 92)
    calendar.shift(timedelta(hours=20))  # 50 h after the first, 20 h after the second
    with database.transaction() as session:
        before = session.scalar(select(func.count()).select_from(ProcessedUpdate))
        assert updates.prune(session, NOW + timedelta(hours=50)) >= 1  # (the onboarding's too)
        kept = set(session.scalars(select(ProcessedUpdate.update_id)))
    assert 801 in kept and 800 not in kept and before > len(kept)
