"""What a patient's step costs the database: at most 8 round trips on the path an update takes
(bot/steps.answer: the desk check, the engine's step, the replies into the outbox, the update out
of the inbox), BEGIN and COMMIT included, on SQLite and on PostgreSQL."""
from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event

from bot.steps import answer
from clinic.desk import Desk
from conftest import NOW, Chat
from dialogs.io import Inbound
from onboard import onboard
from storage import crypto, outbox

MOST = 8


class RoundTrips:
    """Every statement sent on the engine, and each BEGIN, COMMIT and ROLLBACK. SQLite's BEGIN is a
    statement of ours (storage/db.py) and counted as one; psycopg sends PostgreSQL's on its own."""

    def __init__(self, database):
        self.sent: list[str] = []
        self.counting = False
        event.listen(database.engine, "before_cursor_execute", lambda _c, _cur, statement, *_: self._note(statement))
        if not database.is_sqlite:
            event.listen(database.engine, "begin", lambda _c: self._note("BEGIN"))
        event.listen(database.engine, "commit", lambda _c: self._note("COMMIT"))
        event.listen(database.engine, "rollback", lambda _c: self._note("ROLLBACK"))

    def _note(self, statement: str) -> None:
        if self.counting:
            self.sent.append(statement.strip().splitlines()[0][:100])


class TelegramChat(Chat):
    """A patient whose updates take the Telegram transport's unit of work (bot/steps.answer),
    their replies confirmed as sent, as the handler does."""

    def __init__(self, engine, trips: RoundTrips):
        super().__init__(engine)
        self.desk = Desk(engine.db, clock=lambda: NOW)
        self.trips = trips
        self.engine = self  # Chat hands each update to self.engine.handle: to `handle` below
        self.steps = engine

    def handle(self, inbound: Inbound) -> list:
        chat_id = int(inbound.who.external_id)
        self.trips.sent = []
        answered = answer(self.desk, self.steps, replace(inbound, message=(chat_id, inbound.update_id)), chat_id)
        self.trips.counting = False
        outbox.confirmed(self.steps.db, answered.kept)
        return answered.outputs

    def measure(self, act) -> list[str]:
        self.trips.counting = True
        act(self)
        return self.trips.sent


def to_the_menu(chat) -> None:
    chat.command("menu")


def into_a_check_in(chat) -> None:
    chat.command("menu")
    chat.open("Check in now")
    chat.press("Daily check-in")


def into_a_thought_check(chat) -> None:
    chat.command("menu")
    chat.open("Thought-check")
    chat.press("New thought-check")


STEPS = {  # what the patient does, after getting there, and what they then see
    "a menu press": (to_the_menu, lambda chat: chat.press("Learn"), "Learn"),
    "plain text at the menu": (to_the_menu, lambda chat: chat.say("hello there"), "Please choose one of the buttons below."),
    "a check-in answer pressed": (into_a_check_in, lambda chat: chat.press("7"), "How many hours did you sleep"),
    "a check-in answer typed": (into_a_check_in, lambda chat: chat.say("6"), "How many hours did you sleep"),
    "a thought-check's first words": (into_a_thought_check, lambda chat: chat.say("My back seized up at work"), "What did you feel?"),
    "a thought-check's next words": (lambda chat: (into_a_thought_check(chat), chat.say("My back seized up at work")),
                                     lambda chat: chat.say("scared"), "How strong was that feeling"),
}


@pytest.fixture(params=["plain", "sealed"])
def words_kept(request):
    """Without PAINCOACH_DATA_KEY, and with it (each patient's words sealed with their own key)."""
    if request.param == "sealed":
        crypto.configure(Fernet.generate_key().decode())
    yield request.param
    crypto.configure(None)


@pytest.mark.parametrize("kind", list(STEPS))
def test_a_step_takes_at_most_eight_round_trips(words_kept, database, engine, kind):
    trips = RoundTrips(database)
    chat = TelegramChat(engine, trips)
    onboard(chat)
    get_there, act, expected = STEPS[kind]
    get_there(chat)

    sent = chat.measure(act)

    assert expected in chat.text, chat.text
    assert 0 < len(sent) <= MOST, "\n".join(sent)
