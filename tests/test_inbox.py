"""The inbox's leases: an update is handled by the process that stored it; another takes it only
once that one's lease ran out (it died), and an update already applied is never stored again."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update as sql_update
from telegram import Update

from bot import inbox
from storage.models import Inbox, ProcessedUpdate
from test_webhook import update


def telegram_update(update_id: int, text: str = "hello") -> Update:
    return Update.de_json(update(update_id, text), None)


def lapse(database, *update_ids: int) -> None:
    """As if the process holding them had died a while ago."""
    with database.transaction() as session:
        session.execute(sql_update(Inbox).where(Inbox.update_id.in_(update_ids))
                        .values(lease_until=datetime.now(timezone.utc) - timedelta(seconds=1)))


def test_a_resend_is_handled_again_only_once_its_holder_is_gone(database):
    assert inbox.keep(database, [telegram_update(1), telegram_update(2)]) == {1, 2}
    assert inbox.keep(database, [telegram_update(1)]) == set()  # its holder is alive: it handles it
    lapse(database, 1)
    assert inbox.keep(database, [telegram_update(1)]) == {1}  # gone: this process takes it over
    assert inbox.keep(database, [telegram_update(1)]) == set()  # and holds it now
    with database.transaction() as session:
        assert sorted(session.scalars(select(Inbox.update_id))) == [1, 2]


def test_an_applied_update_is_not_stored_again(database):
    with database.transaction() as session:
        session.add(ProcessedUpdate(source="telegram", update_id=5))
    assert inbox.keep(database, [telegram_update(5), telegram_update(6)]) == {6}
    with database.transaction() as session:
        assert list(session.scalars(select(Inbox.update_id))) == [6]


def test_a_sweep_takes_only_what_no_live_process_holds(database):
    inbox.keep(database, [telegram_update(u) for u in (7, 8, 9)])
    lapse(database, 7, 9)
    assert [p["update_id"] for p in inbox._claim(database, everything=False)] == [7, 9]
    assert inbox._claim(database, everything=False) == []  # leased to the sweeper now
    assert [p["update_id"] for p in inbox._claim(database, everything=True)] == [7, 8, 9]  # (SQLite, a poller: all)
