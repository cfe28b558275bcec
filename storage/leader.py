"""Which process leads: the one that runs the singletons (the poller, the planning sweep, retention).

On PostgreSQL the leader is the process that holds a session-level advisory lock on a connection of
its own. PostgreSQL releases the lock the moment that connection ends, so a killed leader's lock is
free as soon as the server sees its socket close, and another process takes it at its next try
(every few seconds: failover well within 10 s). The lock's key is made from the schema name, so
two deployments in one database (or two tests) each have a leader.

Between two checks a lost connection can leave two processes both believing they lead for a moment.
Every singleton is safe to run twice (planning is idempotent, retention deletes what is past its
age, a second poller gets Telegram's 409 and backs off): leadership saves work, it does not guard
correctness.

A leader whose machine dies or is cut off sends no close: the connection asks for TCP keepalives
both ways (PostgreSQL drops a silent client after about 11 s, so its lock frees then), and a
statement or connection that hangs gives up after 5 s, so a follower never waits on a dead host.

On SQLite there is one process, and it leads.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from storage.db import Database

log = logging.getLogger(__name__)
LEADER = 1  # the lock's second key: what it guards (storage/db.py uses 2 for migrations)
# libpq: the client notices a dead server; the server-side settings make PostgreSQL notice a dead client.
CONNECT_ARGS = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                "options": "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 -c statement_timeout=5000"}


class Leadership:
    """`check()` tries to become (or stay) the leader and says whether this process leads."""

    def __init__(self, db: Database):
        self.db = db
        self.leading = db.is_sqlite
        self._engine = None if db.is_sqlite else create_engine(db.url, poolclass=NullPool, hide_parameters=True,
                                                               connect_args=_with_options(db, CONNECT_ARGS))
        self._connection: Connection | None = None
        self._lock = threading.Lock()  # check() and resign() come from different worker threads
        self._resigned = False

    def check(self) -> bool:
        """Blocking (a worker thread): one round trip when leading, a connection and one when not."""
        if self._engine is None:
            return True
        with self._lock:
            if self._resigned:  # stopping: never take the lead back
                return False
            return self._check()

    def _check(self) -> bool:
        try:
            if self._connection is None:
                self._connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self.leading:
                self._connection.execute(text("SELECT 1"))  # still connected: the lock is still ours
            else:
                self.leading = bool(self._connection.execute(
                    text("SELECT pg_try_advisory_lock(hashtext(current_schema()), :what)"), {"what": LEADER}).scalar())
                if self.leading:
                    log.info("this process leads: it runs the poller, the planning sweep and retention")
        except Exception as error:  # the connection is gone, and with it the lock
            if self.leading:
                log.warning("lost the leadership (%s): the singletons stop here until it is won again", type(error).__name__)
            self.leading = False
            self._drop_connection()
        return self.leading

    def resign(self) -> None:
        """Let another process lead at once (closing the connection releases the lock)."""
        if self._engine is None:
            return
        with self._lock:
            self._resigned = True
            self.leading = False
            self._drop_connection()
            self._engine.dispose()

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None


def _with_options(db: Database, connect_args: dict) -> dict:
    """Our keepalive and timeout options after any the URL gives (its search_path, say)."""
    given = db.url.query.get("options")
    return {**connect_args, "options": f"{given} {connect_args['options']}" if given else connect_args["options"]}
