"""The background sweep: everyone planned, a page per transaction, a patient a dialog step holds
skipped and planned next round, a killed sweep leaving whole pages; and planning after each send."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, event, func, select, text

from conftest import NOW, POSTGRES
from dialogs.engine import Engine
from scheduler import planner, runner
from scheduler.dispatcher import Dispatcher
from storage.models import DialogState, Patient, Prompt

UTC = timezone.utc
ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


def add_patients(database, count: int) -> list[int]:
    """Onboarded, consenting patients at the menu with the clinic's default schedules; nothing planned."""
    ids = []
    with database.transaction() as session:
        clinic = database.default_clinic(session)
        for n in range(count):
            patient = Patient(clinic_id=clinic.id, channel="telegram", external_id=str(5001 + n), consent="given",
                              timezone=ZONES[n % len(ZONES)], onboarded_at=NOW - timedelta(days=3), preferred_name="P")
            session.add(patient)
            session.flush()
            session.add(DialogState(patient_id=patient.id, dialog="menu", state="main", data={}, stack=[], step=1))
            planner.create_default_schedules(session, patient, NOW)
            ids.append(patient.id)
    return ids


def planned(database) -> dict[int, list[tuple[str, datetime]]]:
    """Each patient's prompts: (kind, due), in order."""
    with database.transaction() as session:
        found: dict[int, list[tuple[str, datetime]]] = {}
        for prompt in session.scalars(select(Prompt).order_by(Prompt.patient_id, Prompt.scheduled_for)):
            found.setdefault(prompt.patient_id, []).append((prompt.kind, prompt.scheduled_for))
        return found


def count_prompts(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Prompt))


def test_the_sweep_plans_everyone_a_page_per_transaction(database):
    ids = add_patients(database, 7)
    commits = []
    event.listen(database.engine, "commit", lambda _connection: commits.append(1))
    offered = runner.sweep(database, lambda: NOW, page=3)
    # Pages of 3, 3 and 1: each finds its patients and plans their check-ins, then their lessons, in
    # transactions of their own; one more finds nobody left.
    assert len(commits) == 3 * 2 + 1
    assert sorted(planned(database)) == ids
    assert all({"checkin", "lesson"} <= {kind for kind, _due in prompts} for prompts in planned(database).values())
    assert offered == count_prompts(database)


def test_sweeping_again_plans_nothing_more_and_the_sweep_plans_what_the_old_plan_did(database):
    add_patients(database, 5)
    runner.sweep(database, lambda: NOW, page=2)
    before = planned(database)
    runner.sweep(database, lambda: NOW, page=2)
    runner.sweep(database, lambda: NOW + timedelta(minutes=10), page=4)
    assert planned(database) == before
    with database.transaction() as session:  # what the one-transaction re-plan would add: nothing
        planner.plan(session, NOW)
    assert planned(database) == before


def test_a_sweep_killed_mid_way_leaves_whole_pages_and_the_next_plans_the_rest(database, monkeypatch):
    ids = add_patients(database, 6)
    original, calls = planner.plan, []

    def dies_on_the_second_page(session, now, **kw):
        calls.append(kw["patient_ids"])
        offered = original(session, now, **kw)
        if len(calls) == 2:
            raise SystemExit("killed")  # after its inserts, before its commit
        return offered

    monkeypatch.setattr(planner, "plan", dies_on_the_second_page)
    with pytest.raises(SystemExit):
        runner.sweep(database, lambda: NOW, page=2)
    assert sorted(planned(database)) == ids[:2]  # the first page whole; nothing of the second
    monkeypatch.setattr(planner, "plan", original)
    runner.sweep(database, lambda: NOW, page=2)
    everyone = planned(database)
    assert sorted(everyone) == ids
    assert all(len(prompts) == len(set(prompts)) for prompts in everyone.values())
    fresh_first = everyone[ids[0]]
    runner.sweep(database, lambda: NOW, page=2)
    assert planned(database)[ids[0]] == fresh_first


@pytest.mark.skipif(not POSTGRES, reason="row locks: on SQLite a dialog step and the sweep never overlap (one writer)")
def test_a_patient_whose_row_a_step_holds_is_skipped_without_waiting_then_planned_next_round(database, database_url):
    ids = add_patients(database, 4)
    held = ids[1]
    step = create_engine(database_url)
    with step.connect() as connection:
        connection.execute(text("SET lock_timeout = '5s'"))
        connection.execute(text("SELECT id FROM patients WHERE id = :id FOR UPDATE"), {"id": held})  # as records.patient(lock=True)
        runner.sweep(database, lambda: NOW, page=2)  # would wait (then fail) if it waited for the held row
        assert sorted(planned(database)) == [i for i in ids if i != held]
        connection.rollback()
    step.dispose()
    runner.sweep(database, lambda: NOW + timedelta(minutes=10), page=2)
    assert sorted(planned(database)) == ids


class Phone:
    def __init__(self):
        self.sent: list[str] = []

    async def deliver(self, external_id: str, outputs) -> int:
        self.sent.append(external_id)
        return 700 + len(self.sent)


async def test_a_prompt_recorded_sent_plans_the_patients_next_ones_in_that_transaction(database):
    [patient_id] = add_patients(database, 1)  # London; the sweep has never run
    due = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    with database.transaction() as session:
        session.add(Prompt(patient_id=patient_id, instruments=["daily"], local_date=due.date(), scheduled_for=due,
                           expires_at=due + timedelta(hours=12), status="scheduled"))
    clock = lambda: due + timedelta(seconds=30)  # noqa: E731
    assert await Dispatcher(database, Engine(database, clock=clock), Phone().deliver, clock=clock).tick() == 1
    [(first_kind, first_due), *following] = planned(database)[patient_id]
    assert (first_kind, first_due) == ("checkin", due)
    assert ("checkin", datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) in following  # the next day's, already there
