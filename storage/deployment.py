"""The deployment mode, "polling" or "webhook": how this bot gets its updates, as `paincoach run`
last recorded it (bot/startup.py decides what a poller may do with it)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import Deployment

POLLING, WEBHOOK = "polling", "webhook"


def recorded_mode(session: Session) -> str | None:
    row = session.get(Deployment, 1)
    return row.mode if row is not None else None


def record_mode(session: Session, mode: str, now: datetime) -> None:
    if mode not in (POLLING, WEBHOOK):
        raise ValueError(f"no such deployment mode: {mode!r}")
    row = session.get(Deployment, 1, with_for_update=True)
    if row is None:
        session.add(Deployment(id=1, mode=mode, recorded_at=now))
    elif row.mode != mode:
        row.mode, row.recorded_at = mode, now
