"""Hostile input, generated: whatever a patient (or Telegram) sends, the bot answers and stays sound.

Two layers. The engine gets random events (any unicode, forged and replayed buttons, commands,
edits, media) from several patients, some who never consented, and after every step: no
exception, never silence, no other patient's rows touched, constraints intact, every dialog in a
state of its own. The real python-telegram-bot Application gets random raw updates (groups,
channels, no sender, forged callback data, edits, stickers) over HTTP from the Bot API emulator:
it survives, answers private chats only, and tells each group once.

Each example starts from a copy of one template database (migrated, patients onboarded), so
examples are independent and cheap; these run on SQLite (the checks use its PRAGMAs). What only
PostgreSQL refuses (a NUL character in text) has a test of its own, on the configured database.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event as note, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from dialogs.base import Frame
from dialogs.registry import dialog_class
from dialogs.engine import Engine
from dialogs.io import Command, Edit, Edited, File, Inbound, Media, Message, Press, Text, Who
from onboard import onboard
from conftest import NOW, Chat
from storage import Database, open_database
from storage.models import Base, Inbox

# The cast: external ids in the template database.
ALICE, BOB, CAROL, DAVE, ERIN = "5001", "5002", "5003", "5004", "5005"
NEWCOMER = "5099"  # never wrote: the first event creates them
PATIENTS = [ALICE, BOB, CAROL, DAVE, ERIN, NEWCOMER]

SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Alice and Bob at the menu, Carol in a check-in, Dave at the consent question, Erin who said no."""
    path = tmp_path_factory.mktemp("hostile") / "template.db"
    db = open_database(f"sqlite:///{path}")
    engine = Engine(db, clock=lambda: NOW)
    onboard(Chat(engine, ALICE))
    onboard(Chat(engine, BOB), zone_button="New York", name="Bo")
    carol = Chat(engine, CAROL)
    onboard(carol, name="Carol")
    carol.open("Check in now")
    carol.press("Daily check-in")
    dave = Chat(engine, DAVE)
    dave.command("start")
    dave.press("English")
    dave.press("Continue")
    erin = Chat(engine, ERIN, "de")
    erin.command("start")
    erin.press("English")
    erin.press("Continue")
    erin.press("No, thank you")
    db.dispose()
    return path


@contextmanager
def copy_of(template: Path, directory: Path):
    """A private copy of the template database (SQLite's backup API: WAL and all)."""
    path = directory / f"example-{next(_copies)}.db"
    source, target = sqlite3.connect(template), sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    db = Database(f"sqlite:///{path}")
    try:
        yield db
    finally:
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


_copies = itertools.count()

# -- what a patient may send -------------------------------------------------------------------

SPECIAL_TEXTS = [
    "", " ", "\n\t", "\x00", "\x00\x01\x1b[31m", "\u200b", "\u200b\u200c\u200d\ufeff", "\u202eevil\u202c",
    "\u200fمرحبا، أنا بخير\u200f", "שלום", "👍🏽👨‍👩‍👧‍👦🏳️‍🌈", "Ｆｕｌｌｗｉｄｔｈ", "e\u0301\u0301\u0301",
    "0", "5", "-3", "10", "11", "7.5", "1e309", "NaN", "99999999999999999999999", "yes", "No", "Skip",
    "Yes, I agree", "English", "Check in now", "/start", "/menu extra", "<b>bold</b>", "<a href='x'>", "&amp;", "{name}", "%s",
    "honestly I just want to die", "I want to end my life", "since this morning I can't control my bladder",
    "Can I take more ibuprofen when it's bad?", "I'm having a flare",
    "a" * 10_000, "😀" * 5_000, "ü" * 4_097, ("word " * 2_000)[:10_000],
]
TEXTS = st.one_of(st.text(max_size=300), st.sampled_from(SPECIAL_TEXTS))  # st.text: any code point but lone surrogates
COMMAND_NAMES = st.one_of(
    st.sampled_from(["start", "help", "menu", "language", "timezone", "cancel", "progress", "mydata", "withdraw", "delete", "settings"]),
    st.text(max_size=40),
)
MEDIA_KINDS = st.sampled_from(["sticker", "photo", "voice", "video", "video_note", "document", "location", "contact", "other"])
LANGUAGE_CODES = st.sampled_from([None, "en", "en-US", "de", "de-AT", "es", "es-MX", "fr", "", "zz-ZZ", "x" * 40])


def event_of(data, history: dict[str, list[tuple[str, int, str]]], who: str):
    """One event; a press reuses a button of this patient or another (replayed), or forges one."""
    kind = data.draw(st.sampled_from(["text", "text", "text", "command", "press", "press", "edited", "media"]))
    if kind == "text":
        return Text(data.draw(TEXTS))
    if kind == "command":
        return Command(data.draw(COMMAND_NAMES), data.draw(TEXTS))
    if kind == "edited":
        return Edited(data.draw(TEXTS))
    if kind == "media":
        return Media(data.draw(MEDIA_KINDS), data.draw(st.none() | TEXTS))
    source = data.draw(st.sampled_from(["own", "own", "other", "forged"]))
    pool = history[who] if source == "own" else [b for owner, buttons in history.items() if owner != who for b in buttons]
    if pool and source != "forged":
        button_id, message_id, message_text = data.draw(st.sampled_from(pool))
    else:
        button_id, message_id, message_text = data.draw(st.text(max_size=70)), 1, "forged"
    message_id = data.draw(st.sampled_from([message_id, None, message_id + 1, -1, 2**62]))
    message_text = data.draw(st.sampled_from([message_text, None, ""]) | TEXTS)
    return Press(button_id, message_id, message_text)


# -- what must hold after every step --------------------------------------------------------------

def owners(table) -> tuple[str, str] | None:
    """How a table's rows name their patient: (column, via table) or None for shared tables."""
    if table.name == "patients":
        return "id", ""
    if "patient_id" in table.c:
        return "patient_id", ""
    for fk in table.foreign_keys:  # answers -> responses, pacing_logs -> pacing_activities...
        if "patient_id" in fk.column.table.c:
            return fk.parent.name, fk.column.table.name
    return None


def snapshot(db: Database) -> dict[tuple[str, object], list[str]]:
    """Every row of every table, keyed by (table, owning patient id or None)."""
    rows: dict[tuple[str, object], list[str]] = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            how = owners(table)
            if how is None:
                owner = None
                query = select(table)
            elif not how[1]:
                query = select(table.c[how[0]].label("_owner"), table)
            else:
                parent = Base.metadata.tables[how[1]]
                link = next(fk for fk in table.foreign_keys if fk.parent.name == how[0])
                query = select(parent.c.patient_id.label("_owner"), table).join(parent, link.column == table.c[how[0]])
            for row in connection.execute(query):
                values = row._mapping
                owner = values["_owner"] if how is not None else None
                rows.setdefault((table.name, owner), []).append(repr(tuple(v for k, v in values.items() if k != "_owner")))
    return {key: sorted(value) for key, value in rows.items()}


# Shared logs: a step may add to them, never change them; and data keys, one per person who writes,
# named by their Telegram id, not a patient id (made at a first message, with PAINCOACH_DATA_KEY).
APPEND_ONLY = {"processed_updates", "audit", "data_keys"}


def check_isolation(before, after, acting: int | None) -> None:
    for key in set(before) | set(after):
        table, owner = key
        if owner is not None and owner == acting:
            continue
        old, new = before.get(key, []), after.get(key, [])
        if owner is None and table in APPEND_ONLY:
            assert set(old) <= set(new), f"{table}: rows changed or vanished"
            continue
        assert old == new, f"{table}: rows of patient {owner} changed by patient {acting}'s step"


def check_integrity(db: Database) -> None:
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        for table in Base.metadata.sorted_tables:  # primary keys and unique constraints, counted
            keys = [list(table.primary_key.columns)] + [list(c.columns) for c in table.constraints if c.__class__.__name__ == "UniqueConstraint"]
            for columns in keys:
                if not columns:
                    continue
                duplicates = connection.execute(
                    select(*columns).where(*(c.is_not(None) for c in columns)).group_by(*columns).having(func.count() > 1)
                ).fetchall()
                assert duplicates == [], f"{table.name}: duplicate {[c.name for c in columns]}: {duplicates[:3]}"


def check_states(db: Database) -> None:
    with db.engine.connect() as connection:
        states = connection.execute(text("SELECT patient_id, dialog, state, data, stack FROM dialog_states")).fetchall()
    for patient_id, dialog, state, data, stack in states:
        assert state in dialog_class(dialog).states, (patient_id, dialog, state)
        assert state not in dialog_class(dialog).final, (patient_id, dialog, state)  # a finished dialog hands over at once
        assert isinstance(json.loads(data), dict)
        for frame in json.loads(stack):
            frame = Frame(**frame)
            assert frame.state in dialog_class(frame.dialog).states, (patient_id, frame)


def check_outputs(outputs) -> None:
    """What Telegram would refuse (an empty text, a blank label, oversized callback data) is a bug."""
    for output in outputs:
        assert isinstance(output, (Message, Edit, File)), output
        if isinstance(output, (Message, Edit)):
            assert output.text.strip(), output
            for row in output.buttons:
                for button in row:
                    assert button.label.strip() and 1 <= len(button.id.encode()) <= 64, button


def patient_id(db: Database, external_id: str) -> int | None:
    with db.engine.connect() as connection:
        return connection.execute(
            text("SELECT id FROM patients WHERE channel = 'telegram' AND external_id = :e"), {"e": external_id}
        ).scalar()


def consented(db: Database, external_id: str) -> bool:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT consent FROM patients WHERE external_id = :e"), {"e": external_id}).scalar() == "given"


@settings(max_examples=40, **SETTINGS)
@given(data=st.data())
def test_the_engine_survives_anything_a_patient_sends(template, tmp_path, data):
    with copy_of(template, tmp_path) as db:
        engine = Engine(db, clock=lambda: NOW)
        history: dict[str, list[tuple[str, int, str]]] = {p: [] for p in PATIENTS}  # buttons shown: (id, message id, text)
        message_ids = dict.fromkeys(PATIENTS, 1000)
        update_ids: list[int] = []
        for _step in range(data.draw(st.integers(1, 20), label="steps")):
            who = data.draw(st.sampled_from(PATIENTS), label="who")
            event = event_of(data, history, who)
            redelivered = bool(update_ids) and data.draw(st.booleans())
            if redelivered:
                update_id = data.draw(st.sampled_from(update_ids))  # redelivered (maybe another patient's id)
            else:
                update_id = len(update_ids) + 1_000_000
                update_ids.append(update_id)
            inbound = Inbound(Who("telegram", who, data.draw(LANGUAGE_CODES)), event, update_id)
            acting = patient_id(db, who)
            was_consented = consented(db, who)
            before = snapshot(db)

            outputs = engine.handle(inbound)
            for output in outputs:  # as the transport does: each message gets an id, buttons are bound to it
                if isinstance(output, Message):
                    message_ids[who] += 1
                    if output.buttons:
                        history[who] += [(b.id, message_ids[who], output.text) for row in output.buttons for b in row]

            if redelivered:  # applied once already; its replies went out then: nothing changes, nothing is said
                assert outputs == [] and snapshot(db) == before
                continue
            assert outputs, f"silence after {event!r}"
            if isinstance(event, Press):
                note("press " + ("refused" if any("expired" in getattr(o, "text", "") for o in outputs) else "taken"))
            check_outputs(outputs)
            check_isolation(before, snapshot(db), acting if acting is not None else patient_id(db, who))
            check_integrity(db)
            check_states(db)
            if was_consented or consented(db, who):
                assert any(isinstance(o, (Message, File)) for o in outputs), f"no message after {event!r}"


# -- the real Application, raw updates over HTTP ------------------------------------------------------

USERS = [int(ALICE), int(BOB), int(DAVE), int(ERIN), int(NEWCOMER), 6001, 6002]
CHATS = {
    "group": {"id": -4001, "type": "group", "title": "Pain group"},
    "supergroup": {"id": -1001000000001, "type": "supergroup", "title": "Support", "is_forum": True},
    "channel": {"id": -1002000000002, "type": "channel", "title": "News", "username": "painnews"},
}
_message_ids = itertools.count(50_000)


def user(uid: int, language_code) -> dict:
    fields = {"id": uid, "is_bot": False, "first_name": "Pat"}
    return fields if language_code is None else {**fields, "language_code": language_code}


@st.composite
def contents(draw) -> dict:
    from botapi import _media

    kind = draw(st.sampled_from(["text", "text", "command", "sticker", "photo", "voice", "document", "location", "contact", "members", "none"]))
    if kind == "text":
        return {"text": draw(TEXTS)}
    if kind == "command":
        name = draw(st.sampled_from(["start", "help", "menu", "cancel", "withdraw", "mydata", "nope", "start@paincoach_test_bot"]))
        command = f"/{name}"
        return {"text": command + draw(st.sampled_from(["", " ", " x"]) | TEXTS.map(lambda t: " " + t)),
                "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}]}
    if kind in ("sticker", "photo", "voice", "document"):
        fields = {kind: _media(kind)}
        if kind != "sticker" and draw(st.booleans()):
            fields["caption"] = draw(TEXTS)
        return fields
    if kind == "location":
        return {"location": {"latitude": 52.5, "longitude": 13.4}}
    if kind == "contact":
        return {"contact": {"phone_number": "+49 30 1234567", "first_name": "Someone"}}
    if kind == "members":
        return {"new_chat_members": [user(draw(st.sampled_from(USERS)), None)]}
    return {}


@st.composite
def raw_updates(draw) -> dict:
    """A Telegram update as the Bot API would send it; anything optional may be missing."""
    uid = draw(st.sampled_from(USERS))
    sender = user(uid, draw(st.sampled_from([None, "en", "de", "es-MX", "zz"])))
    where = draw(st.sampled_from(["private", "private", "private", "group", "supergroup", "channel"]))
    chat = {"id": uid, "type": "private", "first_name": "Pat"} if where == "private" else CHATS[where]
    message = {"message_id": next(_message_ids), "date": int(time.time()), "chat": chat, **draw(contents())}
    if where == "channel":
        message["sender_chat"] = chat  # channel posts come from no one
    elif where == "private" or draw(st.booleans()):
        message["from"] = sender  # in groups an anonymous admin posts as the group
    else:
        message["sender_chat"] = chat
    kind = draw(st.sampled_from(["message", "message", "edited", "callback", "callback", "my_chat_member", "inline_query"]))
    if kind == "message":
        return {"channel_post" if where == "channel" else "message": message}
    if kind == "edited":
        return {"edited_channel_post" if where == "channel" else "edited_message": {**message, "edit_date": int(time.time())}}
    if kind == "callback":
        query = {"id": str(draw(st.integers(1, 10**9))), "from": sender, "chat_instance": "42"}
        data = draw(st.none() | st.text(max_size=64) | st.sampled_from(["resume", "English", "yes", "x" * 64]))
        if data is not None:
            query["data"] = data
        if draw(st.booleans()) and where != "channel":  # a button on a message of ours (its text, buttons and all)
            bot = {"id": 123456, "is_bot": True, "first_name": "PainCoach Test", "username": "paincoach_test_bot"}
            query["message"] = {"message_id": draw(st.integers(1, 40)), "date": int(time.time()), "chat": chat, "from": bot,
                                "text": draw(st.sampled_from(["Which language?", "What would you like to do?"]) | TEXTS)}
        else:
            query["inline_message_id"] = "AAAA-inline"  # a button on an inline message: no chat at all
        return {"callback_query": query}
    if kind == "my_chat_member":
        bot_member = {"id": 123456, "is_bot": True, "first_name": "PainCoach Test"}
        status = draw(st.sampled_from(["kicked", "left", "member"]))  # "kicked": the patient blocked the bot
        return {"my_chat_member": {"chat": chat, "from": sender, "date": int(time.time()),
                                   "old_chat_member": {"status": "member", "user": bot_member},
                                   "new_chat_member": {"status": status, "user": bot_member, **({"until_date": 0} if status == "kicked" else {})}}}
    return {"inline_query": {"id": "77", "from": sender, "query": draw(st.text(max_size=50)), "offset": ""}}


def _private_only() -> set[str]:
    import locales

    texts = set()
    for language in locales.SUPPORTED:
        with locales.use(language):
            texts.add(locales._("I only talk in private chats. Please message me directly."))
    return texts


PRIVATE_ONLY = _private_only()  # what a group or channel is told, in every language


def chat_of(update: dict) -> dict | None:
    """The chat an update happens in (Update.effective_chat), if any."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post", "my_chat_member"):
        if key in update:
            return update[key]["chat"]
    return (update.get("callback_query") or {}).get("message", {}).get("chat")


@settings(max_examples=15, **SETTINGS)
@given(updates=st.lists(raw_updates(), min_size=1, max_size=15), presses=st.lists(st.integers(0, 1000), max_size=4))
def test_the_application_survives_raw_updates(template, tmp_path, updates, presses):
    from bot.config import Settings
    from bot.polling import serve
    from bot.sender import Sender
    from bot.telegram import build_application
    from botapi import BotAPIEmulator

    failures: list[logging.LogRecord] = []
    catcher = logging.Handler(logging.ERROR)
    catcher.emit = failures.append
    logging.getLogger("bot").addHandler(catcher)

    async def example(db: Database, emulator: BotAPIEmulator) -> None:
        settings = Settings(database_url="sqlite://", token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
        app = build_application(settings, Engine(db), sender=Sender(per_chat_interval=0.02))
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(app, db, stop))

        async def settle() -> None:
            await emulator.until(lambda: not emulator.pending_updates(), timeout=10)
            await emulator.until(lambda: inbox_size(db) == 0, timeout=10)

        try:
            for update in updates:
                emulator.push_raw(update)
            await settle()
            for pick in presses:  # patients press real buttons too, their own or ones from other chats' messages
                buttons = [(chat, m["message_id"], data) for chat in USERS for m in emulator.messages(chat) for _l, data in emulator.buttons(m)]
                if buttons:
                    chat, message_id, data = buttons[pick % len(buttons)]
                    emulator.press(chat, message_id, buttons[(pick // 7) % len(buttons)][2], check=False)
            await settle()
            assert not serving.done(), "the bot stopped"
            emulator.send_text(int(ALICE), "/help")  # and it still answers
            await emulator.until(lambda: any("/menu" in (m["text"] or "") for m in emulator.messages(int(ALICE))), timeout=10)
        finally:
            stop.set()
            await serving

    try:
        with copy_of(template, tmp_path) as db, BotAPIEmulator() as emulator:
            asyncio.run(example(db, emulator))
            sent = [c for c in emulator.calls if c["method"].startswith("send") and "error" not in c]
    finally:
        logging.getLogger("bot").removeHandler(catcher)

    assert [r.getMessage() for r in failures] == []  # no handler failed (the error handler logs each)
    chats = {chat["id"]: chat["type"] for update in updates if (chat := chat_of(update))}
    for chat_id in {c["chat_id"] for c in sent}:
        assert chat_id in chats or chat_id == int(ALICE), f"a message to chat {chat_id}, which wrote nothing"
    for chat_id, kind in chats.items():
        to_chat = [c for c in sent if c["chat_id"] == chat_id]
        if kind != "private":  # told once that the bot talks privately; crisis language answered with the lines
            told = [c for c in to_chat if c["params"]["text"] in PRIVATE_ONLY]
            lines = [c for c in to_chat if c["params"]["text"] not in PRIVATE_ONLY]
            assert len(told) <= 1 and (told or lines), f"{kind} {chat_id} told {len(told)} times"
            assert all("• " in c["params"]["text"] for c in lines), lines  # the crisis lines, in any language
            assert all("reply_markup" not in c["params"] for c in to_chat), to_chat
    for update in updates:  # every private message is answered
        if "message" in update and update["message"]["chat"]["type"] == "private":
            assert any(c["chat_id"] == update["message"]["chat"]["id"] for c in sent), f"silence after {update}"


def inbox_size(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Inbox))


async def test_a_nul_character_never_reaches_the_database(database, database_url):
    """PostgreSQL refuses NUL in text, so a step carrying one would fail on every try."""
    from bot.config import Settings
    from bot.polling import serve
    from bot.sender import Sender
    from bot.telegram import build_application
    from botapi import BotAPIEmulator
    from storage.models import Patient

    engine = Engine(database)
    sam = Chat(engine, ALICE)
    for step in (lambda: sam.command("start"), lambda: sam.press("English"), lambda: sam.press("Continue"),
                 lambda: sam.press("Yes, I agree"), lambda: sam.press("Yes, I'm 18 or older"), lambda: sam.press("London"),
                 lambda: sam.press("Yes, that's right")):
        step()
    assert "What would you like me to call you?" in sam.text
    with BotAPIEmulator() as emulator:
        settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
        app = build_application(settings, engine, sender=Sender(per_chat_interval=0.02))
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(app, database, stop, poll_timeout=1))
        try:
            emulator.send_text(int(ALICE), "Sa\x00m")
            await emulator.until(lambda: any("Nice to meet you" in (m["text"] or "") for m in emulator.messages(int(ALICE))))
        finally:
            stop.set()
            await serving
    with database.transaction() as session:
        assert session.scalars(select(Patient.preferred_name)).one() == "Sam"
