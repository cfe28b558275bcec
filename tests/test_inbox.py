"""The inbox as a queue: a chat's updates are taken by one process at a time, oldest first; a
process that finds the chat held leaves its update to the holder, which finds it before giving
the chat up; a dead holder's chat is taken once its lease ran out. Updates without a chat keep a
lease each, and an update already applied is never stored again."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update as sql_update
from telegram import Update

from bot import inbox
from storage import inbox as rows
from storage.models import ChatLease, Inbox, ProcessedUpdate
from test_webhook import USER, update


def telegram_update(update_id: int, text: str = "hello", chat: int = USER) -> Update:
    raw = update(update_id, text)
    raw["message"]["chat"]["id"] = raw["message"]["from"]["id"] = chat
    return Update.de_json(raw, None)


def inline_query(update_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "inline_query": {
        "id": str(update_id), "from": {"id": USER, "is_bot": False, "first_name": "Kim"}, "query": "", "offset": ""}}, None)


def now() -> datetime:
    return datetime.now(timezone.utc)


def ids(payloads) -> list[int]:
    return [payload["update_id"] for payload in payloads]


def test_a_chats_updates_are_taken_oldest_first_by_one_holder_at_a_time(database):
    assert inbox.keep(database, [telegram_update(u) for u in (3, 1, 2)]) == {1, 2, 3}  # arrived out of order
    assert ids(rows.next_of_chat(database, USER, "a", now())) == [1, 2, 3]
    assert rows.next_of_chat(database, USER, "b", now()) is None  # a holds it: b leaves it
    assert ids(rows.next_of_chat(database, USER, "a", now(), after=2, release=False)) == [3]  # (what joined meanwhile)
    with database.transaction() as session:
        for update_id in (1, 2, 3):
            inbox.acknowledge(session, update_id)
    assert rows.next_of_chat(database, USER, "a", now()) == []  # nothing left: given up
    assert rows.next_of_chat(database, USER, "b", now()) == []  # so b may claim it (and gives it up again)
    with database.transaction() as session:
        assert session.scalars(select(ChatLease)).all() == []


def test_an_update_stored_while_another_holds_the_chat_is_the_holders_before_it_lets_go(database):
    inbox.keep(database, [telegram_update(10)])
    assert ids(rows.next_of_chat(database, USER, "a", now())) == [10]
    with database.transaction() as session:
        inbox.acknowledge(session, 10)
    assert inbox.keep(database, [telegram_update(11)]) == {11}  # stored by b...
    assert rows.next_of_chat(database, USER, "b", now()) is None  # ...which cannot claim the chat
    assert ids(rows.next_of_chat(database, USER, "a", now())) == [11]  # a's last look finds it


def test_a_dead_holders_chat_is_taken_once_its_lease_ran_out(database):
    inbox.keep(database, [telegram_update(20), telegram_update(21, chat=USER + 1)])
    assert ids(rows.next_of_chat(database, USER, "dead", now())) == [20]
    assert rows.unheld_chats(database, now()) == [USER + 1]  # the other chat has no holder
    assert rows.next_of_chat(database, USER, "b", now()) is None
    later = now() + rows.LEASE
    assert rows.unheld_chats(database, later) == [USER, USER + 1]
    assert ids(rows.next_of_chat(database, USER, "b", later)) == [20]
    with database.transaction() as session:
        assert session.get(ChatLease, USER).holder == "b"


def test_a_resent_update_without_a_chat_is_handled_again_only_once_its_holder_is_gone(database):
    assert inbox.keep(database, [inline_query(1), inline_query(2)]) == {1, 2}
    assert inbox.keep(database, [inline_query(1)]) == set()  # its holder is alive: it handles it
    lapse(database, 1)
    assert inbox.keep(database, [inline_query(1)]) == {1}  # gone: this process takes it over
    assert inbox.keep(database, [inline_query(1)]) == set()  # and holds it now
    with database.transaction() as session:
        assert sorted(session.scalars(select(Inbox.update_id))) == [1, 2]
        assert session.scalars(select(Inbox.chat_id)).all() == [None, None]


def test_a_sweep_takes_only_the_chatless_updates_no_live_process_holds(database):
    inbox.keep(database, [inline_query(u) for u in (7, 8, 9)] + [telegram_update(6)])
    lapse(database, 7, 9)
    assert ids(rows.claim_chatless(database, now(), everything=False)) == [7, 9]
    assert rows.claim_chatless(database, now(), everything=False) == []  # leased to the sweeper now
    assert ids(rows.claim_chatless(database, now(), everything=True)) == [7, 8, 9]  # (SQLite: all)


def test_an_applied_update_is_not_stored_again(database):
    with database.transaction() as session:
        session.add(ProcessedUpdate(source="telegram", update_id=5))
    assert inbox.keep(database, [telegram_update(5), telegram_update(6)]) == {6}
    with database.transaction() as session:
        assert session.execute(select(Inbox.update_id, Inbox.chat_id)).all() == [(6, USER)]


def lapse(database, *update_ids: int) -> None:
    """As if the process holding them had died a while ago."""
    with database.transaction() as session:
        session.execute(sql_update(Inbox).where(Inbox.update_id.in_(update_ids))
                        .values(lease_until=now() - timedelta(seconds=1)))


def test_storing_an_update_claims_its_chat_and_takes_what_waits_in_one_go(database):
    inbox.keep(database, [telegram_update(30)])  # stored by a process that died before claiming
    stored = rows.store(database, "telegram", [(31, USER, update(31, "hi")), (32, USER + 1, update(32, "hi"))], now(), claim=True,
                        holder="a", worked={USER + 1})
    assert stored.ids == {31, 32}
    assert {chat: ids(waiting) for chat, waiting in stored.claimed.items()} == {USER: [30, 31]}  # (USER + 1: a works it already)
    stored = rows.store(database, "telegram", [(33, USER, update(33, "hi"))], now(), claim=True, holder="b")
    assert stored.ids == {33} and stored.claimed == {}  # a holds the chat: b leaves the update to it
