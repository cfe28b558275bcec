"""The deployment mode, "polling" or "webhook": how this bot gets its updates, as `paincoach run`
last recorded it (bot/startup.py decides what a poller may do with it)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Deployment

POLLING, WEBHOOK = "polling", "webhook"


def recorded_mode(session: Session) -> str | None:
    row = session.get(Deployment, 1)
    return row.mode if row is not None else None


def record_mode(session: Session, mode: str, now: datetime) -> None:
    if mode not in (POLLING, WEBHOOK):
        raise ValueError(f"no such deployment mode: {mode!r}")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # One statement: two processes starting at once on a new database both record, neither fails.
    session.execute(dialect.insert(Deployment).values(id=1, mode=mode, recorded_at=now).on_conflict_do_update(
        index_elements=["id"], set_={"mode": mode, "recorded_at": now}, where=Deployment.mode != mode))
