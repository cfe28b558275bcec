"""The embedded database as configured: WAL, foreign keys, and migrations that keep rows intact."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select, text

from storage import open_database


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'p.db'}")
    with db.transaction() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("select count(*) from clinics where is_default")).scalar() == 1
    db.migrate()  # a second run changes nothing and keeps the default clinic single
    with db.transaction() as session:
        assert session.execute(text("select count(*) from clinics")).scalar() == 1
    db.dispose()


def test_cli_db_upgrade_creates_the_embedded_database(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("PAINCOACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAINCOACH_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "data" / "paincoach.db").exists()
    assert "newest revision" in capsys.readouterr().out


def test_the_migrations_build_exactly_the_tables_the_models_declare(database):
    """On SQLite and on PostgreSQL: a model changed without its migration (or the other way
    round) shows up here, not in production."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    with database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_a_direct_question_open_when_buttons_became_signed_stays_open(database_url):
    """Migration 0017 drops the button rows; a direct question they held open moves into the
    dialog's data, so the patient's typed answer still counts as its answer."""
    import json

    from storage.models import DialogState

    db = open_database(database_url, migrate=False)
    db.migrate("0016")
    with db.engine.begin() as connection:
        clinic = connection.execute(text("INSERT INTO clinics (name, settings, is_default, created_at) VALUES ('C', '{}', true, CURRENT_TIMESTAMP) RETURNING id")).scalar()
        for patient, step_of_question in [(1, 7), (2, 6)]:  # open now; asked at an earlier step
            connection.execute(text(
                "INSERT INTO patients (id, clinic_id, channel, external_id, language, consent, reachable, checkins_paused, created_at) "
                "VALUES (:id, :clinic, 'telegram', :ext, 'en', 'given', true, false, CURRENT_TIMESTAMP)"), {"id": patient, "clinic": clinic, "ext": str(patient)})
            connection.execute(text(
                "INSERT INTO dialog_states (patient_id, dialog, state, data, stack, step, paused, updated_at) "
                "VALUES (:id, 'menu', 'main', :data, '[]', 7, false, CURRENT_TIMESTAMP)"), {"id": patient, "data": json.dumps({"kept": 1})})
            connection.execute(text(
                "INSERT INTO buttons (id, patient_id, step, action, value, label, created_at) "
                "VALUES (:id, :patient, :step, 'direct', 'yes', 'Yes', CURRENT_TIMESTAMP)"), {"id": f"b{patient}", "patient": patient, "step": step_of_question})
    db.migrate()
    with db.transaction() as session:
        assert session.get(DialogState, 1).data == {"kept": 1, "_direct_question_at": 7}
        assert session.get(DialogState, 2).data == {"kept": 1}
    db.dispose()


def downgrade(db, revision: str) -> None:
    """`alembic downgrade`, with SQLite's foreign keys off around it as `Database.migrate` does."""
    from alembic import command
    from alembic.config import Config

    from storage.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection if db.is_sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
        if raw is not None:
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
            raw.execute("PRAGMA foreign_keys=ON")


def test_going_back_before_the_sleep_routine_and_the_lessons_leaves_only_rows_the_older_code_knows(database_url):
    """Down to 0027: the sleep diary's schedules and the sleep diary in a sitting not yet sent, the
    wind-down nudges and lessons not yet sent go; `capped` becomes `expired`; all else stays. Then
    up again."""
    from storage.models import Patient, Prompt, Schedule

    at = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    db = open_database(database_url)
    with db.transaction() as session:
        patient = Patient(clinic_id=db.default_clinic(session).id, channel="telegram", external_id="1", consent="given", timezone="UTC")
        session.add(patient)
        session.flush()
        session.add_all([Schedule(patient_id=patient.id, instrument=i, local_time="09:00") for i in ("daily", "sleep_diary")])
        for hour, (kind, status, sent, instruments) in enumerate([
            ("wind_down", "scheduled", False, []), ("wind_down", "snoozed", False, []), ("wind_down", "answered", True, []),
            ("lesson", "scheduled", False, []), ("lesson", "sent", True, []),
            ("checkin", "scheduled", False, ["daily", "sleep_diary"]), ("checkin", "scheduled", False, ["sleep_diary"]),
            ("checkin", "answered", True, ["daily", "sleep_diary"]), ("checkin", "capped", False, ["daily"]),
            ("wind_down", "capped", False, []),
        ]):
            moment = at + timedelta(hours=hour)
            session.add(Prompt(patient_id=patient.id, kind=kind, status=status, instruments=instruments, local_date=date(2026, 12, 7),
                               scheduled_for=moment, expires_at=moment + timedelta(minutes=30), sent_at=moment if sent else None,
                               reason="not sent: over the daily cap" if status == "capped" else None))
    downgrade(db, "0027")
    with db.engine.connect() as connection:
        left = connection.execute(text("SELECT kind, status, instruments, reason FROM prompts ORDER BY scheduled_for")).all()
        schedules = connection.execute(text("SELECT instrument FROM schedules")).scalars().all()
        tables = {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))} if db.is_sqlite else None
    assert schedules == ["daily"]
    assert [(kind, status) for kind, status, _i, _r in left] == [
        ("wind_down", "answered"), ("lesson", "sent"), ("checkin", "scheduled"), ("checkin", "answered"),
        ("checkin", "expired"), ("wind_down", "expired")]
    assert [json.loads(i) if isinstance(i, str) else i for _k, _s, i, _r in left][2:4] == [["daily"], ["daily", "sleep_diary"]]
    assert left[4][3] == "not sent: over the daily cap"
    if tables is not None:
        assert "sleep_routines" not in tables and "lesson_courses" not in tables
    db.migrate()
    with db.transaction() as session:
        assert len(session.scalars(select(Prompt)).all()) == 6
    db.dispose()
