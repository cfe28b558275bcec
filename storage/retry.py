"""A unit of work that rides out a busy database: a lock held too long (SQLite's "database is
locked") or a dropped connection (PostgreSQL restarting, a failover) is retried with backoff.

The whole unit is retried, not a statement: it is one transaction, rolled back on the error, so
running it again can neither lose nor double anything. Other errors go straight to the caller.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from storage.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0, 4.0)  # about 8 s in all, then the error goes up


def transient(error: Exception) -> bool:
    """A lock or a lost connection: worth another try. A constraint or a bug is not."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError):
        text = str(error.orig).lower()
        return any(sign in text for sign in ("database is locked", "database table is locked", "busy", "deadlock",
                                              "could not serialize", "connection", "server closed", "terminating"))
    return False


def retrying(db: Database, work: Callable[[Session], T], *, delays: tuple[float, ...] = DELAYS, sleep=time.sleep) -> T:
    """work(session) in one transaction; again, after a pause, if the database was busy or away."""
    for attempt, delay in enumerate((*delays, None)):
        try:
            with db.transaction() as session:
                return work(session)
        except (OperationalError, DBAPIError) as error:
            if delay is None or not transient(error):
                raise
            log.warning("database busy or away (%s); trying again in %.2f s", type(error.orig).__name__, delay)
            sleep(delay)
    raise AssertionError("unreachable")
