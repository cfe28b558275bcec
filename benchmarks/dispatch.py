"""Benchmark: planning a day of check-ins, then sending a burst of due prompts within Telegram's limit.

    /tmp/venv/bin/python benchmarks/dispatch.py [--patients 10000] [--burst 1000] [--database-url URL]

The default database is a fresh SQLite file in a temporary directory; a --database-url must name
an empty database (it is migrated first). Takes about a minute with the defaults.

1. Planning: N onboarded, consented Telegram patients over 10 IANA zones, each with the clinic's
   default schedules (daily 09:00, PEG-3 on Mondays, PHQ-4 every other Monday), then
   `planner.plan(now, horizon=24 h)` is timed: the time to compute the next day's prompts. A
   second plan must create nothing (checked by counting rows).
2. Burst: B prompts of B distinct patients are made due now and sent by a `Dispatcher` through the
   real python-telegram-bot Application as bot/telegram.py builds it (production `Sender`, 30/s),
   against the loopback Bot API emulator (tests/botapi.py) enforcing Telegram's global limit:
   more than 30 sends in any sliding second is answered 429 with retry_after.

Baseline: the ideal makespan (first to last sendMessage the emulator received) is B / 30 s, one
message per 1/30 s. Targets: makespan/ideal <= 1.10, no 429, no prompt delivered twice, every
burst prompt "sent", re-plan creates nothing. The script exits 0 whether or not they are met.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import func, insert, select, update  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.sender import Sender  # noqa: E402
from bot.delivery import prompt_deliverer  # noqa: E402
from bot.telegram import build_application  # noqa: E402
from botapi import BotAPIEmulator  # noqa: E402
from dialogs.engine import Engine  # noqa: E402
from scheduler import planner  # noqa: E402
from scheduler.dispatcher import Dispatcher  # noqa: E402
from storage import open_database  # noqa: E402
from storage.models import DialogState, Patient, Prompt, Schedule, utcnow  # noqa: E402

ZONES = ["Europe/London", "Europe/Berlin", "Europe/Madrid", "America/New_York", "America/Chicago",
         "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"]
LANGUAGES = ["en", "es", "de"]
FIRST_USER_ID = 100_000_001  # Telegram user id (= private chat id) of patient 0
TELEGRAM_PER_SECOND = 30
RATIO_TARGET = 1.10


def create_patients(db, count: int, now) -> None:
    """Bulk insert; schedules made by create_default_schedules for one patient per zone, copied."""
    with db.transaction() as session:
        if session.scalar(select(func.count()).select_from(Patient)):
            sys.exit("the database already holds patients: give --database-url an empty database")
        clinic_id = db.default_clinic(session).id
        rows = [dict(clinic_id=clinic_id, channel="telegram", external_id=str(FIRST_USER_ID + i),
                     language=LANGUAGES[i % len(LANGUAGES)], consent="given", consent_at=now, adult=True,
                     timezone=ZONES[i % len(ZONES)], preferred_name=f"Pat{i}", onboarded_at=now, created_at=now)
                for i in range(count)]
        for start in range(0, count, 1000):
            session.execute(insert(Patient), rows[start:start + 1000])
        by_zone: dict[str, list[int]] = {}
        for patient_id, zone in session.execute(select(Patient.id, Patient.timezone).order_by(Patient.id)):
            by_zone.setdefault(zone, []).append(patient_id)
        schedules, states = [], []
        for ids in by_zone.values():
            planner.create_default_schedules(session, session.get(Patient, ids[0]), now)
            template = session.scalars(select(Schedule).where(Schedule.patient_id == ids[0])).all()
            schedules += [dict(patient_id=pid, instrument=s.instrument, local_time=s.local_time, weekday=s.weekday,
                               every_weeks=s.every_weeks, anchor=s.anchor) for pid in ids[1:] for s in template]
            states += [dict(patient_id=pid, dialog="menu", state="main", data={}, stack=[], step=1, paused=False,
                            updated_at=now) for pid in ids]
        for table, batch in ((Schedule, schedules), (DialogState, states)):
            for start in range(0, len(batch), 1000):
                session.execute(insert(table), batch[start:start + 1000])


def count(db, *where) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Prompt).where(*where))


def timed_plan(db, now) -> tuple[float, int]:
    started = time.perf_counter()
    with db.transaction() as session:
        offered = planner.plan(session, now, horizon=timedelta(hours=24))
    return time.perf_counter() - started, offered


def make_due(db, burst: int) -> list[int]:
    """The first planned prompt of `burst` distinct patients, moved to a minute ago."""
    with db.transaction() as session:
        ids = list(session.scalars(select(func.min(Prompt.id)).group_by(Prompt.patient_id)
                                   .order_by(Prompt.patient_id).limit(burst)))
        session.execute(update(Prompt).where(Prompt.id.in_(ids)).values(scheduled_for=utcnow() - timedelta(minutes=1)))
    return ids


async def send_burst(db, emulator: BotAPIEmulator, sender: Sender) -> int:
    """Start the Application as bot/telegram.py builds it (built-in scheduler off); tick until done."""
    engine = Engine(db)
    settings = Settings(database_url=db.url.render_as_string(hide_password=False), token=emulator.token,
                        bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, engine, sender=sender)

    await app.initialize()
    await app.post_init(app)
    await app.start()
    try:
        dispatcher, ticks = Dispatcher(db, engine, prompt_deliverer(app.bot, engine)), 0
        while await dispatcher.tick():  # each tick claims up to `batch` due prompts and sends them
            ticks += 1
        return ticks
    finally:
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    args = parser.parse_args()
    if not 0 < args.burst <= args.patients:
        parser.error("need 0 < --burst <= --patients")
    tmp = tempfile.TemporaryDirectory(prefix="paincoach-bench-")
    db = open_database(args.database_url or f"sqlite:///{tmp.name}/bench.db")
    print(f"database: {db.url.render_as_string(hide_password=True)}")

    # -- 1. planning ------------------------------------------------------------------------------
    now = utcnow()
    started = time.perf_counter()
    create_patients(db, args.patients, now)
    print(f"setup: {args.patients} patients over {len(ZONES)} zones with default schedules "
          f"in {time.perf_counter() - started:.1f} s")
    seconds, _offered = timed_plan(db, now)
    created = count(db)
    print(f"plan (24 h horizon): patients={args.patients} prompts created={created} "
          f"seconds={seconds:.2f} rate={created / seconds:,.0f} prompts/s")
    seconds, offered = timed_plan(db, now)
    replan_created = count(db) - created
    print(f"re-plan (same now): seconds={seconds:.2f} rows offered={offered} prompts created={replan_created}")

    # -- 2. burst ----------------------------------------------------------------------------------
    burst_ids = make_due(db, args.burst)
    emulator = BotAPIEmulator(rate_limit_per_second=TELEGRAM_PER_SECOND).start()
    sender = Sender()
    try:
        wall = time.perf_counter()
        ticks = asyncio.run(send_burst(db, emulator, sender))
        wall = time.perf_counter() - wall
        sends = emulator.calls_to("sendMessage")
    finally:
        emulator.stop()
    arrivals = [c["t"] for c in sends]
    makespan = max(arrivals) - min(arrivals) if arrivals else float("nan")
    ideal = len(burst_ids) / TELEGRAM_PER_SECOND
    ratio = makespan / ideal
    gaps = sorted((b - a for a, b in zip(arrivals, arrivals[1:])), reverse=True)[:3]
    per_chat = Counter(c["chat_id"] for c in sends if "error" not in c)
    duplicates = sum(1 for n in per_chat.values() if n > 1)
    not_delivered = len(burst_ids) - len(per_chat)
    with db.transaction() as session:
        in_burst = Prompt.id.in_(burst_ids)
        burst_status = dict(session.execute(select(Prompt.status, func.count()).where(in_burst).group_by(Prompt.status)).all())
        other_status = dict(session.execute(select(Prompt.status, func.count()).where(~in_burst).group_by(Prompt.status)).all())
    print(f"burst: {len(burst_ids)} prompts for {len(burst_ids)} distinct patients, {ticks} dispatcher ticks, "
          f"{wall:.1f} s wall from start-up to shutdown")
    print(f"sendMessage calls received={len(sends)} delivered={len(sends) - emulator.rate_limited}")
    print(f"makespan (first to last sendMessage received)={makespan:.2f} s")
    print(f"ideal = burst / {TELEGRAM_PER_SECOND} per s = {ideal:.2f} s")
    print(f"ratio makespan/ideal={ratio:.3f} (target <= {RATIO_TARGET:.2f})")
    print(f"largest gaps between sends: {', '.join(f'{g:.3f} s' for g in gaps)}")
    print(f"429 Too Many Requests from the emulator={emulator.rate_limited} (sender retries={sender.retries}; target 0)")
    print(f"duplicates (chats that got the invitation more than once)={duplicates} (target 0); "
          f"burst chats with no invitation={not_delivered}")
    print(f"prompts table after the burst: burst prompts {burst_status}; the other planned prompts {other_status}")

    # -- 3. verdict --------------------------------------------------------------------------------
    misses = [name for name, ok in [
        ("re-plan created prompts", replan_created == 0),
        (f"ratio {ratio:.3f} > {RATIO_TARGET:.2f}", ratio <= RATIO_TARGET),
        (f"{emulator.rate_limited} x 429", emulator.rate_limited == 0),
        (f"{duplicates} duplicates", duplicates == 0),
        ("not every burst prompt sent", burst_status == {"sent": len(burst_ids)}),
    ] if not ok]
    print("verdict: all targets met" if not misses else "verdict: targets NOT met: " + "; ".join(misses))
    db.dispose()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
