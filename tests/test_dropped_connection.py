"""A connection that drops under a step (PostgreSQL restarting, a failover, an idle connection cut
by a firewall) costs nothing: with no ping per checkout, the unit of work meets the dead
connection, is rolled back and runs again on a fresh one, and the patient's step lands once."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text

from bot.steps import answer
from clinic.desk import Desk
from conftest import NOW, POSTGRES
from dialogs.io import Inbound, Message, Text, Who
from onboard import onboard
from storage.models import Outbox, ProcessedUpdate, ThoughtRecord

pytestmark = pytest.mark.skipif(not POSTGRES, reason="needs a server connection to cut (SQLite has none)")


def cut_once(database, when):
    """Terminate, from another connection, the server process behind the first statement for
    which `when(statement)` holds, just before it is sent; it then meets a dead connection."""
    cut = []

    def before(connection, _cursor, statement, _parameters, _context, _many) -> None:
        if cut or not when(statement):
            return
        pid = connection.connection.driver_connection.info.backend_pid
        with database.engine.pool._creator() as admin:  # a raw connection of its own, outside the pool
            admin.autocommit = True
            assert admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()[0]  # waits until it is gone
        cut.append(pid)

    event.listen(database.engine, "before_cursor_execute", before)
    return cut


def test_a_connection_cut_mid_step_runs_the_step_again_on_a_fresh_one(database, chat, caplog):
    onboard(chat)
    chat.command("menu")
    chat.open("Thought-check")
    chat.press("New thought-check")
    cut = cut_once(database, lambda statement: statement.startswith("INSERT INTO thought_records"))
    inbound = Inbound(Who("telegram", "1001", "en"), Text("My back seized up while I was gardening"), 515151, (1001, 77))

    answered = answer(Desk(database, clock=lambda: NOW), chat.engine, inbound, 1001)

    assert cut, "the step never reached the statement the connection was cut under"
    assert "database busy or away" in caplog.text  # the unit met the dead connection and ran again
    assert any("What did you feel?" in o.text for o in answered.outputs if isinstance(o, Message))
    with database.transaction() as session:
        assert session.scalar(select(func.count()).where(ProcessedUpdate.update_id == 515151)) == 1
        [record] = session.scalars(select(ThoughtRecord)).all()  # recorded once, not once per attempt
        assert record.situation == "My back seized up while I was gardening"
        assert session.scalar(select(func.count()).select_from(Outbox)) == len(answered.kept) > 0
        live = session.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": cut[0]}).scalar()
    assert live == 0  # and the step did not run on the connection that was cut


def test_connections_dropped_while_idle_in_the_pool_are_not_pinged_but_replaced(database, chat, caplog):
    onboard(chat)
    chat.command("menu")
    assert database.engine.pool.checkedin() == 1  # (one patient, one step at a time: the pool keeps one)
    with database.engine.connect() as connection:  # every connection the pool keeps, cut while it waits there
        mine = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    with database.engine.pool._creator() as admin:
        admin.autocommit = True
        admin.execute("SELECT pg_terminate_backend(%s, 10000)", (mine,))

    answered = answer(Desk(database, clock=lambda: NOW), chat.engine,
                      Inbound(Who("telegram", "1001", "en"), Text("hello"), 525252, (1001, 78)), 1001)

    assert "database busy or away" in caplog.text
    assert any("buttons below" in o.text for o in answered.outputs if isinstance(o, Message))
    with database.transaction() as session:
        assert session.scalar(select(func.count()).where(ProcessedUpdate.update_id == 525252)) == 1
