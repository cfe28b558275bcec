"""Benchmark: how much the database grows per active patient-day, and what of it is machinery.

    python benchmarks/storage.py [--patients 200] [--days 14] [--database-url URL]

The day, as defined here: at 09:00 the patient's daily check-in is dispatched; they press Start
and answer its five questions with buttons; later they open the menu, run a breathing drill's
first steps and write one sentence. That is 9 updates from the patient and 1 prompt, taken in
through the same unit of work the Telegram transport uses (bot/steps.answer: update into the
inbox, step, replies into the outbox, update out of the inbox; then the replies confirmed).

Two databases run the same days side by side: the baseline keeps every update id forever and
never prunes (as before the 48-hour window); the new one prunes hourly as `paincoach run` does
(storage/retention.py). Growth per patient-day is measured from the end of day 2 to the last
day, on SQLite as the file size after VACUUM (pages, indexes included), and per table with
SQLite's dbstat where it is compiled in. Target: at most 1.5 KB per active patient-day.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from sqlalchemy import func, insert, select  # noqa: E402

from bot.steps import answer  # noqa: E402
from clinic.desk import Desk  # noqa: E402
from dialogs.engine import Engine  # noqa: E402
from dialogs.io import Command, Inbound, Message, Press, Text, Who  # noqa: E402
from scheduler import planner  # noqa: E402
from scheduler.dispatcher import Dispatcher  # noqa: E402
from storage import open_database, outbox, retention  # noqa: E402
from storage.models import Inbox, Response  # noqa: E402

START = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)  # a Monday, before anyone's check-in
TARGET_KB = 1.5


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Patient:
    """One patient's phone: what they were last shown, and their next update id."""

    def __init__(self, run: "Run", chat_id: int):
        self.run, self.chat_id = run, chat_id
        self.who = Who("telegram", str(chat_id), "en")
        self.buttons: dict[str, str] = {}
        self.message_id = 0

    def send(self, event) -> list[str]:
        self.run.update_id += 1
        self.message_id += 1
        update_id = self.run.update_id
        message = (self.chat_id, self.message_id) if not isinstance(event, Press) else None
        with self.run.db.transaction() as session:  # the poller's record (bot/polling.py)
            session.execute(insert(Inbox), [{"update_id": update_id, "payload": {"update_id": update_id, "message": {"text": "…"}}}])
        answered = answer(self.run.desk, self.run.engine, Inbound(self.who, event, update_id, message), self.chat_id)
        outbox.confirmed(self.run.db, answered.kept)  # Telegram took them
        self.show(answered.outputs)
        return [o.text for o in answered.outputs if isinstance(o, Message)]

    def show(self, outputs) -> None:
        for output in outputs:
            if isinstance(output, Message) and output.buttons:
                self.buttons = {b.label: b.id for row in output.buttons for b in row}

    def press(self, label: str) -> list[str]:
        match = next((button for shown, button in self.buttons.items() if label in shown), None)
        if match is None:
            raise SystemExit(f"no button {label!r} among {list(self.buttons)}")
        return self.send(Press(match, self.message_id, None, tuple(self.buttons.values())))


class Run:
    def __init__(self, url: str, prune: bool):
        self.db = open_database(url)
        self.clock = Clock()
        self.engine = Engine(self.db, clock=self.clock)
        self.desk = Desk(self.db, clock=self.clock)
        self.prune = prune
        self.update_id = 0
        self.invitations: dict[str, list] = {}

    async def deliver(self, external_id: str, outputs) -> int:
        self.invitations[external_id] = outputs
        return 1


def onboard(patient: Patient) -> None:
    patient.send(Command("start"))
    for label in ("English", "Continue", "Yes, I agree", "Yes, I'm 18 or older", "London", "Yes, that's right"):
        patient.press(label)
    patient.send(Text("Sam"))
    for _ in range(5):
        patient.press("Skip")


def day(run: Run, patients: list[Patient], number: int) -> None:
    import asyncio

    run.clock.now = START + timedelta(days=number, hours=3, minutes=1)  # 09:01 London
    with run.db.transaction() as session:
        planner.plan(session, run.clock())
    asyncio.run(Dispatcher(run.db, run.engine, run.deliver, clock=run.clock).tick())
    for patient in patients:
        patient.show(run.invitations.pop(patient.who.external_id, []))
        patient.press("Start now")
        for value in ("4", "5", "3", "Yes", "2"):  # pain, sleep hours, sleep quality, activity, mood: whatever is shown
            shown = list(patient.buttons)
            choice = next((label for label in shown if label.startswith(value)), shown[len(shown) // 2])
            patient.press(choice)
    run.clock.now += timedelta(hours=8)
    for patient in patients:
        patient.send(Command("menu"))
        patient.send(Command("breathe"))
        patient.send(Text("Tired today, but I managed a short walk."))
    if run.prune:
        for hour in range(24):  # the hourly job
            with run.db.transaction() as session:
                retention.prune(session, run.clock() + timedelta(hours=hour))


def size(db) -> int:
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection  # autocommit: VACUUM runs outside a transaction
        raw.execute("VACUUM")
        pages, = raw.execute("PRAGMA page_count").fetchone()
        page, = raw.execute("PRAGMA page_size").fetchone()
    return pages * page


def tables(db) -> dict[str, int]:
    with db.engine.connect() as connection:
        try:
            rows = connection.connection.driver_connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        except Exception:  # dbstat not compiled in
            return {}
    return {name: total for name, total in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    runs = {name: Run(f"sqlite:///{folder / name}.db", prune=name == "new") for name in ("baseline", "new")}
    results = {}
    for name, run in runs.items():
        patients = [Patient(run, 900_000 + i) for i in range(args.patients)]
        for patient in patients:
            onboard(patient)
        measured_from = None
        for number in range(args.days):
            day(run, patients, number)
            if number == 1:
                measured_from = (size(run.db), tables(run.db))
        with run.db.transaction() as session:  # the day really happened: every check-in answered
            done = session.scalar(select(func.count()).select_from(Response).where(Response.completed_at.is_not(None)))
        print(f"{name:>8}: {done} check-ins completed of {args.patients * args.days} due")
        grown = size(run.db) - measured_from[0]
        patient_days = args.patients * (args.days - 2)
        per_table = {t: (b - measured_from[1].get(t, 0)) / patient_days for t, b in tables(run.db).items()}
        results[name] = grown / patient_days
        print(f"{name:>8}: {grown / 1024:.0f} KB over {patient_days} patient-days = {grown / patient_days / 1024:.2f} KB per patient-day")
        for table, grew in sorted(per_table.items(), key=lambda kv: -kv[1])[:8]:
            print(f"          {table:<40} {grew:8.0f} B/patient-day")
    ratio = results["new"] / results["baseline"]
    met = "met" if results["new"] / 1024 <= TARGET_KB else "NOT met"
    print(f"ratio new/baseline: {ratio:.2f}; target <= {TARGET_KB} KB per patient-day: {met}")


if __name__ == "__main__":
    main()
