"""Benchmark: what one patient update costs the database, on the real Telegram path.

    python benchmarks/transactions.py [--patients 3] [--database-url URL]

The bot runs as `paincoach run` does (inbox polling, the python-telegram-bot Application, the
production Sender) against the loopback Bot API emulator (tests/botapi.py), with the scheduler
off so that only updates touch the database. Each patient onboards, tells their pain story and
opens the menu and the help. Counted on the bot's own database engine, update by update (an update ends when
its reply has arrived and nothing is left in the inbox or the outbox): commits, and rows inserted per table.

Targets (the architecture's): at most 2 transactions to take in and handle an update (the inbox's
acknowledgement; the unit of work: step, replies into the outbox, update out of the inbox), then
the sender's record that Telegram took the replies; no row written to show buttons. The baseline
is the count before: 5 commits per update and 14 button rows for a menu. Exits 0 whether or not
targets are met.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import event, func, select  # noqa: E402

from bot import polling  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.telegram import build_application  # noqa: E402
from botapi import BotAPIEmulator  # noqa: E402
from dialogs.engine import Engine  # noqa: E402
from phone import Phone  # noqa: E402
from storage import open_database  # noqa: E402
from storage.models import Inbox, Outbox  # noqa: E402

BASELINE_COMMITS, BASELINE_MENU_ROWS = 5, 14
INSERT = re.compile(r"^\s*INSERT INTO (\w+)", re.IGNORECASE)

# (what the patient does, what the reply contains)
WALK = [
    ("/start", "Which language"), ("press:English", "emergency service"), ("press:Continue", "Do you agree"),
    ("press:Yes, I agree", "18 or older"), ("press:Yes, I'm 18 or older", "Which time zone"), ("press:Sydney", "local time"),
    ("press:Yes, that's right", "call you"), ("Robin", "Where does it hurt?"), ("Both knees", "Since when"),
    ("About five years", "What makes it worse?"), ("press:Skip this question", "?"), ("press:Skip this question", "?"),
    ("press:Skip this question", "?"), ("/menu", "What would you like to do"), ("/help", "/menu"),
]


class Meter:
    """Commits, by what they did, and inserted rows on one database engine."""

    def __init__(self, engine):
        self.commits = 0
        self.kinds: Counter[str] = Counter()  # inbox (received), step (handled), sent (acknowledged after sending)
        self.inserts: Counter[str] = Counter()
        self._statements: dict[int, list[str]] = {}
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "before_cursor_execute", self._statement)

    def _commit(self, connection) -> None:
        self.commits += 1
        done = [s for s in self._statements.pop(id(connection), []) if not s.startswith("BEGIN")]
        if any(s.startswith("INSERT INTO inbox") for s in done):
            self.kinds["inbox"] += 1
        elif done and all(s.startswith(("DELETE FROM inbox", "DELETE FROM outbox")) for s in done):
            self.kinds["sent"] += 1
        else:
            self.kinds["step"] += 1

    def _statement(self, connection, _cursor, statement, parameters, _context, executemany) -> None:
        self._statements.setdefault(id(connection), []).append(statement.strip())
        if match := INSERT.match(statement):
            many = executemany and parameters and isinstance(parameters[0], (list, tuple, dict))  # else one row's values
            self.inserts[match.group(1).lower()] += len(parameters) if many else _rows(statement)

    def snapshot(self) -> tuple[int, Counter[str]]:
        return self.commits, Counter(self.inserts)


def _rows(statement: str) -> int:
    """Rows one INSERT writes: one per parenthesised group after VALUES (several, when SQLAlchemy
    batches rows into one statement)."""
    values = statement.upper().partition(" VALUES ")[2].partition(" RETURNING ")[0]
    return max(1, values.count("), (") + 1) if values else 1


async def walk(emulator: BotAPIEmulator, watcher, meter: Meter, user_id: int) -> list[tuple[str, int, int, Counter[str]]]:
    phone = Phone(emulator, user_id)
    costs = []
    for action, expect in WALK:
        commits, inserts = meter.snapshot()
        sent_before = meter.kinds["sent"]
        if action.startswith("press:"):
            phone.press(action[len("press:"):])
        else:
            phone.send(action)
        await phone.expect(expect, timeout=30)
        await emulator.until(lambda: _settled(watcher), 30)
        after_commits, after_inserts = meter.snapshot()
        sent = meter.kinds["sent"] - sent_before
        costs.append((action, after_commits - commits - sent, sent, after_inserts - inserts))
    return costs


def _settled(watcher) -> bool:
    """The update handled and its replies confirmed: nothing left in the inbox or the outbox."""
    with watcher.reading() as session:
        return not session.scalar(select(func.count()).select_from(Inbox)) and not session.scalar(select(func.count()).select_from(Outbox))


async def run(url: str, patients: int) -> tuple[list[tuple[str, int, int, Counter[str]]], Meter]:
    db = open_database(url)
    watcher = open_database(url, migrate=False)  # our own looking, not counted
    meter = Meter(db.engine)
    emulator = BotAPIEmulator().start()
    settings = Settings(database_url=url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(db))
    stop = asyncio.Event()
    serving = asyncio.create_task(polling.serve(app, db, stop, poll_timeout=1))
    try:
        await emulator.until(lambda: bool(emulator.calls_to("getUpdates")), 30)
        costs = []
        for n in range(patients):
            costs += await walk(emulator, watcher, meter, 8100 + n)
        return costs, meter
    finally:
        stop.set()
        await serving
        emulator.stop()
        watcher.dispose()
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=3)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="paincoach-bench-")
    url = args.database_url or f"sqlite:///{tmp.name}/bench.db"
    costs, meter = asyncio.run(run(url, args.patients))
    print(f"{len(costs)} updates from {args.patients} patients ({len(WALK)} each)")
    print(f"{'update':<28} {'in':>3} {'sent':>5}  rows inserted")
    for action, commits, sent, inserts in costs[-len(WALK):]:  # the last patient's walk: no first-start costs
        rows = ", ".join(f"{table} {n}" for table, n in sorted(inserts.items())) or "-"
        print(f"{action[:28]:<28} {commits:>3} {sent:>5}  {rows}")
    kinds = ", ".join(f"{kind} {n / len(costs):.2f}" for kind, n in sorted(meter.kinds.items()))
    print(f"commits per update by what they did: {kinds} "
          "(inbox: the update received; step: handled, with all it recorded and its replies kept; sent: the sender's record that Telegram took them)")
    taken = [c for _a, c, _s, _i in costs]
    total = [c + s for _a, c, s, _i in costs]
    first = taken[0]  # the bot's very first update also makes the button key
    print(f"transactions to take in and handle an update (in): mean {statistics.mean(taken):.2f}, max {max(taken[1:])} "
          f"after the first ({first}) (target <= 2)")
    print(f"with the sender's record (sent): mean {statistics.mean(total):.2f} per update "
          f"(baseline {BASELINE_COMMITS}, ratio {statistics.mean(total) / BASELINE_COMMITS:.2f})")
    menus = [i for a, _c, _s, i in costs if a == "/menu"]
    button_rows = sum(i.get("buttons", 0) for _a, _c, _s, i in costs)
    print(f"button rows written: {button_rows} (target 0; baseline {BASELINE_MENU_ROWS} per menu); "
          f"rows per menu: {sum(menus[-1].values()) if menus else 0}")
    met = max(taken[1:]) <= 2 and button_rows == 0
    print("verdict: targets met" if met else "verdict: targets NOT met")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
