"""Benchmark: updates per second the bot answers, against a bare python-telegram-bot echo bot.

    python benchmarks/throughput.py [--patients 100] [--seconds 6] [--rounds 3] [--database-url URL] [--profile DIR]

Both bots run in this process, each on its own loopback Bot API emulator (tests/botapi.py), in
interleaved rounds: paincoach as `paincoach run` runs it (inbox polling, the Application, the
production Sender; the scheduler off), the echo bot as python-telegram-bot's plain Application
polling (a text is echoed, a press answered and echoed; eight updates at once, on eight
connections: with more, the emulator's threads crowd the process and the echo bot slows). The
emulator has no per-chat limit by default; the Sender's per-chat interval and its 30 a second
send budget are lifted, so the bot is measured, not Telegram's caps.

Load: `--patients` patients per kind of step, each waiting for its whole reply before writing
again. Kinds: a menu press (a group of the menu, then back); plain text at the menu; a
thought-check walk, all typed (into the tool, the eleven answers, back at the menu: 14 texts,
each screened). The echo bot for the walk runs the same safety screen on each text, so the
screen's cost is in both. Printed per kind: updates/s of each, their ratio, p50/p99 reply
latency, and CPU ms per reply (this process's CPU: the emulator and the load are in it, for both).

Baseline (the echo bots, same run) and targets: menu press >= 0.6x (SQLite); thought-check walk
>= 0.6x the screening echo bot. Before this work: 0.22x for text at the menu and 0.23x for
thought-check steps, 12-16 ms CPU per reply against the echo bot's 2.2 ms. `--profile DIR`
writes cProfile stats of one more paincoach round per kind (the event loop, and the workers'
units of work) and prints their top lines. Exits 0 whether or not targets are met.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import secrets
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, MessageHandler, filters  # noqa: E402

import screen  # noqa: E402
from bot import cli, polling  # noqa: E402
from bot import telegram as transport  # noqa: E402
from bot.config import Settings  # noqa: E402
import botapi  # noqa: E402
from botapi import BotAPIEmulator  # noqa: E402
from dialogs.engine import Engine  # noqa: E402
from storage import open_database  # noqa: E402
from storage.models import DialogState, Patient, utcnow  # noqa: E402

TARGET = 0.6
MENU = "What would you like to do?"
# (what the patient does: "press:LABEL" or a text, a fragment of the reply's last message)
WALKS = {
    "menu press": [("press:Calm now", "Calm now: what would you like to do?"), ("press:Back", MENU)],
    "text at the menu": [("hello there", MENU)],
    "thought-check walk": [
        ("Calm now", "Calm now: what"), ("Thought-check", "A thought-check helps"), ("New thought-check", "What happened?"),
        ("Argument at work", "What did you feel?"), ("angry", "How strong was that feeling"), ("70", "What went through your mind?"),
        ("They'll fire me", "How much do you believe that thought"), ("85", "thinking traps"), ("Catastrophizing", "What supports"),
        ("I was late once", "What doesn't fit it?"), ("My boss praised me", "more balanced thought"),
        ("One argument is not the end", "believe the first thought now"), ("40", "how strong is the feeling"), ("30", MENU),
    ],
}
ECHO_FOR = {"menu press": "echo", "text at the menu": "echo", "thought-check walk": "screening echo"}


# Many connections at once (a hundred patients' replies): a deeper accept queue than socketserver's 5.
botapi._Server.request_queue_size = 1024


class Watched(BotAPIEmulator):
    """The emulator, telling the waiting patient when the bot's message they wait for arrives."""

    def __init__(self):
        super().__init__()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting: dict[int, tuple[str | None, asyncio.Future]] = {}
        self.last: dict[int, tuple[int, dict[str, str]]] = {}  # chat -> its last message id, its buttons by label

    def _api_sendmessage(self, p, f):
        message = super()._api_sendmessage(p, f)
        chat, text = message["chat"]["id"], message.get("text") or ""
        self.last[chat] = (message["message_id"], dict(self.buttons(message)))
        waited = self.waiting.get(chat)
        if waited is not None and (waited[0] is None or waited[0] in text):
            self.loop.call_soon_threadsafe(_settle, waited[1])
        return message


def _settle(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


@dataclass
class Figures:
    updates: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def add(self, other: "Figures") -> None:
        self.updates += other.updates
        self.seconds += other.seconds
        self.cpu += other.cpu
        self.latencies += other.latencies

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def line(self, name: str) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (f"  {name:<16} {self.rate:8.1f} updates/s   p50 {1000 * statistics.median(ordered):6.1f} ms   "
                f"p99 {1000 * p99:6.1f} ms   CPU {1000 * self.cpu / max(self.updates, 1):5.2f} ms/reply")


class Load:
    """Patients of one kind on one bot: each sends, waits for its reply, sends again."""

    def __init__(self, emulator: Watched, walk: list[tuple[str, str]], users: list[int], echo: bool):
        self.emulator, self.walk, self.users, self.echo = emulator, walk, users, echo
        self.at = {user: 0 for user in users}  # where each patient is in the walk, across rounds

    async def round(self, seconds: float) -> Figures:
        figures = Figures()
        until = time.monotonic() + seconds
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(self._patient(user, until, figures) for user in self.users))
        figures.seconds, figures.cpu = time.perf_counter() - started, time.process_time() - cpu
        return figures

    async def _patient(self, user: int, until: float, figures: Figures) -> None:
        while time.monotonic() < until:
            await self.step(user, figures)

    async def step(self, user: int, figures: Figures | None = None) -> None:
        action, expect = self.walk[self.at[user] % len(self.walk)]
        future = asyncio.get_running_loop().create_future()
        self.emulator.waiting[user] = (None if self.echo else expect, future)
        sent = time.perf_counter()
        if action.startswith("press:"):
            message_id, buttons = self.emulator.last[user]
            data = buttons.get(action[len("press:"):]) or (next(iter(buttons.values()), "x") if self.echo else None)
            if data is None:
                raise AssertionError(f"patient {user}: no button {action!r} on {list(buttons)}")
            self.emulator.press(user, message_id, data, check=not self.echo)
        else:
            self.emulator.send_text(user, action)
        try:
            await asyncio.wait_for(future, 60)
        except TimeoutError:
            raise AssertionError(f"patient {user}: no reply with {expect!r} to {action!r}") from None
        if figures is not None:
            figures.latencies.append(time.perf_counter() - sent)
            figures.updates += 1
        self.at[user] += 1


def patients_at_the_menu(db, users: list[int]) -> None:
    """Onboarded patients whose dialog is at the menu, as after onboarding."""
    now = utcnow()
    with db.transaction() as session:
        clinic_id = db.default_clinic(session).id
        rows = [Patient(clinic_id=clinic_id, channel="telegram", external_id=str(user), consent="given", consent_at=now, adult=True,
                        timezone="Europe/London", onboarded_at=now, preferred_name="Pat", language="en") for user in users]
        session.add_all(rows)
        session.flush()
        session.add_all(DialogState(patient_id=row.id, dialog="menu", state="main", data={}, stack=[], step=1) for row in rows)


def echo_bot(emulator: Watched, screening: bool):
    async def on_text(update: Update, context) -> None:
        text = update.message.text
        if screening:
            screen.screen(text)  # the same screen paincoach runs on every text
        await context.bot.send_message(update.effective_chat.id, text)

    async def on_press(update: Update, context) -> None:
        await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, update.callback_query.data or "pressed",
                                       reply_markup={"inline_keyboard": [[{"text": "again", "callback_data": "again"}]]})

    app = (ApplicationBuilder().token(emulator.token).base_url(emulator.base_url)
           .concurrent_updates(8).connection_pool_size(8).build())
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.add_handler(CallbackQueryHandler(on_press))
    return app


async def start_echo(app) -> None:
    await app.initialize()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()


async def stop_echo(app) -> None:
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


class Profiled:
    """cProfile of the event loop's thread and of every unit of work the workers run."""

    def __init__(self):
        self.loop = cProfile.Profile()
        self.units: list[cProfile.Profile] = []
        self._lock = threading.Lock()
        self._answer = transport.answer

        def answer(*args, **kw):
            profile = cProfile.Profile()
            try:
                return profile.runcall(self._answer, *args, **kw)
            finally:
                with self._lock:
                    self.units.append(profile)

        transport.answer = answer

    def report(self, directory: Path, name: str, updates: int) -> None:
        transport.answer = self._answer
        directory.mkdir(parents=True, exist_ok=True)
        slug = name.replace(" ", "-")
        self.loop.dump_stats(directory / f"{slug}-loop.prof")
        units = pstats.Stats(self.units[0]) if self.units else None
        for profile in self.units[1:]:
            units.add(profile)
        if units is not None:
            units.dump_stats(directory / f"{slug}-units.prof")
        for what, stats in (("event loop", pstats.Stats(self.loop)), ("units of work (worker threads)", units)):
            if stats is None:
                continue
            print(f"\n--- profile, {name}, {what}: {stats.total_tt / max(updates, 1) * 1000:.2f} ms per update in profiled functions")
            stats.sort_stats("cumulative").print_stats(18)


async def run(url: str, patients: int, seconds: float, rounds: int, profile: Path | None) -> dict[str, dict[str, Figures]]:
    db = open_database(url)
    cli.warm_up(cities=False)
    screen.check()
    ours, echoes = Watched().start(), {"echo": Watched().start(), "screening echo": Watched().start()}
    for emulator in (ours, *echoes.values()):
        emulator.loop = asyncio.get_running_loop()
    settings = Settings(database_url=url, token=ours.token, bot_api_url=ours.base_url, dispatch_seconds=0)
    app = transport.build_application(settings, Engine(db))
    app.bot.rate_limiter.per_chat_interval = 0.0  # measured: the bot, not the caps (see the docstring)
    app.bot.rate_limiter.budget.interval = 0.0
    if app.bot.rate_limiter.budget.shared is not None:
        app.bot.rate_limiter.budget.shared.interval = 0.0
    stop = asyncio.Event()
    serving = asyncio.create_task(polling.serve(app, db, stop, poll_timeout=1))
    echo_apps = {name: echo_bot(emulator, screening=name == "screening echo") for name, emulator in echoes.items()}
    for echo in echo_apps.values():
        await start_echo(echo)
    try:
        await ours.until(lambda: bool(ours.calls_to("getUpdates")), 30)
        loads: dict[str, dict[str, Load]] = {}
        for k, (kind, walk) in enumerate(WALKS.items()):
            users = [7_000_000 + 1000 * k + n for n in range(patients)]
            patients_at_the_menu(db, users)
            ours_load = Load(ours, [("/menu", MENU)] + walk, users, echo=False)
            echo_load = Load(echoes[ECHO_FOR[kind]], [("/menu", MENU)] + walk, users, echo=True)
            for load in (ours_load, echo_load):  # each patient's first message: the menu, not measured
                await asyncio.gather(*(load.step(user) for user in users))
                load.walk = walk
                load.at = dict.fromkeys(users, 0)
            loads[kind] = {"paincoach": ours_load, ECHO_FOR[kind]: echo_load}
        results = {kind: {name: Figures() for name in pair} for kind, pair in loads.items()}
        for _round in range(rounds):  # interleaved: each kind, paincoach then its echo bot, every round
            for kind, pair in loads.items():
                for name, load in pair.items():
                    results[kind][name].add(await load.round(seconds))
        if profile is not None:
            for kind, pair in loads.items():
                profiled = Profiled()
                profiled.loop.enable()
                figures = await pair["paincoach"].round(seconds)
                profiled.loop.disable()
                profiled.report(profile, kind, figures.updates)
        return results
    finally:
        stop.set()
        await serving
        for echo in echo_apps.values():
            await stop_echo(echo)
        for emulator in (ours, *echoes.values()):
            emulator.stop()
        db.dispose()


@contextmanager
def own_schema(url: str) -> Iterator[str]:
    """PostgreSQL: the run's tables in a schema of their own, dropped after it (the database may
    be shared); SQLite: the file as it is."""
    if not url.startswith("postgresql"):
        yield url
        return
    schema = f"bench_{secrets.token_hex(6)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=6.0, help="per round, per kind, per bot")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here after the rounds")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="paincoach-bench-")
    with own_schema(args.database_url or f"sqlite:///{tmp.name}/bench.db") as url:
        results = asyncio.run(run(url, args.patients, args.seconds, args.rounds, args.profile))
    print(f"{args.patients} patients per kind, each waiting for its reply; {args.rounds} interleaved rounds of {args.seconds:g} s; "
          f"{'PostgreSQL' if args.database_url and args.database_url.startswith('postgresql') else 'SQLite'}")
    met = True
    for kind, figures in results.items():
        ours, (echo_name, echo) = figures["paincoach"], [(n, f) for n, f in figures.items() if n != "paincoach"][0]
        ratio = ours.rate / echo.rate if echo.rate else 0.0
        targeted = kind != "text at the menu"
        met = met and (ratio >= TARGET or not targeted)
        print(f"{kind}: {ratio:.2f}x the {echo_name} bot" + (f" (target >= {TARGET}x)" if targeted else ""))
        print(ours.line("paincoach"))
        print(echo.line(echo_name))
    print("verdict: targets met" if met else "verdict: targets NOT met")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
