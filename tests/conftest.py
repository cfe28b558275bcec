"""Shared fixtures. The whole suite runs on SQLite by default and on PostgreSQL when
PAINCOACH_TEST_DATABASE_URL names one (each test then gets a schema of its own)."""
from __future__ import annotations

import itertools
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dialogs.engine import Engine
from dialogs.io import Command, Edit, Inbound, Message, Press, Text, Who
from storage import Database, open_database

POSTGRES = os.environ.get("PAINCOACH_TEST_DATABASE_URL", "")
UPDATE_IDS = itertools.count(1)
NOW = datetime(2026, 11, 28, 13, 5, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def calendar():
    """Every test lives on NOW's calendar, whatever day the suite runs: code that reads the clock
    itself (column defaults, the command line, the desk) and code handed NOW agree. The clock still
    moves (tick), so waits and timeouts behave; monotonic time, which rate limits use, is untouched.
    A test moves the calendar with ``calendar.shift(...)`` or ``calendar.move_to(...)``."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def database_url(tmp_path: Path):
    if not POSTGRES:
        yield f"sqlite:///{tmp_path / 'paincoach.db'}"
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def database(database_url: str):
    db = open_database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def emulator():
    """A Bot API emulator on loopback, for the real python-telegram-bot Application to talk to."""
    from botapi import BotAPIEmulator

    emulator = BotAPIEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def engine(database: Database) -> Engine:
    return Engine(database, clock=lambda: NOW)


class Chat:
    """A patient talking to the engine directly: what they would see, as plain texts and buttons."""

    def __init__(self, engine: Engine, external_id: str = "1001", language_code: str | None = "en"):
        self.engine = engine
        self.who = Who("telegram", external_id, language_code)
        self.outputs: list = []
        self.last_buttons: dict[str, tuple[str, int]] = {}  # label -> (button id, message id)
        self.shown: dict[int, tuple[str, ...]] = {}  # message id -> its buttons, as Telegram reports them
        self.message_ids = 0
        self.playing: int | None = None  # a guided exercise's message, "played" until the next event stops it

    def _run(self, event, update_id: int | None = None) -> list[str]:
        if update_id is None:
            update_id = next(UPDATE_IDS)  # unique per bot, as Telegram's are
        stopped, self.playing = self.playing, None  # as the Telegram transport stops it for anything sent
        self.outputs = self.engine.handle(Inbound(self.who, event, update_id, stopped_guide=stopped))
        pressable: dict[str, tuple[str, int]] = {}  # every button this turn showed; the last message's win
        for output in self.outputs:
            if isinstance(output, Message):
                self.message_ids += 1
                if output.guide:
                    self.playing = self.message_ids
                if output.buttons:
                    pressable.update({b.label: (b.id, self.message_ids) for row in output.buttons for b in row})
                    self.shown[self.message_ids] = tuple(output.button_ids)
        if pressable:
            self.last_buttons = pressable
        return self.texts

    @property
    def texts(self) -> list[str]:
        return [o.text for o in self.outputs if isinstance(o, Message)]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def buttons(self) -> list[str]:
        return list(self.last_buttons)

    @property
    def edits(self) -> list[Edit]:
        return [o for o in self.outputs if isinstance(o, Edit)]

    def say(self, text: str, **kw) -> list[str]:
        return self._run(Text(text), **kw)

    def command(self, name: str, args: str = "", **kw) -> list[str]:
        return self._run(Command(name, args), **kw)

    def press(self, label: str, **kw) -> list[str]:
        button_id, message_id = self.last_buttons[label]
        shown = None if message_id is None else self.shown.get(message_id, ())  # no message: the transport cannot tell
        return self._run(Press(button_id, message_id, "question", shown), **kw)

    def open(self, tool: str, **kw) -> list[str]:
        """Open a menu tool by its (English) label wherever the menu keeps it: through its group's
        button when the tool is not on screen, so tests do not depend on the menu's layout."""
        from dialogs.menu import GROUPS, group_of

        if tool not in self.last_buttons and (group := group_of(tool)) is not None:
            self.press(GROUPS[group].label)
        return self.press(tool, **kw)

    def receive(self, message_id: int, message: Message) -> None:
        """A message that reached the patient another way (a scheduled prompt): its buttons can be pressed."""
        self.last_buttons = {b.label: (b.id, message_id) for row in message.buttons for b in row}
        self.shown[message_id] = tuple(message.button_ids)

    def event(self, event, **kw) -> list[str]:
        return self._run(event, **kw)


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)


@pytest.fixture
def new_chat(engine: Engine):
    def make(external_id: str, language_code: str | None = "en") -> Chat:
        return Chat(engine, external_id, language_code)

    return make


@pytest.fixture
def chat_at(engine: Engine) -> Chat:
    """A patient talking to whatever `engine` the test module provides (e.g. one with a clock)."""
    return Chat(engine)
