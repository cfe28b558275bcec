"""Privacy: /delete erases a patient from every table (and, on SQLite, from the file's bytes);
the clinic's retention purge; patients' words encrypted at rest, with key rotation; secrets read
from files and never logged."""
from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from bot.cli import main, setup_logging
from bot.config import ConfigError, Settings
from storage import enrollment
from clinic.desk import Desk
from conftest import NOW, Chat
from dialogs.io import Command, File, Inbound, Message, Who
from onboard import onboard
from storage import crypto
from storage.models import Alert, AlertDelivery, AuditEntry, Clinic, Inbox, Patient, utcnow

TELEGRAM_ID = "7364519283"
NAME = "Zebrafinch-4471"
REFERENCE = "MRN Quokka-5190"
# Everything the patient writes, each with a token found nowhere else.
STORY = ["Lower back, Zq-where-1188", "Since the winter of Zq-since-2231", "Sitting through Zq-worse-3307",
         "Physio and Zq-tried-4419 helped a little", "A walk by the Zq-goodday-5521 sea"]
THOUGHT = ["My back seized while gardening Zq-situation-6601", "scared Zq-emotion-6602", "I'll never garden again Zq-thought-6603",
           "It hurts a lot Zq-for-6604", "Last spring I gardened after a flare Zq-against-6605",
           "This is a flare and it will settle Zq-balanced-6606"]
SAFETY_PLAN = ["Not sleeping for days Zq-signs-7701", "A hot shower Zq-helps-7702", "My sister Zq-people-7703",
               "The bench by the river Zq-places-7704", "My clinic Zq-professionals-7705", "My partner keeps the tablets Zq-surroundings-7706"]
FLARE_PLAN = ["Stiff neck Zq-fsigns-8801", "Heat and short walks Zq-fhelps-8802", "Long drives Zq-fback-8803",
              "My partner Zq-ftell-8804", "If my leg goes numb Zq-fcare-8805"]
ACTIVITY = "Knitting Zq-activity-9901"
MEDICATION = "Can I take more ibuprofen, Zq-medication-9902?"
VISIT = ["More good days Zq-visit-changes-9903", "A plan for the winter Zq-visit-goals-9904"]
CRISIS = "I want to end my life Zq-crisis-9905"
PENDING = "Zq-inbox-9906"  # an update fetched from Telegram but not handled yet
WRITTEN = [NAME, REFERENCE, *STORY, *THOUGHT, *SAFETY_PLAN, *FLARE_PLAN, ACTIVITY, MEDICATION, *VISIT, CRISIS, PENDING]


def make_clinic(database, name: str, **settings) -> Clinic:
    with database.transaction() as session:
        clinic = Clinic(name=name, settings=settings)
        session.add(clinic)
        session.flush()
        return clinic


def invitation(database, clinic: Clinic, reference: str | None = None) -> str:
    with database.transaction() as session:
        return enrollment.invite(session, "patient", session.get(Clinic, clinic.id), NOW, created_by="test", reference=reference)


def verify_clinician(database, clinic: Clinic, telegram_id: str) -> None:
    with database.transaction() as session:
        _clinician, code = enrollment.invite_clinician(session, session.get(Clinic, clinic.id), NOW, name="Dr Lee", created_by="test")
    Desk(database, clock=lambda: NOW).handle(Inbound(Who("telegram", telegram_id, "en"), Command("start", code)))


def write_everything(chat: Chat) -> None:
    """A patient who used nearly everything: story, check-in, thought-check, both plans, pacing,
    a noted medication question, a visit prep and a crisis message (a safety event and an alert)."""
    chat.press("English")
    chat.press("Continue")
    chat.press("Yes, I agree")
    chat.press("Yes, I'm 18 or older")
    chat.press("London")
    chat.press("Yes, that's right")
    chat.say(NAME)
    for part in STORY:
        chat.say(part)
    assert "What would you like to do?" in chat.texts[-1], chat.text

    chat.open("Check in now")
    chat.press("Daily check-in")
    chat.press("7")
    chat.say("6,5")
    chat.press("Skip")
    chat.say("4,500 steps")
    chat.press("Partly")
    assert "that's your check-in done" in chat.text

    chat.open("Thought-check")
    chat.press("New thought-check")
    chat.say(THOUGHT[0])
    chat.say(THOUGHT[1])
    chat.press("70")
    chat.say(THOUGHT[2])
    chat.say("85")
    chat.press("Catastrophizing")
    for part in THOUGHT[3:]:
        chat.say(part)
    chat.say("40")
    chat.say("30")
    assert "Your belief in the thought went from 85 to 40" in chat.text

    chat.open("My safety plan")
    for part in SAFETY_PLAN:
        chat.say(part)
    assert "Your safety plan is saved." in chat.text
    chat.open("My flare plan")
    for part in FLARE_PLAN:
        chat.say(part)
    assert "Your flare plan is saved." in chat.text

    chat.open("Pacing my activities")
    chat.press("Add an activity")
    chat.press("Something else")
    chat.say(ACTIVITY)
    chat.press("Log today's activity")
    chat.press(ACTIVITY)
    chat.say("20")
    chat.command("menu")

    chat.say(MEDICATION)
    reply = next(m for m in chat.outputs if isinstance(m, Message) and "advice about medication" in m.text)
    chat.last_buttons = {b.label: (b.id, None) for row in reply.buttons for b in row}
    chat.press("Note it for my next visit")
    chat.open("Prepare for a visit")
    chat.say(VISIT[0])
    chat.say(VISIT[1])
    chat.press("Skip this question")
    chat.press("No treatment is being considered")
    assert "Zq-medication-9902" in chat.text  # the noted question went into the visit prep

    chat.say(CRISIS)
    assert "you don't have to carry this alone" in chat.text
    chat.press("Continue")


def pending_update(update_id: int, telegram_id: str, words: str) -> Inbox:
    user = {"id": int(telegram_id), "is_bot": False, "first_name": "X"}
    return Inbox(update_id=update_id, payload={"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "chat": {"id": int(telegram_id), "type": "private"}, "from": user, "text": words}}, received_at=NOW)


def every_value(database) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value of every column of every table,
    read with plain SQL (not the models), so nothing is hidden by the mapping."""
    engine = database.engine
    found = []
    with engine.connect() as connection:
        inspector = sa_inspect(connection)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                name = column["name"]
                for (value,) in connection.exec_driver_sql(f'SELECT CAST("{name}" AS TEXT) FROM "{table}" WHERE "{name}" IS NOT NULL'):
                    found.append((table, name, value))
    return found


def rows_of(database, patient_id: int) -> dict[str, list]:
    """Every row pointing at one patient (directly, or through responses / activities / alerts)."""
    out = {}
    with database.engine.connect() as connection:
        inspector = sa_inspect(connection)
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)]
            if "patient_id" in columns:
                out[table] = sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{table}" WHERE patient_id = :p'), {"p": patient_id})), key=repr)
        out["patients"] = list(map(tuple, connection.execute(text("SELECT * FROM patients WHERE id = :p"), {"p": patient_id})))
        for child, parent, column in [("answers", "responses", "response_id"), ("pacing_logs", "pacing_activities", "activity_id"),
                                      ("alert_deliveries", "alerts", "alert_id")]:
            out[child] = sorted(map(tuple, connection.execute(text(
                f'SELECT * FROM "{child}" WHERE {column} IN (SELECT id FROM "{parent}" WHERE patient_id = :p)'), {"p": patient_id})), key=repr)
    return out


def file_bytes(database) -> bytes:
    path = Path(database.url.database)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


# -- /delete ------------------------------------------------------------------------------------


def test_delete_erases_every_trace_of_the_patient_and_nothing_of_anyone_else(engine, database):
    clinic = make_clinic(database, "Riverside", alert_include_words=True)
    verify_clinician(database, clinic, "9001")
    other = Chat(engine, "5550001234")
    onboard(other, name="Otherbird")
    other.open("My safety plan")
    other.say("Otherbird keeps writing")
    chat = Chat(engine, TELEGRAM_ID)
    chat.command("start", invitation(database, clinic, reference=REFERENCE))
    write_everything(chat)
    with database.transaction() as session:
        session.add(pending_update(900001, TELEGRAM_ID, PENDING))
        session.add(pending_update(900002, "5550001234", "Otherbird pending"))
        patient = session.scalars(select(Patient).where(Patient.external_id == TELEGRAM_ID)).one()
        patient_id, study_code = patient.id, patient.study_code
        other_id = session.scalars(select(Patient.id).where(Patient.external_id == "5550001234")).one()
        assert session.scalars(select(Alert)).one().words == CRISIS  # the clinic opted in to the words
        assert session.scalars(select(AlertDelivery)).all()
    values = every_value(database)
    for words in [TELEGRAM_ID, *WRITTEN]:  # the scan below would find them if they were left
        assert any(words in value for _t, _c, value in values), words
    if database.is_sqlite:
        with database.transaction() as session:  # set by us, whatever the SQLite build's default
            assert session.execute(text("PRAGMA secure_delete")).scalar() == 1
        database.checkpoint()
        assert NAME.encode() in file_bytes(database) and b"Zq-crisis-9905" in file_bytes(database)
    others_before = rows_of(database, other_id)

    chat.command("delete")
    assert "Your clinic keeps only your study code" in chat.text and "already exported" in chat.text
    assert chat.buttons == ["Yes, delete everything", "No, keep my data"]
    chat.press("Yes, delete everything")
    assert "everything I kept about you is deleted" in chat.text
    assert not any(o.buttons for o in chat.outputs if isinstance(o, Message))  # nobody left to press them

    leftovers = [(table, column) for table, column, value in every_value(database)
                 for words in [TELEGRAM_ID, *WRITTEN] if words in value]
    assert leftovers == []
    assert rows_of(database, patient_id) == {table: [] for table in rows_of(database, patient_id)}
    assert rows_of(database, other_id) == others_before
    with database.transaction() as session:
        assert session.get(Inbox, 900002) is not None and session.get(Inbox, 900001) is None
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).all()
        assert (entry.subject, entry.actor, entry.clinic_id) == (study_code, "patient", clinic.id)
        counts = entry.detail["counts"]
        assert set(entry.detail) == {"counts"} and all(isinstance(n, int) and n > 0 for n in counts.values())
        assert entry.rows == sum(counts.values())
        for table in ["patients", "pain_stories", "responses", "answers", "thought_records", "safety_plans", "flare_plans",
                      "pacing_activities", "pacing_logs", "noted_questions", "visit_preps", "safety_events",
                      "schedules", "prompts", "dialog_states", "inbox", "invites.reference", "alerts (kept, detached)"]:
            assert counts.get(table), table
        # The clinic may still have to act on the crisis alert: it stays, by study code only.
        [alert] = session.scalars(select(Alert)).all()
        assert (alert.patient_id, alert.words, alert.study_code, alert.category) == (None, None, study_code, "crisis")
    if database.is_sqlite:  # the words are gone from the file itself, not only from the tables
        raw = file_bytes(database)
        assert Path(f"{database.url.database}-wal").stat().st_size == 0
        for words in WRITTEN:
            assert words.encode() not in raw, words

    chat.command("start")  # the same person writing again is someone new
    assert "Which language" in chat.text
    with database.transaction() as session:
        again = session.scalars(select(Patient).where(Patient.external_id == TELEGRAM_ID)).one()
        assert again.preferred_name is None and again.consent == "pending" and again.enrolled_at is None


def test_keeping_my_data_changes_nothing(chat, database):
    onboard(chat, name=NAME)
    chat.open("My safety plan")
    for part in SAFETY_PLAN:
        chat.say(part)
    machinery = {"processed_updates", "buttons", "dialog_states"}
    before = sorted((t, c, v) for t, c, v in every_value(database) if t not in machinery)
    chat.command("delete")
    chat.say("no")  # typed, as for any yes/no question
    assert "Good, I've kept everything as it was." in chat.text and "What would you like to do?" in chat.texts[-1]
    assert sorted((t, c, v) for t, c, v in every_value(database) if t not in machinery) == before


def test_a_patient_who_withdrew_can_still_delete_and_typing_yes_confirms(chat, database):
    onboard(chat, name=NAME)
    chat.command("withdraw")
    chat.command("delete")
    assert "Do you want me to delete everything?" in chat.text
    chat.say("yes")
    assert "everything I kept about you is deleted" in chat.text
    with database.transaction() as session:
        assert session.scalars(select(Patient)).all() == []


def test_delete_is_in_help_and_leaves_a_crisis_pause(chat, database):
    onboard(chat)
    chat.command("help")
    assert "/delete" in chat.text
    chat.say("I want to end my life")
    chat.command("delete")
    assert chat.buttons == ["Yes, delete everything", "No, keep my data"]


# -- retention ----------------------------------------------------------------------------------


def test_purge_erases_patients_discharged_longer_ago_than_their_clinics_retention(engine, database, database_url, monkeypatch, capsys):
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)
    monkeypatch.delenv("PAINCOACH_DATA_KEY", raising=False)
    short = make_clinic(database, "Short stay", retention_days=30)
    people = {}
    for telegram_id, clinic, discharged_days_ago in [("2001", short, 40), ("2002", short, 10), ("2003", None, 400), ("2004", short, None)]:
        patient = Chat(engine, telegram_id)
        if clinic is not None:
            patient.command("start", invitation(database, clinic))
        onboard(patient, name=f"Name-{telegram_id}")
        with database.transaction() as session:
            row = session.scalars(select(Patient).where(Patient.external_id == telegram_id)).one()
            if discharged_days_ago is not None:
                row.discharged_at = utcnow() - timedelta(days=discharged_days_ago)
            people[telegram_id] = row.study_code

    assert main(["purge", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == f"{people['2001']} would be erased"
    assert main(["purge"]) == 0
    assert people["2001"] in capsys.readouterr().out
    with database.transaction() as session:
        assert sorted(session.scalars(select(Patient.external_id))) == ["2002", "2003", "2004"]
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).all()
        assert entry.subject == people["2001"] and entry.actor.startswith("cli") and entry.detail["counts"]["patients"] == 1
    assert not any("Name-2001" in value for _t, _c, value in every_value(database))
    assert main(["purge"]) == 0
    assert "nobody is past" in capsys.readouterr().out


# -- encryption at rest -------------------------------------------------------------------------


@pytest.fixture
def keys(monkeypatch):
    """Two keys; the process's data key is reset afterwards, for the tests that follow."""
    monkeypatch.delenv("PAINCOACH_DATA_KEY", raising=False)
    a, b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    yield a, b
    crypto.configure(None)


def raw_words(database) -> dict[tuple[str, str], str]:
    """Every encrypted column's stored value, as SQL sees it."""
    found = {}
    with database.engine.connect() as connection:
        for table, columns in crypto.encrypted_columns(Patient.metadata).items():
            for column in columns:
                for key, value in connection.execute(text(f'SELECT {list(table.primary_key.columns)[0].name}, "{column.name}" FROM "{table.name}" WHERE "{column.name}" IS NOT NULL')):
                    found[(f"{table.name}.{column.name}", str(key))] = value
    return found


def read_words(database) -> dict[tuple[str, str], str]:
    """The same values read through the column type (decrypted)."""
    found = {}
    with database.transaction() as session:
        for table, columns in crypto.encrypted_columns(Patient.metadata).items():
            key = list(table.primary_key.columns)[0]
            for column in columns:
                for pk, value in session.execute(select(key, column).where(column.is_not(None))):
                    found[(f"{table.name}.{column.name}", str(pk))] = value
    return found


def test_patients_words_are_encrypted_at_rest_and_the_key_rotates(chat, database, database_url, keys, monkeypatch, capsys):
    a, b = keys
    crypto.configure(a)
    clinic = make_clinic(database, "Riverside")
    chat.command("start", invitation(database, clinic, reference=REFERENCE))
    onboard(chat, name=NAME)
    chat.open("My safety plan")
    for part in SAFETY_PLAN:
        chat.say(part)
    chat.command("mydata")
    [file] = [o for o in chat.outputs if isinstance(o, File)]
    assert NAME in file.data.decode() and SAFETY_PLAN[0] in file.data.decode()  # the patient's own copy is readable

    stored = raw_words(database)
    plain = read_words(database)
    assert plain[("patients.preferred_name", "1")] == NAME and plain[("patients.clinic_reference", "1")] == REFERENCE
    # The patient's words with their own key; the invitation's reference, the clinic's, with the master key.
    assert len(stored) >= 9 and all(value.startswith("fernet:" if column == "invites.reference" else "pk1:")
                                    for (column, _row), value in stored.items())
    assert not any(words in value for words in [NAME, REFERENCE, *SAFETY_PLAN] for value in stored.values())
    assert not any(NAME in value for _t, _c, value in every_value(database))
    wrapped = "SELECT wrapped FROM data_keys"
    with database.engine.connect() as connection:
        [key_before] = connection.exec_driver_sql(wrapped).scalars().all()

    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)
    monkeypatch.setenv("PAINCOACH_DATA_KEY", f"{b},{a}")  # the new key first, the old one still opens
    updated = "SELECT CAST(updated_at AS TEXT) FROM safety_plans"
    with database.engine.connect() as connection:
        plan_updated = connection.exec_driver_sql(updated).scalar()
    assert main(["db", "rotate-key"]) == 0
    out = capsys.readouterr().out
    assert "1 data keys rewrapped" in out and "safety_plans: 0 older values re-encrypted" in out and "invites: 1 older" in out
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql(updated).scalar() == plan_updated  # re-encrypting is not an edit
        [key_after] = connection.exec_driver_sql(wrapped).scalars().all()
    assert key_after != key_before  # rotating rewraps the patient's key; their words stay as they are
    rotated = raw_words(database)
    assert rotated.keys() == stored.keys()
    assert all((rotated[k] != stored[k]) == (k[0] == "invites.reference") for k in stored)
    assert read_words(database) == plain

    crypto.configure(b)  # the old key retired: everything still opens
    assert read_words(database) == plain
    with database.transaction() as session:
        assert session.scalars(select(Patient)).one().preferred_name == NAME

    crypto.configure(Fernet.generate_key().decode())  # a wrong key: a clear error, never ciphertext shown as text
    with pytest.raises(crypto.DataKeyError, match="does not open with PAINCOACH_DATA_KEY"):
        read_words(database)
    monkeypatch.setenv("PAINCOACH_DATA_KEY", a)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "data key error" in err and a not in err
    crypto.configure(None)
    with pytest.raises(crypto.DataKeyError, match="not set"):
        read_words(database)


def test_with_a_key_nothing_the_patient_wrote_is_stored_as_plain_text(engine, database, keys):
    crypto.configure(keys[0])
    clinic = make_clinic(database, "Riverside", alert_include_words=True)
    verify_clinician(database, clinic, "9001")
    chat = Chat(engine, TELEGRAM_ID)
    chat.command("start", invitation(database, clinic, reference=REFERENCE))
    write_everything(chat)
    chat.open("Pacing my activities")
    chat.press("Log today's activity")  # a button labelled with the activity's name
    assert ACTIVITY in chat.buttons
    words = [w for w in WRITTEN if w != PENDING]
    assert [(t, c) for t, c, value in every_value(database) for w in words if w in value] == []
    with database.transaction() as session:
        assert session.scalars(select(Alert)).one().words == CRISIS


def test_older_values_still_read_and_rotation_moves_them_to_the_patients_key(chat, database, database_url, keys, monkeypatch):
    """Plain words from before the key, and words encrypted with the master key itself (before
    personal keys): both read, and `rotate-key` encrypts them with the patient's own key."""
    a, _b = keys
    onboard(chat, name=NAME)  # no key yet: plain text
    assert raw_words(database)[("patients.preferred_name", "1")] == NAME
    crypto.configure(a)
    with database.engine.begin() as connection:  # as the version before personal keys wrote it
        connection.execute(text("UPDATE pain_stories SET where_it_hurts = :v"), {"v": "fernet:" + Fernet(a).encrypt(STORY[0].encode()).decode()})
    assert read_words(database)[("patients.preferred_name", "1")] == NAME
    chat.open("My pain story")  # the bot reads them as before
    assert "Your pain story" in chat.text and STORY[0] in chat.text
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)
    monkeypatch.setenv("PAINCOACH_DATA_KEY", a)
    assert main(["db", "rotate-key"]) == 0
    raw = raw_words(database)
    assert raw[("patients.preferred_name", "1")].startswith("pk1:") and raw[("pain_stories.where_it_hurts", "1")].startswith("pk1:")
    assert read_words(database)[("patients.preferred_name", "1")] == NAME
    assert read_words(database)[("pain_stories.where_it_hurts", "1")] == STORY[0]
    with database.engine.connect() as connection:  # the dialog's working data too (it was JSON before)
        assert connection.exec_driver_sql("SELECT data FROM dialog_states").scalar().startswith("pk1:")


def test_a_malformed_key_is_refused(keys):
    with pytest.raises(crypto.DataKeyError, match="Fernet keys"):
        crypto.configure("not-a-key")


def test_identified_exports_decrypt(chat, database, database_url, keys, monkeypatch, tmp_path):
    a, _b = keys
    crypto.configure(a)
    onboard(chat, name=NAME)
    chat.open("Check in now")
    chat.press("Daily check-in")
    for answer in ["7", "6", "Skip", "Skip", "Partly"]:
        chat.press(answer) if answer in chat.buttons else chat.say(answer)
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)
    monkeypatch.setenv("PAINCOACH_DATA_KEY", a)
    assert main(["export", "--out", str(tmp_path / "out"), "--format", "long,fhir", "--identify"]) == 0
    written = "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert NAME in written and "fernet:" not in written


# -- secrets ------------------------------------------------------------------------------------


def secret_file(path: Path, value: str, mode: int = 0o600) -> str:
    path.write_text(value + "\n")
    path.chmod(mode)
    return str(path)


def test_secrets_from_files_never_reach_the_logs(chat, tmp_path, keys):
    token = "123456789:AAHsecretHalfOfTheToken-Zq4471abcdef"
    password = "Pw-Zq-sekrit-8812"
    url = f"postgresql+psycopg://paincoach:{password}@db.example/paincoach"
    webhook = "webhook-secret-Zq-3390"
    data_key = keys[0]
    env = {
        "TELEGRAM_BOT_TOKEN_FILE": secret_file(tmp_path / "token", token),
        "PAINCOACH_DATABASE_URL_FILE": secret_file(tmp_path / "url", url),
        "PAINCOACH_DATA_KEY_FILE": secret_file(tmp_path / "key", data_key),
        "PAINCOACH_WEBHOOK_SECRET_FILE": secret_file(tmp_path / "webhook", webhook, 0o400),
        "PAINCOACH_LOG_LEVEL": "DEBUG",
    }
    settings = Settings.from_env(env)
    assert (settings.token, settings.database_url, settings.data_key, settings.webhook_secret) == (token, url, data_key, webhook)
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    stream = io.StringIO()
    setup_logging(settings, stream=stream)
    try:
        crypto.configure(settings.data_key)
        onboard(chat, name=NAME)
        chat.command("delete")
        chat.press("Yes, delete everything")
        check = logging.getLogger("check")
        check.debug("debug is on")
        check.debug("settings: %r", settings)
        check.info("token %s, url %s, key %s, webhook %s", token, url, data_key, webhook)  # even when logged on purpose
        try:
            raise RuntimeError(f'connection failed: password "{password}" refused; bot {token.split(":")[1]}')
        except RuntimeError:
            check.exception("and in a traceback")
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
    output = stream.getvalue()
    assert "DEBUG check: debug is on" in output and "[redacted]" in output
    for secret in [token, token.split(":")[1], password, url, data_key, webhook]:
        assert secret not in output
    assert NAME not in output  # nor what the patient wrote


def test_a_secret_file_others_can_read_is_refused(tmp_path, monkeypatch, capsys):
    path = secret_file(tmp_path / "token", "123456789:AAHsecretHalfOfTheToken", 0o640)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN_FILE") as refused:
        Settings.from_env({"TELEGRAM_BOT_TOKEN_FILE": path})
    assert "secretHalf" not in str(refused.value) and "chmod 600" in str(refused.value)
    with pytest.raises(ConfigError, match="keep one"):
        Settings.from_env({"PAINCOACH_WEBHOOK_SECRET": "x", "PAINCOACH_WEBHOOK_SECRET_FILE": secret_file(tmp_path / "w", "y")})
    with pytest.raises(ConfigError, match="cannot be read"):
        Settings.from_env({"PAINCOACH_DATA_KEY_FILE": str(tmp_path / "missing")})
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN_FILE", path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["db", "upgrade"]) == 2
    assert "configuration error: TELEGRAM_BOT_TOKEN_FILE" in capsys.readouterr().err
