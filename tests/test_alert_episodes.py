"""Alerts by episode: a patient's further messages join the open alert, a higher category alerts
again, an acknowledgement (in Telegram or on the command line) is shown on every copy, and an
unacknowledged alert escalates again up to the clinic's limit."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from clinic.alerts import ACK, AlertDispatcher
from clinic.desk import Desk
from conftest import NOW, Chat
from dialogs.engine import Engine
from dialogs.io import Edit, Message, Press
from onboard import onboard
from storage.models import Alert, AlertDelivery, AuditEntry, Clinic, Patient
from test_clinic import make_clinic, patient_invite, say, texts, verified

DOCTOR_A, DOCTOR_B, FALLBACK = "9001", "9002", -100777
CRISIS, RED_FLAG = "I want to kill myself", "I have numbness in my saddle area since this morning"


class Telegram:
    """Stands in for Telegram: what was sent, and every copy as it reads now."""

    def __init__(self):
        self.sent: list[tuple[int, Message]] = []
        self.edits: list[tuple[int, int, Message]] = []
        self.copies: dict[tuple[int, int], Message] = {}

    async def send(self, chat_id: int, message: Message) -> int:
        self.sent.append((chat_id, message))
        self.copies[(chat_id, len(self.sent))] = message
        return len(self.sent)

    async def edit(self, chat_id: int, message_id: int, message: Message) -> None:
        self.edits.append((chat_id, message_id, message))
        self.copies[(chat_id, message_id)] = message


@pytest.fixture(autouse=True)
def command_line_uses_the_test_database(database_url, monkeypatch):
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", database_url)


@pytest.fixture
def clock():
    return [NOW]


@pytest.fixture
def desk(database, clock) -> Desk:
    return Desk(database, clock=lambda: clock[0])


@pytest.fixture
def telegram() -> Telegram:
    return Telegram()


@pytest.fixture
def tick(database, clock, telegram):
    dispatcher = AlertDispatcher(database, telegram.send, telegram.edit, clock=lambda: clock[0])
    return lambda: asyncio.run(dispatcher.tick())


def patient(database, desk, clock, **settings) -> Chat:
    clinic = make_clinic(database, "Riverside", **settings)
    verified(database, desk, clinic, DOCTOR_A, name="Dr A")
    verified(database, desk, clinic, DOCTOR_B, name="Dr B")
    alice = Chat(Engine(database, clock=lambda: clock[0]), "1001")
    alice.command("start", patient_invite(database, clinic, reference="MRN 5"))
    onboard(alice)
    return alice


def patient_consent(database) -> str:
    with database.transaction() as session:
        return session.scalars(select(Patient.consent)).one()


def alerts(database) -> list[Alert]:
    with database.transaction() as session:
        return session.scalars(select(Alert).order_by(Alert.id)).all()


def test_further_messages_join_the_open_alert_and_its_copies_show_the_count(database, desk, clock, telegram, tick):
    alice = patient(database, desk, clock)
    alice.say(CRISIS)
    assert tick() == 2
    clock[0] = NOW + timedelta(minutes=3)
    alice.say("I really want to die")
    clock[0] = NOW + timedelta(minutes=5)
    alice.say(CRISIS)
    [alert] = alerts(database)
    assert alert.message_count == 3 and alert.last_message_at == NOW + timedelta(minutes=5)
    assert tick() == 0  # nobody is notified again
    assert sorted(chat for chat, _id, _m in telegram.edits) == [int(DOCTOR_A), int(DOCTOR_B)]
    for _chat, _id, message in telegram.edits:
        assert "Alert: crisis message" in message.text and "3 messages, the latest at Nov 28, 2026, 1:10\u202fPM UTC" in message.text
        assert message.buttons[0][0].id == f"{ACK}{alert.id}"  # still to be acknowledged
    tick()
    assert len(telegram.edits) == 2  # each copy edited once, to the latest count
    # Another category never merges into it: an alert of its own, which notifies.
    alice.say(RED_FLAG)
    tick()
    assert [(a.category, a.message_count) for a in alerts(database)] == [("crisis", 3), ("red_flag", 1)]
    assert [m.text.splitlines()[0] for _c, m in telegram.sent[2:]] == ["⚠️ Alert: red-flag symptom"] * 2


def test_a_higher_category_alerts_again_and_an_acknowledged_alert_is_not_joined(database, desk, clock, telegram, tick):
    alice = patient(database, desk, clock)
    alice.say(RED_FLAG)
    tick()
    alice.say(CRISIS)  # higher: a new alert, everyone notified at once
    tick()
    red_flag, crisis = alerts(database)
    assert (red_flag.category, red_flag.message_count) == ("red_flag", 1) and (crisis.category, crisis.message_count) == ("crisis", 1)
    assert [m.text.splitlines()[0] for _c, m in telegram.sent[2:]] == ["⚠️ Alert: crisis message"] * 2
    alice.say(RED_FLAG)  # each category joins its own open alert
    alice.say(CRISIS)
    assert [(a.category, a.message_count) for a in alerts(database)] == [("red_flag", 2), ("crisis", 2)]
    say(desk, DOCTOR_A, Press(f"{ACK}{crisis.id}", None, None))
    alice.say(CRISIS)  # after the acknowledgement: a new episode
    assert [(a.category, a.message_count) for a in alerts(database)] == [("red_flag", 2), ("crisis", 2), ("crisis", 1)]
    assert tick() == 2


def test_an_alert_nobody_answered_through_every_round_is_not_joined_it_rings_again(database, desk, clock, telegram, tick):
    alice = patient(database, desk, clock, alert_escalate_minutes=10, alert_escalate_times=1)
    alice.say(CRISIS)
    tick()
    clock[0] = NOW + timedelta(minutes=10)
    tick()  # the one escalation round: it stays open, and escalates no more
    sent = len(telegram.sent)
    clock[0] = NOW + timedelta(days=3)
    alice.say(CRISIS)
    assert [(a.category, a.message_count) for a in alerts(database)] == [("crisis", 1), ("crisis", 1)]
    assert tick() == 2 and len(telegram.sent) == sent + 2  # both clinicians notified anew


def test_a_withdrawn_patients_crisis_still_alerts_without_their_words(database, desk, clock, telegram, tick):
    alice = patient(database, desk, clock, alert_include_words=True)
    alice.command("withdraw")
    assert patient_consent(database) == "withdrawn"
    alice.say(CRISIS)
    alice.say(CRISIS)
    [alert] = alerts(database)
    assert alert.words is None and alert.message_count == 2
    tick()
    assert all("kill" not in m.text and "2 messages" in m.text for _c, m in telegram.sent)


def test_an_acknowledgement_is_shown_on_every_copy_and_a_stale_button_says_by_whom(database, desk, clock, telegram, tick):
    alice = patient(database, desk, clock, alert_escalate_minutes=10, timezone="Europe/Berlin")  # times in the clinic's zone
    alice.say(CRISIS)
    tick()
    clock[0] = NOW + timedelta(minutes=10)
    tick()  # escalated: a second copy each
    assert len(telegram.sent) == 4
    [alert] = alerts(database)
    clock[0] = NOW + timedelta(minutes=12)
    first = next(i for i, (chat, _m) in enumerate(telegram.sent, 1) if chat == int(DOCTOR_A))
    reply = say(desk, DOCTOR_A, Press(f"{ACK}{alert.id}", first, telegram.sent[first - 1][1].text))
    assert texts(reply) == "Acknowledged. Thank you."
    [edit] = [o for o in reply if isinstance(o, Edit)]  # the pressed copy at once
    assert edit.message_id == first and "✓ Acknowledged by Dr A at Nov 28, 2026, 2:17\u202fPM CET" in edit.text and not edit.buttons
    tick()
    assert sorted((chat, i) for chat, i, _m in telegram.edits) == sorted(
        (chat, i) for i, (chat, _m) in enumerate(telegram.sent, 1) if i != first)  # every other copy, once
    assert all("Acknowledged by Dr A at Nov 28, 2026, 2:17\u202fPM CET" in m.text and not m.buttons for _c, _i, m in telegram.edits)
    tick()
    assert len(telegram.edits) == 3
    stale = say(desk, DOCTOR_B, Press(f"{ACK}{alert.id}", None, None))
    assert texts(stale) == "Already acknowledged by Dr A at Nov 28, 2026, 2:17\u202fPM CET."
    with database.transaction() as session:
        assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "acknowledge")).all()) == 1
    clock[0] = NOW + timedelta(hours=2)
    assert tick() == 0  # acknowledged: no more escalation


def test_escalation_repeats_up_to_the_limit_and_the_fallback_names_the_clinic(database, desk, clock, telegram, tick, capsys):
    alice = patient(database, desk, clock, alert_escalate_minutes=10, alert_escalate_times=2)
    with database.transaction() as session:
        session.scalars(select(Clinic).where(Clinic.name == "Riverside")).one().fallback_chat_id = FALLBACK
        code = session.scalars(select(Patient.study_code)).one()
    alice.say(CRISIS)
    rounds = []
    for minutes in (0, 9, 10, 19, 20, 30, 60):
        clock[0] = NOW + timedelta(minutes=minutes)
        rounds.append(tick())
    assert rounds == [2, 0, 3, 0, 3, 0, 0]
    fallback = [m for chat, m in telegram.sent if chat == FALLBACK]
    assert len(fallback) == 2 and not any(m.buttons for m in fallback)
    assert all("Clinic: Riverside" in m.text and code in m.text and "MRN 5" not in m.text for m in fallback)
    [alert] = alerts(database)
    assert alert.escalations == 2 and alert.acknowledged_at is None and alert.escalation_due_at is None
    assert main(["alerts"]) == 0
    assert f"{alert.id}  2026-11-28 13:05Z  Riverside  {code}  crisis, escalated 2×" in capsys.readouterr().out


def test_the_command_line_acknowledges_and_the_bot_edits_the_copies(database, desk, clock, telegram, tick, capsys):
    alice = patient(database, desk, clock)
    with database.transaction() as session:
        session.scalars(select(Clinic)).all()[-1].fallback_chat_id = FALLBACK
    alice.say(CRISIS)
    tick()
    [alert] = alerts(database)
    assert main(["alerts", "ack", str(alert.id), "--note", "Called her; she is safe"]) == 0
    assert "acknowledged" in capsys.readouterr().out
    [alert] = alerts(database)
    assert alert.acknowledged_at is not None and alert.acknowledged_by is None and alert.acknowledged_actor.startswith("cli")
    with database.transaction() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "acknowledge")).all()
        assert entry.actor == alert.acknowledged_actor and entry.subject == alert.study_code and entry.detail["note"] is True
    tick()
    assert sorted(chat for chat, _i, _m in telegram.edits) == [int(DOCTOR_A), int(DOCTOR_B)]
    for _chat, _i, message in telegram.edits:
        assert "(command line) at" in message.text and "Note: Called her; she is safe" in message.text and not message.buttons
    assert main(["alerts", "ack", str(alert.id)]) == 0
    assert "already acknowledged" in capsys.readouterr().out
    assert main(["alerts", "ack", "999"]) == 2
    assert main(["alerts"]) == 0 and "no unacknowledged alerts" in capsys.readouterr().out
    with database.transaction() as session:
        assert all(d.acknowledged_shown_at is not None for d in session.scalars(select(AlertDelivery)))


def test_alerts_from_before_episodes_keep_their_escalation_and_old_copies_are_not_edited(database_url):
    """Migration 0022: an open alert not yet escalated gets its first round at the shipped time;
    one escalated keeps the one round it had; copies of acknowledged alerts count as shown."""
    from sqlalchemy import bindparam, text

    from storage import open_database
    from storage.models.base import UtcDateTime

    db = open_database(database_url, migrate=False)
    db.migrate("0021")
    created = NOW.replace(hour=12, minute=0)
    with db.engine.begin() as connection:
        def run(sql: str, **values) -> None:
            times = [bindparam(k, type_=UtcDateTime()) for k in values if k in ("at", "ack", "esc")]
            connection.execute(text(sql).bindparams(*times), values)

        clinic = connection.execute(text("SELECT id FROM clinics")).scalar()
        run("INSERT INTO clinicians (id, clinic_id, language, is_admin, created_at) VALUES (1, :clinic, 'en', false, :at)", clinic=clinic, at=created)
        for alert_id, acknowledged_by, escalated in [(1, None, None), (2, None, created), (3, 1, None)]:
            run("INSERT INTO alerts (id, clinic_id, study_code, category, created_at, acknowledged_at, acknowledged_by, escalated_at) "
                "VALUES (:id, :clinic, 'PC-AAAA', 'crisis', :at, :ack, :by, :esc)",
                id=alert_id, clinic=clinic, at=created, ack=created if acknowledged_by else None, by=acknowledged_by, esc=escalated)
            run("INSERT INTO alert_deliveries (alert_id, chat_id, round, attempts, next_attempt_at, sent_at, message_id) "
                "VALUES (:id, 9001, 0, 1, :at, :at, 5)", id=alert_id, at=created)
    db.migrate()
    with db.transaction() as session:
        first, second, third = session.scalars(select(Alert).order_by(Alert.id)).all()
        assert first.escalation_due_at == NOW.replace(hour=12, minute=15) and first.escalations == 0
        assert second.escalation_due_at is None and second.escalations == 1
        assert third.acknowledged_actor == "clinician:1" and third.message_count == 1 and third.last_message_at == third.created_at
        shown = {d.alert_id: d.acknowledged_shown_at for d in session.scalars(select(AlertDelivery))}
        assert shown[1] is None and shown[2] is None and shown[3] is not None
    db.dispose()


def test_an_alert_that_reached_nobody_is_not_joined_once_someone_can_hear(database, desk, clock, telegram, tick):
    clinic = make_clinic(database, "Lakeside")
    alice = Chat(Engine(database, clock=lambda: clock[0]), "1002")
    alice.command("start", patient_invite(database, clinic))
    onboard(alice)
    alice.say(CRISIS)  # no clinician, no fallback: nobody to send it to
    verified(database, desk, clinic, DOCTOR_A, name="Dr A")
    alice.say(CRISIS)
    assert [a.message_count for a in alerts(database)] == [1, 1]
    assert tick() == 1 and [chat for chat, _m in telegram.sent] == [int(DOCTOR_A)]
