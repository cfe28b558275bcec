"""The embedded database as configured: WAL, foreign keys, and migrations that keep rows intact."""
from __future__ import annotations

from sqlalchemy import text

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
