"""Benchmark: planning at scale on PostgreSQL, while patients write; and storage per patient-day.

    python benchmarks/scale.py [--patients 100000] [--writers 100] [--database-url URL]
                               [--storage-patients 100] [--storage-days 10] [--skip-storage]

Runs in a schema of its own on the database named (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
created at the start and dropped at the end. One function per figure (a section), so more can be added.

Seed: N onboarded, consented Telegram patients (onboarded three days ago) over 10 IANA zones, each
with the clinic's default schedules as planner.create_default_schedules makes them (daily 09:00,
PEG-3 on Mondays, PHQ-4 every other Monday; made for one patient per zone, then copied), each at
the menu; bulk inserts.

1. Planning (`section_planning`): on the freshly seeded database (nothing planned yet: the heaviest
   round, every patient gets a check-in and a first lesson), the baseline is the re-plan as it was,
   `planner.plan` over all patients in one transaction, then `lessons.plan` in another (`old_plan`
   below). Its prompts are then deleted, and the new `runner.sweep` plans the same from scratch.
   For each: the wall time; the longest transaction of the planner's own engine, from its begin to
   its commit (SQLAlchemy `begin`/`commit` events: the connection's first statement to the
   commit); and the reply latency of `--writers` patients (among the N) who each send /menu about
   once a second for as long as planning runs. A reply is measured through bot.steps.answer, the unit
   of work a Telegram update runs, in a thread pool the size of asyncio's default executor (the
   bot runs it with asyncio.to_thread): from the instant the update is due to its commit,
   including the inbox record the poller writes first and any wait for a free worker thread.
   (Not through the Telegram path: no HTTP, no rate limit; those add the same to both runs.)
   Targets: no transaction over 200 ms, reply p99 <= 1 s. Ratios new/baseline printed.
2. Storage (`section_storage`): the reference active patient-day of benchmarks/storage.py, run on
   PostgreSQL: the daily check-in dispatched at 09:00 and answered (Start, five answers), then
   /menu, a breathing drill's first step (/breathe) and one sentence written; the hourly pruning
   as `paincoach run` does. Growth of pg_total_relation_size summed over the schema's tables
   (indexes and TOAST included, after VACUUM FULL of its own tables) from the end of day 2 to the last day, per
   patient-day. The baseline: benchmarks/storage.py's target, 1.5 KB per patient-day (SQLite).

3. Draining a wave of due prompts with 1 and with 3 processes is benchmarks/drain.py: it starts
   real bot processes, which this script's one process cannot stand in for.

Exits 0 whether or not targets are met.
"""
from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import secrets
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from sqlalchemy import create_engine, delete, event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.steps import answer  # noqa: E402
from clinic.desk import Desk  # noqa: E402
from dialogs.engine import Engine  # noqa: E402
from dialogs.io import Command, Inbound, Who  # noqa: E402
from scheduler import lessons, planner, runner  # noqa: E402
from storage import open_database, outbox  # noqa: E402
from storage.models import DialogState, Inbox, LessonProgress, Patient, Prompt, Schedule  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ZONES = ["Europe/London", "Europe/Berlin", "Europe/Madrid", "America/New_York", "America/Chicago",
         "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"]
LANGUAGES = ["en", "es", "de"]
FIRST_USER_ID = 200_000_001
NOW = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)  # a Monday, before most zones' 09:00
LONGEST_TARGET_MS, P99_TARGET_S, STORAGE_TARGET_KB = 200, 1.0, 1.5
WORKERS = min(32, (os.cpu_count() or 1) + 4)  # asyncio's default executor, which to_thread uses


# -- the database ---------------------------------------------------------------------------------


def own_schema(url: str) -> tuple[str, str]:
    """A new schema on the database; (its name, a URL whose connections use it)."""
    schema = f"bench_scale_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def drop_schema(url: str, schema: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def seed(db, count: int, now: datetime) -> list[int]:
    """`count` patients at the menu with the default schedules; their ids."""
    onboarded = now - timedelta(days=3)
    with db.transaction() as session:
        clinic_id = db.default_clinic(session).id
        rows = [dict(clinic_id=clinic_id, channel="telegram", external_id=str(FIRST_USER_ID + i),
                     language=LANGUAGES[i % len(LANGUAGES)], consent="given", consent_at=onboarded, adult=True,
                     timezone=ZONES[i % len(ZONES)], preferred_name=f"Pat{i}", onboarded_at=onboarded, created_at=onboarded)
                for i in range(count)]
        for start in range(0, count, 5000):
            session.execute(insert(Patient), rows[start:start + 5000])
        by_zone: dict[str, list[int]] = {}
        for patient_id, zone in session.execute(select(Patient.id, Patient.timezone).order_by(Patient.id)):
            by_zone.setdefault(zone, []).append(patient_id)
        schedules, states = [], []
        for ids in by_zone.values():
            planner.create_default_schedules(session, session.get(Patient, ids[0]), onboarded)
            template = session.scalars(select(Schedule).where(Schedule.patient_id == ids[0])).all()
            schedules += [dict(patient_id=pid, instrument=s.instrument, local_time=s.local_time, weekday=s.weekday,
                               every_weeks=s.every_weeks, anchor=s.anchor) for pid in ids[1:] for s in template]
            states += [dict(patient_id=pid, dialog="menu", state="main", data={}, stack=[], step=1, paused=False,
                            updated_at=onboarded) for pid in ids]
        for table, batch in ((Schedule, schedules), (DialogState, states)):
            for start in range(0, len(batch), 5000):
                session.execute(insert(table), batch[start:start + 5000])
        return [pid for ids in by_zone.values() for pid in ids]


# -- measuring ------------------------------------------------------------------------------------


class Transactions:
    """The longest begin-to-commit on one engine, and how many commits."""

    def __init__(self, engine):
        self.started: dict[int, float] = {}
        self.longest = 0.0
        self.commits = 0
        event.listen(engine, "begin", lambda connection: self.started.__setitem__(id(connection), time.perf_counter()))
        event.listen(engine, "commit", self._ended)
        event.listen(engine, "rollback", self._ended)

    def _ended(self, connection) -> None:
        began = self.started.pop(id(connection), None)
        if began is not None:
            self.longest = max(self.longest, time.perf_counter() - began)
            self.commits += 1


class Writers:
    """`chats` patients each sending /menu about once a second (each at its own phase), handled by
    bot.steps.answer in a pool of worker threads; the latency of each, from when it was due."""

    def __init__(self, url: str, chats: list[str]):
        self.db = open_database(url, migrate=False)
        self.engine, self.desk = Engine(self.db, clock=lambda: NOW), Desk(self.db, clock=lambda: NOW)
        self.chats = chats
        self.latencies: list[float] = []
        self.update_ids = itertools.count(int(time.time() * 1000))
        self._stop = threading.Event()
        self._pending: dict[int, float] = {}  # submitted, not started: when each was due
        self._keys = itertools.count()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(WORKERS)
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> "Writers":
        self.engine.signer  # noqa: B018 - loads (and on first use writes) the signing key before timing
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        with self._lock:
            self._stop.set()
        self._thread.join()
        ended = time.perf_counter()
        with self._lock:  # updates still queued behind busy workers when planning ended: waiting at least until then
            self.latencies += [ended - due for due in self._pending.values()]
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.db.dispose()

    def _run(self) -> None:
        start = time.perf_counter()
        phases = [(n / len(self.chats), chat) for n, chat in enumerate(self.chats)]
        for second in itertools.count():
            for phase, chat in phases:
                due = start + second + phase
                if self._stop.wait(max(0.0, due - time.perf_counter())):
                    return
                key = next(self._keys)
                with self._lock:
                    self._pending[key] = due
                self._pool.submit(self._write, chat, due, key)

    def _write(self, chat: str, due: float, key: int) -> None:
        with self._lock:
            if self._stop.is_set():
                return  # counted in __exit__
            del self._pending[key]
        update_id = next(self.update_ids)
        with self.db.transaction() as session:  # the poller's record (bot/polling.py)
            session.execute(insert(Inbox), [{"update_id": update_id, "payload": {"update_id": update_id}}])
        inbound = Inbound(Who("telegram", chat, "en"), Command("menu"), update_id, (int(chat), update_id))
        answered = answer(self.desk, self.engine, inbound, int(chat))
        self.latencies.append(time.perf_counter() - due)
        outbox.confirmed(self.db, answered.kept)  # Telegram took the replies


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else (values[0] if values else 0.0)


def old_plan(db, clock) -> None:
    """The re-plan as it was: every patient in one transaction (their rows held FOR SHARE until it
    commits), then every lesson in another."""
    with db.transaction() as session:
        planner.plan(session, clock())
    with db.transaction() as session:
        lessons.plan(session, clock())


def timed(url: str, chats: list[str], planning) -> dict[str, float]:
    db = open_database(url, migrate=False)
    meter = Transactions(db.engine)
    with Writers(url, chats) as writers:
        time.sleep(2)  # the writers settle first
        started = time.perf_counter()
        planning(db, lambda: NOW)
        seconds = time.perf_counter() - started
    with db.transaction() as session:
        planned = session.scalar(select(func.count()).select_from(Prompt))
    db.dispose()
    return {"seconds": seconds, "longest_ms": meter.longest * 1000, "commits": meter.commits, "p99_s": p99(writers.latencies),
            "replies": len(writers.latencies), "median_s": statistics.median(writers.latencies or [0]), "planned": planned}


def vacuum(db, how: str = "ANALYZE") -> None:
    """VACUUM this schema's tables only (the database is shared)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        tables = connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).all()
        for table in tables:
            connection.execute(text(f'VACUUM {how} "{table}"'))


def unplan(url: str) -> None:
    db = open_database(url, migrate=False)
    with db.transaction() as session:
        session.execute(delete(LessonProgress))
        session.execute(delete(Prompt))
    vacuum(db)
    db.dispose()


# -- sections -------------------------------------------------------------------------------------


def section_planning(url: str, patients: int, writers: int) -> None:
    db = open_database(url)
    started = time.perf_counter()
    ids = seed(db, patients, NOW)
    vacuum(db)
    with db.transaction() as session:
        chats = list(session.scalars(select(Patient.external_id).where(Patient.id.in_(ids[:: max(1, len(ids) // writers)][:writers]))))
    db.dispose()
    print(f"seeded {patients} patients in {time.perf_counter() - started:.0f} s; {len(chats)} of them write about once a second; "
          f"{WORKERS} worker threads")
    base = timed(url, chats, old_plan)
    unplan(url)
    new = timed(url, chats, runner.sweep)
    print(f"{'':<34}{'baseline (one transaction)':>28}{'sweep (pages)':>16}{'new/baseline':>14}")
    for key, label, unit in [("seconds", "full planning time", "s"), ("longest_ms", "longest transaction", "ms"),
                             ("commits", "commits", ""), ("planned", "prompts planned", ""),
                             ("p99_s", "reply latency p99", "s"), ("median_s", "reply latency median", "s"), ("replies", "replies measured", "")]:
        ratio = new[key] / base[key] if base[key] else float("nan")
        print(f"{label:<34}{base[key]:>26.3f}{unit:<2}{new[key]:>14.3f}{unit:<2}{ratio:>14.3f}")
    print(f"targets: longest transaction <= {LONGEST_TARGET_MS} ms: {'met' if new['longest_ms'] <= LONGEST_TARGET_MS else 'NOT met'}; "
          f"reply p99 <= {P99_TARGET_S} s: {'met' if new['p99_s'] <= P99_TARGET_S else 'NOT met'}")
    # The sweep skips a patient whose row a writer's step holds at that moment: planned next round.
    print(f"prompts planned, baseline minus sweep: {base['planned'] - new['planned']} (either skips a patient busy in a step "
          "at that moment, planned next round)")


def _storage_day_module():
    """benchmarks/storage.py's reference day (imported by path: its name is the storage package's)."""
    spec = importlib.util.spec_from_file_location("storage_benchmark", ROOT / "benchmarks" / "storage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def schema_bytes(db) -> int:
    """The schema's tables with their indexes and TOAST, compacted (VACUUM FULL): live data only, so
    a small run is not hidden by free space pruning left behind for reuse."""
    vacuum(db, "FULL")
    with db.engine.connect() as connection:
        return connection.scalar(text(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"))


def section_storage(url: str, patients: int, days: int) -> None:
    reference = _storage_day_module()
    run = reference.Run(url, prune=True)
    phones = [reference.Patient(run, 910_000 + i) for i in range(patients)]
    for phone in phones:
        reference.onboard(phone)
    measured_from = None
    for number in range(days):
        reference.day(run, phones, number)
        if number == 1:
            measured_from = schema_bytes(run.db)
    grown = int(schema_bytes(run.db) - measured_from)  # (PostgreSQL sums to a numeric)
    patient_days = patients * (days - 2)
    per_day = grown / patient_days / 1024
    print(f"storage: {grown / 1024:.0f} KB over {patient_days} active patient-days = {per_day:.2f} KB per patient-day "
          f"(PostgreSQL); baseline target {STORAGE_TARGET_KB} KB (SQLite): ratio {per_day / STORAGE_TARGET_KB:.2f}")
    run.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--writers", type=int, default=100)
    parser.add_argument("--storage-patients", type=int, default=100)
    parser.add_argument("--storage-days", type=int, default=10)
    parser.add_argument("--skip-storage", action="store_true")
    parser.add_argument("--skip-planning", action="store_true")
    args = parser.parse_args()
    for wanted, section in ((not args.skip_planning, lambda url: section_planning(url, args.patients, args.writers)),
                            (not args.skip_storage, lambda url: section_storage(url, args.storage_patients, args.storage_days))):
        if not wanted:
            continue
        schema, url = own_schema(args.database_url)
        try:
            section(url)
        finally:
            drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
