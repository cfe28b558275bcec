"""The outbox keeps a step's replies until Telegram took them (the kill test is in test_restart.py)."""
from __future__ import annotations

from datetime import timedelta

from conftest import NOW
from dialogs.io import Button, Edit, File, Message, decode, encode
from sqlalchemy import delete, update

from storage import outbox
from storage.models import Inbox, Outbox


def test_every_kind_of_output_comes_back_as_it_went_in():
    outputs = [
        Message("Wie stark ist der Schmerz? 😣", ((Button("1s4.0sig", "0"), Button("1s4.1sig", "1")),), expects_number=True,
                guide=((0.0, "Breathe in"), (4.5, "Breathe out")), guide_done="1s4.gsig", urgent=True),
        Edit(41, "Do you agree?\n\n✓ Yes"),
        File("progress.png", b"\x89PNG\r\n\x1a\n\x00\xff", "PEG 4.3", "image/png"),
        Message("plain", standalone=True),
    ]
    assert [decode(encode(o)) for o in outputs] == outputs


def test_a_live_process_keeps_its_rows_and_a_dead_ones_are_taken_after_the_lease(database):
    with database.transaction() as session:
        ids = outbox.put(session, 1001, [(encode(Message("a")), False), (encode(Message("b", urgent=True)), True)], NOW)
        other = outbox.put(session, 1002, [(encode(Message("c")), False)], NOW)
    assert ids[0] < ids[1] < other[0]  # the order they go out in
    assert outbox.orphans(database, NOW + timedelta(seconds=5)) == []  # leased: its writer is sending
    later = NOW + outbox.LEASE + timedelta(seconds=1)
    taken = outbox.orphans(database, later)
    # Urgent rows first, whichever chat they are for; then each chat's rest, in order.
    assert [(chat, [row_id for row_id, _p in rows]) for chat, rows in taken] == [(1001, [ids[1]]), (1001, [ids[0]]), (1002, other)]
    assert decode(taken[0][1][0][1]) == Message("b", urgent=True)
    assert outbox.orphans(database, later) == []  # leased again, to the taker
    outbox.confirmed(database, ids)
    assert [chat for chat, _rows in outbox.orphans(database, later, everything=True)] == [1002]  # the only process takes all


def test_a_new_step_supersedes_what_the_chat_left_unsent_but_crisis_lines(database):
    """The patient wrote again after a crash: the question they were shown (and answered) is not
    sent again; the crisis lines still are."""
    with database.transaction() as session:
        first = outbox.put(session, 1001, [(encode(Message("Call 988")), True), (encode(Message("How is your sleep?")), False)], NOW)
        outbox.put(session, 1002, [(encode(Message("another chat")), False)], NOW)
    with database.transaction() as session:
        second = outbox.put(session, 1001, [(encode(Message("Thanks. How is your mood?")), False)], NOW)
    left = outbox.orphans(database, NOW, everything=True)
    texts = [(chat, [decode(payload).text for _id, payload in rows]) for chat, rows in left]
    assert texts == [(1001, ["Call 988"]), (1002, ["another chat"]), (1001, ["Thanks. How is your mood?"])]
    assert first[0] in [row_id for _chat, rows in left for row_id, _p in rows] and second


def test_a_step_with_nothing_to_say_keeps_what_the_chat_still_has_to_send(database):
    """A redelivered update says nothing; the replies its first delivery kept must still go out."""
    with database.transaction() as session:
        kept = outbox.put(session, 1001, [(encode(Message("Where does it hurt?")), False)], NOW)
    with database.transaction() as session:
        assert outbox.put(session, 1001, [], NOW) == []
    assert [[row_id for row_id, _p in rows] for _chat, rows in outbox.orphans(database, NOW, everything=True)] == [kept]


def test_rows_held_back_at_a_start_go_unless_superseded_or_taken_by_another_process(database):
    """bot/steps.py holds a dead process's replies back while the updates that waited are handled."""
    with database.transaction() as session:
        answered = outbox.put(session, 1001, [(encode(Message("How did you sleep?")), False)], NOW)
        waiting = outbox.put(session, 1002, [(encode(Message("Where does it hurt?")), False)], NOW)
        taken = outbox.put(session, 1003, [(encode(Message("Since when?")), False)], NOW)
    held = outbox.orphans(database, NOW, everything=True, urgent=False, lease=outbox.HOLD)
    until = NOW + outbox.HOLD
    assert [chat for chat, _rows in held] == [1001, 1002, 1003]
    assert outbox.orphans(database, NOW + outbox.LEASE + timedelta(seconds=1)) == []  # no sweep sends them early
    with database.transaction() as session:  # patient 1001 answered while the bot was down
        outbox.put(session, 1001, [(encode(Message("Thanks. How is your mood?")), False)], NOW)
    with database.transaction() as session:  # its hold ran out in a stalled start: another process took it
        session.execute(update(Outbox).where(Outbox.id.in_(taken)).values(lease_until=until + outbox.LEASE))
    ids = answered + waiting + taken
    with database.transaction() as session:  # an update that came before the hold still waits: they wait too
        session.add(Inbox(update_id=77, payload={}, received_at=NOW - timedelta(seconds=1)))
    assert outbox.still_kept(database, ids, until, NOW, answers_before=NOW) == ([], NOW + outbox.HOLD)
    with database.transaction() as session:
        session.execute(delete(Inbox))
    kept, renewed = outbox.still_kept(database, ids, NOW + outbox.HOLD, NOW, answers_before=NOW)
    assert [chat for chat, _rows in kept] == [1002] and renewed is None
