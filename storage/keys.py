"""The keys that sign our buttons, one row per version, shared by every process on the database."""
from __future__ import annotations

import base64
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import ButtonKey

FIRST_VERSION = "1"


def button_keys(db: Database) -> dict[str, bytes]:
    """Every key by version, the newest last; the first process to start makes the first key."""
    with db.transaction() as session:
        if keys := read(session):
            return keys
        try:
            with session.begin_nested():
                session.add(ButtonKey(version=FIRST_VERSION, key=_new_key()))
        except IntegrityError:  # another process made it first: use theirs
            pass
        return read(session)


def read(session: Session) -> dict[str, bytes]:
    """The keys as stored now, the newest last (a process that meets a version it has not
    loaded, rotated in by another, reads them again)."""
    rows = session.scalars(select(ButtonKey).order_by(ButtonKey.created_at, ButtonKey.version))
    return {row.version: base64.b64decode(row.key) for row in rows}


def rotate(db: Database, version: str) -> None:
    """A new key signs from now on: processes started later at once, running ones from the first
    button signed with it they meet. Buttons signed with older keys keep working until those
    keys are deleted (and each process restarted)."""
    with db.transaction() as session:
        session.add(ButtonKey(version=version, key=_new_key()))


def rotate_next(db: Database) -> str:
    """Rotate to the next version (1-9, then a-z); returns it."""
    order = "123456789abcdefghijklmnopqrstuvwxyz"
    current = list(button_keys(db))
    version = next(v for v in order if v not in current)
    rotate(db, version)
    return version


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()
