"""Crypto-shredding. With PAINCOACH_DATA_KEY each person's words are encrypted with a data key of
their own (wrapped by PAINCOACH_DATA_KEY), and /delete destroys it with their rows. A copy of the
database taken before the deletion (the SQLite file and its WAL; PostgreSQL's rows in an older
snapshot, its table files and its WAL) holds no word in plain text, and what it holds no longer
opens. Without a key nothing breaks: words are stored as they are, as before."""
from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.dialects import postgresql
from telegram import Update

from bot import inbox
from conftest import NOW, POSTGRES, Chat
from onboard import onboard
from phone import Phone
from test_restart import BotProcess
from dialogs.io import Message, encode
from storage import crypto, datakeys, outbox
from storage.models import DataKey, DialogState, Inbox, NotedQuestion, Outbox, Patient

TELEGRAM_ID = "7364519283"
OTHER_ID = "5550001234"
# Words no other test writes: PostgreSQL's WAL files hold whatever else the server wrote meanwhile.
RUN = secrets.token_hex(4)
NAME = f"Zebrafinch-{RUN}"
STORY = [f"Lower back, Zq-where-{RUN}", f"Since the winter of Zq-since-{RUN}", f"Sitting through Zq-worse-{RUN}",
         f"Physio and Zq-tried-{RUN} helped a little", f"A walk by the Zq-goodday-{RUN} sea"]
MEDICATION = f"Can I take more ibuprofen, Zq-medication-{RUN}?"
SITUATION = f"My back seized while gardening Zq-situation-{RUN}"
FEELING = f"scared Zq-emotion-{RUN}"  # a thought-check left mid-question: the feeling is in the dialog's working data
PENDING = f"Zq-inbox-{RUN}"  # an update fetched from Telegram, not handled yet
WORDS = [NAME, *STORY, MEDICATION, SITUATION, FEELING, PENDING]


@pytest.fixture
def key(monkeypatch):
    monkeypatch.delenv("PAINCOACH_DATA_KEY", raising=False)
    value = Fernet.generate_key().decode()
    yield value
    crypto.configure(None)


def update_from(telegram_id: str, update_id: int, words: str) -> Update:
    user = {"id": int(telegram_id), "is_bot": False, "first_name": "X"}
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "chat": {"id": int(telegram_id), "type": "private"}, "from": user, "text": words}}, None)


def write_words(engine, database, telegram_id: str = TELEGRAM_ID, name: str = NAME, story: list[str] = STORY) -> Chat:
    """Their pain story, a noted medication question, a thought-check left at its third question
    (the feeling named only in the dialog's working data), a reply waiting in the outbox (their story,
    shown back) and an update in the inbox, each through the writer the bot uses."""
    chat = Chat(engine, telegram_id)
    chat.command("start")
    for label in ["English", "Continue", "Yes, I agree", "Yes, I'm 18 or older", "London", "Yes, that's right"]:
        chat.press(label)
    chat.say(name)
    for part in story:
        chat.say(part)
    chat.say(MEDICATION)
    reply = next(m for m in chat.outputs if isinstance(m, Message) and "advice about medication" in m.text)
    chat.last_buttons = {b.label: (b.id, None) for row in reply.buttons for b in row}
    chat.press("Note it for my next visit")
    chat.command("menu")
    chat.open("My pain story")
    assert story[0] in chat.text
    with database.transaction() as session:  # as bot/steps.py keeps a step's replies
        outbox.put(session, int(telegram_id), [(encode(o), False) for o in chat.outputs], NOW)
    chat.command("menu")
    chat.open("Thought-check")
    chat.press("New thought-check")
    chat.say(SITUATION)
    chat.say(FEELING)
    inbox.keep(database, [update_from(telegram_id, 900000 + int(telegram_id[-3:]), PENDING)])  # as polling stores one
    with database.transaction() as session:  # all there, and readable through the models
        patient = session.scalars(select(Patient).where(Patient.external_id == telegram_id)).one()
        assert patient.preferred_name == name
        assert FEELING in str(session.get(DialogState, patient.id).data)
        assert session.scalars(select(NotedQuestion.text).where(NotedQuestion.patient_id == patient.id)).one() == MEDICATION
        assert any(story[0] in row for row in session.scalars(select(Outbox.payload).where(Outbox.chat_id == int(telegram_id))))
        assert any(PENDING in str(payload) for payload in session.scalars(select(Inbox.payload)))
    return chat


def delete(chat: Chat) -> None:
    chat.command("delete")
    chat.press("Yes, delete everything")
    assert "everything I kept about you is deleted" in chat.text


def stored_values(connection) -> list[str]:
    """Every non-null value of every column of every table, as the database holds it (plain SQL)."""
    found = []
    inspector = inspect(connection)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            name = column["name"]
            found += connection.exec_driver_sql(f'SELECT CAST("{name}" AS TEXT) FROM "{table}" WHERE "{name}" IS NOT NULL').scalars()
    return found


def key_id_of(connection, telegram_id: str) -> str:
    return connection.execute(select(DataKey.id).where(DataKey.channel == "telegram", DataKey.external_id == telegram_id)).scalar_one()


def opens(database, value: str) -> bool:
    """Whether the running system (PAINCOACH_DATA_KEY and the keys in the database) opens a stored value."""
    try:
        with database.transaction():
            crypto.EncryptedText().process_result_value(value, None)
        return True
    except crypto.DataKeyError:
        return False


def sqlite_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def postgres_files(connection, since_lsn: str) -> bytes:
    """The server's own files: every table of this schema (and its TOAST table) and the WAL
    written since `since_lsn`, after a checkpoint put every change on disk."""
    connection.exec_driver_sql("CHECKPOINT")
    paths = list(connection.exec_driver_sql(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
        "UNION SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.reltoastrelid <> 0").scalars())
    paths += ["pg_wal/" + name for name in connection.exec_driver_sql(
        "SELECT name FROM pg_ls_waldir() WHERE name BETWEEN pg_walfile_name(%s::pg_lsn) AND pg_walfile_name(pg_current_wal_lsn())",
        (since_lsn,)).scalars()]
    read = "SELECT pg_read_binary_file(%s, 0, size, true) FROM pg_stat_file(%s, true)"  # (a WAL file may be recycled meanwhile)
    return b"".join(connection.exec_driver_sql(read, (path, path)).scalar() or b"" for path in paths)


def test_after_delete_no_copy_of_the_words_can_be_read(engine, database, key, tmp_path):
    crypto.configure(key)
    with database.engine.connect() as connection:
        superuser = not database.is_sqlite and connection.exec_driver_sql("SHOW is_superuser").scalar() == "on"
        since_lsn = connection.exec_driver_sql("SELECT CAST(pg_current_wal_lsn() AS TEXT)").scalar() if superuser else None
    chat = write_words(engine, database)
    other = write_words(engine, database, OTHER_ID, "Otherbird", ["Otherbird's knees", "Otherbird since May", "Otherbird stairs",
                                                                 "Otherbird tried rest", "Otherbird garden"])

    # The copy taken before the deletion: the SQLite file and its WAL as they are on disk, or
    # PostgreSQL's rows as an older snapshot still sees them once they are deleted.
    if database.is_sqlite:
        path = Path(database.url.database)
        old = tmp_path / "old"
        old.mkdir()
        for file in (path, Path(f"{path}-wal")):
            shutil.copy(file, old / file.name)
        snapshot = create_engine(f"sqlite:///{old / path.name}").connect()
    else:
        snapshot = database.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        snapshot.begin()
        snapshot.exec_driver_sql("SELECT 1 FROM patients").all()  # the snapshot is taken here
    key_id, others_key = key_id_of(snapshot, TELEGRAM_ID), key_id_of(snapshot, OTHER_ID)
    theirs = [v for v in stored_values(snapshot) if v.startswith(f"pk1:{key_id}:")]
    with database.transaction():  # each word is there, encrypted with their key, and readable until /delete
        opened = [crypto.EncryptedText().process_result_value(value, None) for value in theirs]
    assert [words for words in WORDS if not any(words in text for text in opened)] == []

    delete(chat)

    copy = stored_values(snapshot)
    assert [words for words in WORDS for value in copy if words in value] == []  # no plain text in the copy
    assert set(theirs) <= set(copy)  # their rows are still in it (encrypted)
    for value in theirs:  # ... and open no more: neither with the system's keys nor with the master key itself
        assert not opens(database, value)
        with pytest.raises(InvalidToken):
            Fernet(key).decrypt(value.split(":", 2)[2].encode())
    assert all(opens(database, v) for v in copy if v.startswith(f"pk1:{others_key}:"))  # the other patient's still do
    with database.transaction() as session:
        assert session.scalars(select(DataKey.external_id)).all() == [OTHER_ID]
        assert session.scalars(select(Patient.preferred_name)).all() == ["Otherbird"]
    other.command("menu")
    assert "What would you like to do?" in other.text
    snapshot.close()

    # The files themselves: no word in plain text, before the deletion or after it.
    if database.is_sqlite:
        for raw in (sqlite_bytes(old / path.name), sqlite_bytes(path)):
            assert [words for words in WORDS if words.encode() in raw] == []
        assert key_id.encode() not in sqlite_bytes(path)  # the key row itself is overwritten (secure_delete)
    elif superuser:  # PostgreSQL's table files and WAL, where the server lets us read them
        with database.engine.connect() as connection:
            raw = postgres_files(connection, since_lsn)
        assert key_id.encode() in raw  # (the files were read: the deleted key's id is still in the WAL)
        assert [words for words in WORDS if words.encode() in raw] == []


def test_without_a_data_key_words_are_stored_as_before_and_delete_works(engine, database, monkeypatch):
    """No PAINCOACH_DATA_KEY: plain text, no data keys, nothing breaks; /delete erases the rows
    (and on SQLite the file's bytes), but leaves nothing to shred in copies made before."""
    monkeypatch.delenv("PAINCOACH_DATA_KEY", raising=False)
    crypto.configure(None)
    chat = write_words(engine, database)
    with database.engine.connect() as connection:
        values = stored_values(connection)
    assert all(any(words in value for value in values) for words in WORDS)  # as the README says: plain
    datakeys.check(database)
    with database.transaction() as session:
        assert session.scalars(select(DataKey)).all() == []
    delete(chat)
    with database.engine.connect() as connection:
        values = stored_values(connection)
    assert [words for words in WORDS for value in values if words in value] == []
    if database.is_sqlite:
        assert [words for words in WORDS if words.encode() in sqlite_bytes(Path(database.url.database))] == []


def test_run_without_a_data_key_says_so_once_at_start(emulator, database, database_url, tmp_path):
    log = tmp_path / "bot.log"
    bot = BotProcess(emulator, database_url, log, {"PAINCOACH_DATA_KEY": ""}).start()
    try:
        phone = Phone(emulator, 6001)
        phone.send("/start")  # it runs on: one warning at start, none per update
        phone.wait("Which language", timeout=30)
        phone.press("English")
        phone.wait("emergency service", timeout=30)
    finally:
        bot.kill()
    said = [line for line in log.read_text().splitlines() if "PAINCOACH_DATA_KEY" in line]
    assert len(said) == 1 and "WARNING" in said[0] and "PAINCOACH_DATA_KEY is not set" in said[0], said
    assert "Traceback" not in log.read_text()


@pytest.mark.skipif(bool(POSTGRES), reason="the SQLite file's own mode")
def test_the_database_file_and_its_wal_are_for_their_owner_only(tmp_path):
    from storage import open_database

    previous = os.umask(0)  # whatever the umask says
    try:
        db = open_database(f"sqlite:///{tmp_path / 'data' / 'p.db'}")
        with db.transaction() as session:
            session.execute(text("SELECT 1"))
        modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "data").iterdir()}
        db.dispose()
        (tmp_path / "old.db").touch(mode=0o644)  # one made before: narrowed when opened
        open_database(f"sqlite:///{tmp_path / 'old.db'}").dispose()
    finally:
        os.umask(previous)
    assert modes == {"p.db": 0o600, "p.db-wal": 0o600, "p.db-shm": 0o600}
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "old.db").stat().st_mode & 0o777 == 0o600


def test_a_key_made_in_a_savepoint_rolled_back_is_not_used_after_it(database, key):
    """As when raising an alert fails inside a step: the step goes on, and what it writes next must
    be encrypted with a key that exists."""
    crypto.configure(key)
    with database.transaction() as session:
        session.add(Patient(clinic_id=database.default_clinic(session).id, channel="telegram", external_id=TELEGRAM_ID))
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                patient.preferred_name = "first"
                session.flush()  # makes their key, in the savepoint
                raise RuntimeError("the alert could not be raised")
        patient.preferred_name = NAME
    crypto.configure(key)  # as a process started later: no key opened yet
    with database.transaction() as session:
        assert session.scalars(select(Patient.preferred_name)).one() == NAME
        assert len(session.scalars(select(DataKey)).all()) == 1


@pytest.mark.skipif(not POSTGRES, reason="SQLite has one writer: the inbox poller and an erasure never overlap")
def test_an_update_stored_while_its_sender_is_erased_goes_with_them(engine, database, key):
    """The inbox poller does not lock the patient: an update of theirs stored while they are
    erased must not stay behind sealed with a destroyed key (unreadable, it would stop the next
    start, which handles what the inbox holds)."""
    crypto.configure(key)
    chat = Chat(engine, TELEGRAM_ID)
    onboard(chat, name=NAME)
    chat.command("delete")
    poller = database.transaction()
    session = poller.__enter__()  # the poller's transaction, storing an update of theirs, not committed yet
    try:
        session.execute(postgresql.insert(Inbox), [{"update_id": 900001, "payload": update_from(TELEGRAM_ID, 900001, PENDING).to_dict()}])
        erasing = threading.Thread(target=chat.press, args=("Yes, delete everything",))
        erasing.start()
        waiting = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                   "WHERE NOT l.granted AND a.query LIKE '%%DELETE FROM data_keys%%'")
        with database.engine.connect() as connection:  # until the erasure waits for the key the poller holds (or is done)
            until = time.monotonic() + 10
            while erasing.is_alive() and not connection.exec_driver_sql(waiting).scalar() and time.monotonic() < until:
                time.sleep(0.05)
    finally:
        poller.__exit__(None, None, None)
    erasing.join(timeout=10)
    assert "everything I kept about you is deleted" in chat.text
    with database.transaction() as session:
        assert session.scalars(select(Inbox.payload)).all() == []
        assert session.scalars(select(DataKey)).all() == []


def test_each_row_is_sealed_with_its_own_patients_key_even_in_one_flush(database, key):
    crypto.configure(key)
    with database.transaction() as session:  # as an import or a test factory writes many patients at once
        clinic = database.default_clinic(session).id
        session.add_all([Patient(clinic_id=clinic, channel="telegram", external_id=TELEGRAM_ID, preferred_name=NAME),
                         Patient(clinic_id=clinic, channel="telegram", external_id=OTHER_ID, preferred_name="Otherbird")])
    with database.engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT external_id, preferred_name FROM patients")).all())
        keys = {telegram_id: key_id_of(connection, telegram_id) for telegram_id in (TELEGRAM_ID, OTHER_ID)}
    assert {telegram_id: value.split(":")[1] for telegram_id, value in stored.items()} == keys
    with database.transaction() as session:
        assert sorted(session.scalars(select(Patient.preferred_name))) == sorted([NAME, "Otherbird"])


def test_delete_through_the_unit_of_work_leaves_no_key_and_strangers_keys_go_in_a_week(engine, database, key):
    """The goodbye after /delete goes into the outbox in the erasure's own transaction: it must
    not make them a new key. A stranger who wrote once keeps no key beyond a week."""
    from datetime import timedelta

    from bot.steps import answer
    from clinic.desk import Desk
    from dialogs.io import Inbound, Press, Who
    from storage import datakeys

    crypto.configure(key)
    chat = write_words(engine, database)
    chat.command("delete")
    button_id, message_id = chat.last_buttons[next(label for label in chat.buttons if "delete" in label.lower())]
    press = Press(button_id, message_id, "question", chat.shown.get(message_id))
    answered = answer(Desk(database, clock=lambda: NOW), engine, Inbound(Who("telegram", TELEGRAM_ID, "en"), press, 990_001),
                      int(TELEGRAM_ID))
    assert answered.kept  # the goodbye waits in the outbox...
    with database.transaction() as session:
        assert session.scalars(select(DataKey.external_id)).all() == []  # ...sealed with no key of theirs
    stranger = Chat(engine, "5550001")
    stranger.command("start")  # (this clinic takes people without an invitation: a stranger becomes a patient)
    with database.transaction() as session:
        session.execute(Patient.__table__.delete().where(Patient.external_id == "5550001"))  # as if never enrolled
        assert datakeys.forget_strangers(session, NOW) == 0  # made today: kept
        assert datakeys.forget_strangers(session, NOW + timedelta(days=8)) == 1
        assert session.scalars(select(DataKey.external_id)).all() == []
