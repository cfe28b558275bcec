"""Benchmark: the inbox as a queue shared by webhook receivers, one chat at a time.

    python benchmarks/inbox.py [--chats 20] [--per-chat 10] [--database-url URL]

Onboarded patients each send a burst of messages, the chats side by side over 40 connections,
each chat's next once its last got its 200 (as Telegram delivers), to the receivers' webhook
servers in turn, as behind a round-robin load balancer; each receiver is a real
Application with its own Intake and connections (tests/test_inbox_processes.py), against the
loopback Bot API emulator. Measured: how long until every update is handled, the transactions per
update on the database, and how many updates were handled out of their chat's update-id order
(must be 0 with two receivers too). The baseline is one receiver taking all the POSTs (same run);
the ratio is two receivers' time to it. Use a PostgreSQL URL (an empty schema in search_path) for
what production does; the default is a fresh SQLite file. Exits 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import delete, event, func, select  # noqa: E402

from botapi import BotAPIEmulator  # noqa: E402
from conftest import Chat  # noqa: E402
from dialogs.engine import Engine  # noqa: E402
from onboard import onboard  # noqa: E402
from storage import open_database  # noqa: E402
from storage.models import Inbox, Outbox  # noqa: E402
from test_inbox_processes import post, raw_update, receiver  # noqa: E402


async def burst(url: str, receivers: int, chats: list[int], per_chat: int, first_id: int) -> tuple[float, float, int]:
    """(seconds until all handled, commits per update, updates out of order)."""
    db = open_database(url, migrate=False)
    emulator = BotAPIEmulator().start()
    handled: list = []
    commits = [0]
    try:
        async with AsyncExitStack() as stack:
            intakes = [await stack.enter_async_context(receiver(f"r{n}", emulator, url, handled)) for n in range(receivers)]
            for each in intakes:
                event.listen(each.intake.db.engine, "commit", lambda _c: commits.__setitem__(0, commits[0] + 1))
            ids = {chat: [first_id + chat * per_chat + i for i in range(per_chat)] for chat in chats}
            turn = iter(range(10**9))

            async def send(chat: int) -> None:  # one chat's next once its last got its 200, as Telegram does
                for update_id in ids[chat]:
                    await post(intakes[next(turn) % receivers].url, raw_update(update_id, chat, "hello"))

            started = time.monotonic()
            await asyncio.gather(*(send(chat) for chat in chats))  # the chats side by side, over 40 connections
            while True:
                with db.reading() as session:
                    if not session.scalar(select(func.count()).select_from(Inbox)):
                        break
                await asyncio.sleep(0.02)
            for each in intakes:
                await each.intake.settled()
            took = time.monotonic() - started
        order = {chat: [u for _n, u in handled if u in set(ids[chat])] for chat in chats}
        wrong = sum(sum(1 for a, b in zip(seen, seen[1:]) if b < a) for seen in order.values())
        with db.transaction() as session:
            session.execute(delete(Outbox))
        return took, commits[0] / (len(chats) * per_chat), wrong
    finally:
        emulator.stop()
        db.dispose()


async def run(url: str, chats: int, per_chat: int) -> None:
    db = open_database(url)
    engine = Engine(db)
    patients = [9900 + n for n in range(chats)]
    for chat in patients:
        onboard(Chat(engine, str(chat)))
    db.dispose()
    one = await burst(url, 1, patients, per_chat, 600_000)
    two = await burst(url, 2, patients, per_chat, 700_000)
    total = chats * per_chat
    for name, (took, commits, wrong) in (("one receiver (baseline)", one), ("two receivers", two)):
        print(f"{name:<24} {total} updates in {took:6.2f} s ({total / took:6.1f}/s), "
              f"{commits:.2f} commits per update, {wrong} handled out of order")
    print(f"two receivers' time to one's: ratio {two[0] / one[0]:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--per-chat", type=int, default=10)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="paincoach-bench-")
    asyncio.run(run(args.database_url or f"sqlite:///{tmp.name}/bench.db", args.chats, args.per_chat))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
