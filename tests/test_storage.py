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
