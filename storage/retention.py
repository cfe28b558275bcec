"""What the delivery machinery keeps, and for how long (docs/operations.md has the table).

Handled inbox rows and confirmed outbox rows are deleted at once, in the transaction that
handled or confirmed them. What is pruned here, hourly: update ids older than the 48-hour
window (storage/updates.py), replies that could not be sent for a day (storage/outbox.py), the
data keys of people who are not patients, a week after they were made (storage/datakeys.py), and
the dashboard's sign-in links and sessions a day after their last use (storage/web.py).
The clinical record (answers, prompts, alerts) is the clinic's: its retention is a clinic
setting, applied on discharge, not here.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from storage import datakeys, outbox, updates, web

log = logging.getLogger(__name__)


def prune(session: Session, now: datetime) -> dict[str, int]:
    pruned = {"processed_updates": updates.prune(session, now), "outbox": outbox.drop_stale(session, now),
              "data_keys": datakeys.forget_strangers(session, now), "web": web.prune(session, now)}
    if pruned["outbox"]:
        log.warning("dropped %d replies that could not be sent for a day", pruned["outbox"])
    return pruned
