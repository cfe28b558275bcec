"""What the bot sends on its own: every kind passes one consent gate at send time, and a burst is
sent a few prompts at a time, so a killed process can leave only those few `unknown`."""
from __future__ import annotations

import ast
import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from dialogs.engine import Engine
from factories import due_prompts
from scheduler import outbound
from scheduler.dispatcher import IN_FLIGHT, Dispatcher
from storage.models import FlareEpisode, PacingActivity, Patient, Prompt

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 28, 13, 5, tzinfo=timezone.utc)


class Phone:
    """Telegram's servers, as the dispatcher sees them; `hold` keeps every send waiting."""

    def __init__(self, hold: bool = False):
        self.sent: list[tuple[str, object]] = []
        self.waiting = 0
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def deliver(self, external_id: str, outputs) -> int:
        self.waiting += 1
        await self.release.wait()
        self.waiting -= 1
        self.sent.extend((external_id, output) for output in outputs)
        return 5000 + len(self.sent)


def created_prompt_kinds() -> set[str]:
    """Every `kind=` given to a Prompt(...) anywhere in the code."""
    kinds = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Prompt":
                for keyword in node.keywords:
                    if keyword.arg == "kind" and isinstance(keyword.value, ast.Constant):
                        kinds.add(keyword.value.value)
    return kinds


def test_every_kind_the_code_creates_is_registered():
    created = created_prompt_kinds()
    assert {"flare_followup", "pacing_break", "sprint_review"} <= created  # the scan finds them
    assert created | {"checkin"} == set(outbound.KINDS)


def one_due(database, kind: str, *, reminder: bool = False) -> None:
    """One patient (chat 4001) with one due prompt of this kind, or one due for its reminder."""
    due_prompts(database, [4001], NOW)
    with database.transaction() as session:
        prompt = session.scalars(select(Prompt)).one()
        prompt.kind = kind
        if kind == "pacing_break":
            activity = PacingActivity(patient_id=prompt.patient_id, name="gardening")
            session.add(activity)
            session.flush()
            prompt.pacing_activity_id = activity.id
        elif kind == "flare_followup":
            episode = FlareEpisode(patient_id=prompt.patient_id, started_at=NOW - timedelta(days=2))
            session.add(episode)
            session.flush()
            prompt.flare_episode_id = episode.id
        if reminder:
            prompt.status, prompt.sent_at, prompt.remind_at = "sent", NOW - timedelta(hours=1), NOW - timedelta(minutes=1)


def end_consent(database, how: str) -> None:
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        if how == "withdrawn":
            patient.consent = "withdrawn"
        elif how == "discharged":
            patient.discharged_at = NOW - timedelta(minutes=1)
        elif how == "erased":
            session.delete(patient)


@pytest.mark.parametrize("kind", outbound.ALL)
@pytest.mark.parametrize("how", ["still consenting", "withdrawn", "discharged", "erased"])
async def test_the_consent_gate_stops_every_outbound_kind(database, kind, how):
    reminder = kind == outbound.REMINDER
    one_due(database, "checkin" if reminder else kind, reminder=reminder)
    end_consent(database, how)
    phone = Phone()
    sent = await Dispatcher(database, Engine(database, clock=lambda: NOW), phone.deliver, clock=lambda: NOW).tick()
    if how == "still consenting":  # the control: the same prompt goes out while consent holds
        assert sent == 1 and [who for who, _ in phone.sent] == ["4001"]
    else:
        assert sent == 0 and phone.sent == []
        with database.transaction() as session:  # stopped at the claim: never even begun
            assert set(session.scalars(select(Prompt.status))) <= {"scheduled", "sent"}
            assert session.scalars(select(Prompt.claimed_at)).all() in ([], [None])
            assert session.scalars(select(Prompt.reminded_at)).all() in ([], [None])


async def test_consent_ended_between_claim_and_send_sends_nothing(database):
    one_due(database, "flare_followup")
    engine = Engine(database, clock=lambda: NOW)
    dispatcher = Dispatcher(database, engine, Phone().deliver, clock=lambda: NOW)
    claim = dispatcher.claim_one(NOW)
    end_consent(database, "withdrawn")  # /withdraw lands while the invitation is being worded
    assert await dispatcher.send(claim) == 0
    with database.transaction() as session:
        assert session.scalars(select(Prompt.status)).one() == "cancelled"


async def test_a_burst_is_claimed_only_as_it_is_sent(database):
    due_prompts(database, [6000 + i for i in range(40)], NOW)
    phone = Phone(hold=True)  # Telegram slow to answer: every send hangs until released
    dispatcher = Dispatcher(database, Engine(database, clock=lambda: NOW), phone.deliver, clock=lambda: NOW)
    tick = asyncio.create_task(dispatcher.tick())
    while phone.waiting < IN_FLIGHT:  # (however slow the machine: the senders get there)
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # had the dispatcher claimed more, they would show now

    def statuses() -> list[str]:
        with database.transaction() as session:
            return list(session.scalars(select(Prompt.status)))

    # A kill now would leave only these few unknown; the other 35 are still plain `scheduled`.
    assert phone.waiting == IN_FLIGHT
    assert statuses().count("claimed") == IN_FLIGHT and statuses().count("scheduled") == 40 - IN_FLIGHT
    phone.release.set()
    assert await tick == 40
    assert statuses() == ["sent"] * 40 and len({who for who, _ in phone.sent}) == 40


async def test_start_works_on_a_prompt_whose_send_is_unknown(database, chat):
    """Telegram delivered the invitation, then the process died before recording it: the patient's
    Start still starts the check-in."""
    from onboard import onboard

    onboard(chat)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        prompt = Prompt(patient_id=patient.id, instruments=["daily"], local_date=NOW.date(), scheduled_for=NOW - timedelta(minutes=3),
                        expires_at=NOW + timedelta(hours=6), status="scheduled")
        session.add(prompt)
    phone = Phone()
    dispatcher = Dispatcher(database, chat.engine, phone.deliver, clock=lambda: NOW)
    claim = dispatcher.claim_one(NOW)
    await dispatcher.deliver(*chat.engine.prompt_invitation(claim.prompt_id))  # it reached the phone…
    dispatcher.lease = timedelta(0)  # …and the process died: the claim runs out
    with database.transaction() as session:
        dispatcher.close_overdue(session, NOW)
        assert session.get(Prompt, claim.prompt_id).status == "unknown"
    chat.receive(77, phone.sent[-1][1])
    chat.press("Start now")
    assert "closed" not in chat.text
    assert "pain" in chat.text.lower()  # the first daily question
    with database.transaction() as session:
        assert session.get(Prompt, claim.prompt_id).started_at is not None


CRISIS = "I want to kill myself tonight"


def alerts_and_events(database) -> tuple[list, int]:
    from sqlalchemy import func

    from storage.models import Alert, SafetyEvent

    with database.transaction() as session:
        alerts = [(a.category, a.words) for a in session.scalars(select(Alert))]
        return alerts, session.scalar(select(func.count()).select_from(SafetyEvent))


def test_after_withdrawal_a_crisis_gets_the_lines_and_alerts_the_clinic_without_the_words(chat, database):
    from onboard import onboard

    onboard(chat)
    chat.command("withdraw")
    chat.say(CRISIS)
    assert "116 123" in chat.text  # the UK's crisis line (the patient is in London)  # the crisis lines, first
    alerts, events = alerts_and_events(database)
    assert alerts == [("crisis", None)] and events == 0  # told, without their words; nothing else kept


def test_a_discharged_patients_crisis_alerts_without_the_words(chat, database):
    from onboard import onboard

    onboard(chat)
    end_consent(database, "discharged")
    chat.say(CRISIS)
    assert "116 123" in chat.text  # the UK's crisis line (the patient is in London)
    alerts, _events = alerts_and_events(database)
    assert alerts == [("crisis", None)]


def test_after_delete_only_the_lines(chat, database):
    from onboard import onboard

    onboard(chat)
    chat.command("delete")
    chat.press(next(label for label in chat.buttons if "delete" in label.lower()))
    chat.say(CRISIS)
    assert "116 123" in chat.text  # the UK's crisis line (the patient is in London)
    alerts, events = alerts_and_events(database)
    assert alerts == [] and events == 0
