"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL (production)."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import datakeys
from storage.models import Clinic

MIGRATIONS = Path(__file__).with_name("migrations")
# Set in a session's info by storage.erase: after that transaction commits, SQLite's WAL is
# checkpointed and emptied, so no copy of the erased pages stays behind in it.
CHECKPOINT_AFTER_COMMIT = "checkpoint_after_commit"
MIGRATING = 2  # the advisory lock's second key while migrating (storage/leader.py uses 1)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "paincoach"


def default_database_url(data_dir: Path | None = None) -> str:
    return f"sqlite:///{(data_dir or default_data_dir()) / 'paincoach.db'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Per connection: WAL lets the dispatcher read while a dialog writes; SQLite ignores
    # foreign keys unless asked; a busy timeout rides out a concurrent writer; secure_delete
    # overwrites deleted rows with zeros, so an erased patient's words do not linger in free space.
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection) -> None:
    # Take the write lock when the transaction starts. A deferred transaction that reads and
    # then writes fails at once (SQLITE_BUSY, no waiting) if another thread wrote in between.
    # A reading transaction (an export) takes no lock: WAL gives it a snapshot, the bot writes on.
    connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get("reading") else "BEGIN IMMEDIATE")


def _owner_only(path: Path) -> None:
    """The database file is created readable by its owner only (0600); SQLite gives its -wal and
    -shm files the database file's mode. A file made before this is narrowed to the owner too."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.getuid():
            file.chmod(0o600)


class Database:
    """One engine and its session factory. `migrate()` brings the schema to the newest revision."""

    def __init__(self, url: str):
        self.url = make_url(url)
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            _owner_only(Path(self.url.database))
        # hide_parameters: a failed statement's error must not carry what a patient wrote into the logs.
        # No ping per checkout (a round trip on every step): a connection that dropped meanwhile fails
        # the unit of work, which storage.retry runs again on a fresh one (the pool drops the rest).
        self.engine: Engine = create_engine(self.url, hide_parameters=True)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _begin_immediate)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, datakeys.readable(session):
            with session.begin():
                yield session
            if session.info.pop(CHECKPOINT_AFTER_COMMIT, False):
                self.checkpoint()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session on one consistent snapshot, for long reads such as exports:
        on SQLite it holds no write lock, so patients are never kept waiting by an export."""
        if self.is_sqlite:
            bind = self.engine.execution_options(reading=True)
        else:
            bind = self.engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with Session(bind, expire_on_commit=False) as session, datakeys.readable(session), session.begin():
            yield session

    def migrate(self, revision: str = "head") -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            # SQLite alters a table by rebuilding it; with foreign keys on, the rebuild would cascade
            # deletes into the rows that point at it. Off outside the transaction, checked after.
            raw = connection.connection.driver_connection if self.is_sqlite else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=OFF")
            with connection.begin():
                if not self.is_sqlite:
                    # Several processes starting at once: one migrates, the others wait for it here,
                    # then find the schema at head and do nothing. Held until this transaction ends.
                    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema()), :what)"), {"what": MIGRATING})
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            if raw is not None:
                problems = raw.execute("PRAGMA foreign_key_check").fetchall()
                raw.execute("PRAGMA foreign_keys=ON")
                if problems:
                    raise RuntimeError(f"migration left broken references: {problems[:5]}")

    def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database file and truncate it (waits for readers up to
        the busy timeout). PostgreSQL needs nothing here: VACUUM reclaims deleted rows."""
        if not self.is_sqlite:
            return
        with self.engine.connect() as connection:
            busy, _log, _done = connection.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:  # a long reader (an export) held an old snapshot past the busy timeout
            logging.getLogger(__name__).warning(
                "WAL checkpoint after an erasure was blocked by a reader: erased pages may stay in the WAL file until a later checkpoint")

    def default_clinic(self, session: Session) -> Clinic:
        return session.scalars(select(Clinic).where(Clinic.is_default)).one()

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True) -> Database:
    db = Database(url)
    if migrate:
        db.migrate()
    return db
