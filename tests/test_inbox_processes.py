"""Several bot processes on one database share the inbox one chat at a time: two receivers (two
real Applications, each with its own Intake, webhook server and database connections, against the
Bot API emulator) take one patient's updates in whichever order and on whichever process they
arrive, and each chat is handled in update-id order, each update once. A chat whose holder died
is taken over once the lease runs out; a burst from one chat does not hold up another chat.

What lands in the database says the order: each patient answers a daily check-in by typing, and
an answer taken out of order would be recorded against the wrong question, or not at all."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import delete, func, select
from telegram import Update
from telegram.ext import Application, TypeHandler

from bot import inbox, webhook
from bot.config import Settings
from bot.telegram import build_application
from conftest import Chat
from dialogs.engine import Engine
from onboard import onboard
from storage import inbox as rows
from storage import open_database
from storage.models import Answer, ChatLease, Inbox, Patient, ProcessedUpdate, Response
from test_webhook import SECRET, free_port

CHECKIN = ["Check in now", "Daily check-in", "{pain}", "7", "{minutes}", "1500", "Yes"]  # as tests/test_flood.py
FIRST_ID = 500_000  # above the emulator's ids, which are above those the in-process onboarding used
TELEGRAMS = 100_000  # ids from here on came through a receiver


def checkin(chat: int) -> list[str]:
    return [text.format(pain=chat % 11, minutes=chat % 100) for text in CHECKIN]


def raw_update(update_id: int, chat: int, text: str) -> dict:
    user = {"id": chat, "is_bot": False, "first_name": "Pat", "language_code": "en"}
    return {"update_id": update_id, "message": {"message_id": update_id, "from": user, "date": int(time.time()),
                                                "chat": {"id": chat, "type": "private", "first_name": "Pat"}, "text": text}}


async def post(url: str, update: dict) -> int:
    """POST as Telegram does, from a thread of the test's own (the receivers need the event loop's)."""
    return await asyncio.get_running_loop().run_in_executor(TELEGRAM, _post, url, update)


TELEGRAM = ThreadPoolExecutor(max_workers=40, thread_name_prefix="telegram")


def _post(url: str, update: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(update).encode(), method="POST",
                                     headers={"Content-Type": "application/json", webhook.SECRET_HEADER: SECRET})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@dataclass
class Receiver:
    app: Application
    intake: inbox.Intake
    url: str


@asynccontextmanager
async def receiver(name: str, emulator, database_url: str, handled: list):
    """One bot process's webhook side, as bot/webhook.py's serve() runs it (without registering
    the webhook: the test says where Telegram posts). `handled` gets (name, update id) as each
    update's handling starts."""
    db = open_database(database_url, migrate=False)  # connections of its own
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(db))

    async def record(update: Update, _context) -> None:
        handled.append((name, update.update_id))

    app.add_handler(TypeHandler(Update, record), group=-2)
    port = free_port()
    async with app:
        await app.post_init(app)
        await app.start()
        intake = inbox.Intake(app, db)
        await intake.start(everything=False)
        server = await webhook.start_http(webhook.web_app(db, receive=("/telegram", intake, SECRET)), "127.0.0.1", port)
        try:
            yield Receiver(app, intake, f"http://127.0.0.1:{port}/telegram")
        finally:
            await server.stop()
            await intake.stop()
            await app.stop()
            await app.post_shutdown(app)
    db.dispose()


class LoadBalancer:
    """Round robin over the receivers, as any HTTP load balancer in front of several processes:
    no sticky routing. A receiver that does not answer is skipped."""

    def __init__(self, urls: list[str]):
        self.urls = urls
        self.turn = 0
        outer = self

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 502
                for _ in outer.urls:
                    outer.turn += 1
                    request = urllib.request.Request(outer.urls[outer.turn % len(outer.urls)], data=body, method="POST",
                                                     headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                    try:
                        with urllib.request.urlopen(request, timeout=30) as response:
                            status = response.status
                    except urllib.error.HTTPError as error:
                        status = error.code
                    except OSError:
                        continue
                    break
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/telegram"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def patients(database):
    """Onboarded patients at the menu, by chat id."""
    engine = Engine(database)

    def make(*chats: int) -> list[int]:
        for chat in chats:
            onboard(Chat(engine, str(chat)))
        return list(chats)

    return make


def answers(database, chat: int) -> list[tuple[str, float]]:
    """The patient's completed check-in's answers, in the order recorded."""
    with database.transaction() as session:
        return session.execute(
            select(Answer.item_id, Answer.value).join(Response, Answer.response_id == Response.id)
            .join(Patient, Patient.id == Response.patient_id)
            .where(Patient.external_id == str(chat), Response.completed_at.is_not(None)).order_by(Answer.id)).all()


def expected_answers(chat: int) -> list[tuple[str, float]]:
    return [("pain_now", chat % 11), ("sleep_hours", 7), ("active_minutes", chat % 100), ("steps", 1500)]


def inbox_empty(database) -> bool:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Inbox)) == 0


def applied_order(database, chat: int) -> list[int]:
    """The chat's update ids in the order they were applied."""
    with database.transaction() as session:
        return list(session.scalars(select(ProcessedUpdate.update_id).where(
            ProcessedUpdate.chat_id == chat, ProcessedUpdate.update_id > TELEGRAMS).order_by(ProcessedUpdate.processed_at)))


def of_chat(handled: list, update_ids: list[int]) -> list[int]:
    wanted = set(update_ids)
    return [update_id for _name, update_id in handled if update_id in wanted]


async def test_one_chats_updates_arriving_at_two_processes_in_turn_are_handled_in_order_once(emulator, database, database_url, patients):
    [chat] = patients(9101)
    handled: list = []
    async with receiver("a", emulator, database_url, handled) as a, receiver("b", emulator, database_url, handled) as b:
        sent = []
        for index, text in enumerate(checkin(chat)):  # as Telegram sends them: the next once the last got its 200
            sent.append(FIRST_ID + index)
            assert await post((a, b)[index % 2].url, raw_update(sent[-1], chat, text)) == 200
        await emulator.until(lambda: inbox_empty(database), timeout=60)
        await a.intake.settled()
        await b.intake.settled()

    assert of_chat(handled, sent) == sent  # one after the other, in update-id order, each once
    assert applied_order(database, chat) == sent
    assert answers(database, chat)[:4] == expected_answers(chat)
    with database.transaction() as session:
        assert session.scalars(select(ChatLease)).all() == []  # given up once done


async def test_forty_webhook_connections_over_two_processes_keep_each_chats_order(emulator, database, database_url, patients):
    chats = patients(*range(9201, 9207))
    handled: list = []
    async with receiver("a", emulator, database_url, handled) as a, receiver("b", emulator, database_url, handled) as b:
        balancer = LoadBalancer([a.url, b.url])
        try:
            await a.app.bot.set_webhook(balancer.url, secret_token=SECRET, max_connections=40)
            sent = {chat: [] for chat in chats}
            for text_index in range(len(CHECKIN)):
                for chat in chats:
                    sent[chat].append(emulator.send_text(chat, checkin(chat)[text_index]))
            await emulator.until(lambda: not emulator.pending_updates(), timeout=60)
            await emulator.until(lambda: inbox_empty(database), timeout=60)
            await a.intake.settled()
            await b.intake.settled()
        finally:
            balancer.close()

    assert {name for name, _update_id in handled} == {"a", "b"}  # both did some of the work
    for chat in chats:
        assert of_chat(handled, sent[chat]) == sent[chat]
        assert applied_order(database, chat) == sent[chat]
        assert answers(database, chat)[:4] == expected_answers(chat)
        assert len(emulator.messages(chat)) >= len(CHECKIN)  # every step answered


async def test_updates_posted_all_at_once_in_any_order_are_handled_in_update_id_order(emulator, database, database_url, patients):
    """40 POSTs at once over two processes while each chat is held elsewhere: they are stored in
    whatever order they arrive; once the holder lets go, each chat is worked oldest first."""
    chats = patients(*range(9301, 9306))
    sent = {chat: [FIRST_ID + chat * 10 + i for i in range(8)] for chat in chats}
    texts = {chat: ["Check in now", "Daily check-in", "3", "7", "45", "1500", "Yes", "/menu"] for chat in chats}
    elsewhere = datetime.now(timezone.utc) + timedelta(hours=1)
    with database.transaction() as session:  # a live process holds every chat for now
        session.add_all(ChatLease(chat_id=chat, holder="elsewhere", lease_until=elsewhere) for chat in chats)
    handled: list = []
    async with receiver("a", emulator, database_url, handled) as a, receiver("b", emulator, database_url, handled) as b:
        posts = [(a, b)[i % 2] for i in range(40)]
        updates = [raw_update(update_id, chat, text) for chat in chats for update_id, text in zip(sent[chat], texts[chat])]
        updates.reverse()  # the last first, for good measure; the threads then race
        statuses = await asyncio.gather(*(post(target.url, update) for target, update in zip(posts, updates)))
        assert statuses == [200] * 40
        assert handled == []  # held elsewhere: stored, and left to the holder
        with database.transaction() as session:  # the holder lets go (as it does when it finds nothing left)
            session.execute(delete(ChatLease))
        await emulator.until(lambda: inbox_empty(database), timeout=60)  # a sweep takes the chats
        await a.intake.settled()
        await b.intake.settled()

    for chat in chats:
        assert of_chat(handled, sent[chat]) == sent[chat]
        assert applied_order(database, chat) == sent[chat]
        assert answers(database, chat)[:4] == [("pain_now", 3), ("sleep_hours", 7), ("active_minutes", 45), ("steps", 1500)]


async def test_an_update_arriving_after_a_later_one_was_handled_is_still_handled_after_it(emulator, database, database_url, patients):
    [chat] = patients(9401)
    handled: list = []
    async with receiver("a", emulator, database_url, handled) as a, receiver("b", emulator, database_url, handled) as b:
        assert await post(a.url, raw_update(FIRST_ID + 2, chat, "/menu")) == 200
        await emulator.until(lambda: inbox_empty(database), timeout=30)
        assert await post(b.url, raw_update(FIRST_ID + 1, chat, "/help")) == 200  # late
        await emulator.until(lambda: inbox_empty(database), timeout=30)
        await a.intake.settled()
        await b.intake.settled()
    assert [update_id for _name, update_id in handled] == [FIRST_ID + 2, FIRST_ID + 1]
    assert applied_order(database, chat) == [FIRST_ID + 2, FIRST_ID + 1]


async def test_a_dead_holders_chat_is_taken_over_once_its_lease_runs_out(emulator, database, database_url, patients, calendar):
    [chat] = patients(9501)
    sent = [FIRST_ID + i for i in range(len(CHECKIN))]
    with database.transaction() as session:  # a process took the chat and the first updates, then was killed
        session.add(ChatLease(chat_id=chat, holder="killed", lease_until=datetime.now(timezone.utc) + rows.LEASE))
    assert inbox.keep(database, [Update.de_json(raw_update(u, chat, t), None) for u, t in zip(sent[:3], checkin(chat))])
    handled: list = []
    async with receiver("a", emulator, database_url, handled) as a:
        for update_id, text in zip(sent[3:], checkin(chat)[3:]):  # the patient goes on writing
            assert await post(a.url, raw_update(update_id, chat, text)) == 200
        await asyncio.sleep(2 * inbox.RENEW_EVERY)  # a sweep or two: the dead holder's lease has not run out
        assert handled == []
        calendar.shift(rows.LEASE)  # now it has
        await emulator.until(lambda: inbox_empty(database), timeout=30)
        await a.intake.settled()

    assert of_chat(handled, sent) == sent
    assert applied_order(database, chat) == sent
    assert answers(database, chat)[:4] == expected_answers(chat)


async def test_a_burst_from_one_chat_does_not_hold_up_another_chat(emulator, database, database_url, patients):
    """100 updates of one chat waiting at once (a burst stored a moment ago), and a single message
    of another chat arriving after them: it is answered while the burst is still being worked."""
    flooder, other = patients(9601, 9602)
    burst = [FIRST_ID + i for i in range(100)]
    handled: list = []
    async with receiver("a", emulator, database_url, handled) as a, receiver("b", emulator, database_url, handled) as b:
        inbox.keep(database, [Update.de_json(raw_update(u, flooder, f"hello {u}"), None) for u in burst[:-1]])
        assert await post(a.url, raw_update(burst[-1], flooder, "hello")) == 200  # a takes the chat up
        assert await post(b.url, raw_update(FIRST_ID + 1000, other, "/menu")) == 200
        await emulator.until(lambda: inbox_empty(database), timeout=120)
        await a.intake.settled()
        await b.intake.settled()

    order = [update_id for _name, update_id in handled]
    assert of_chat(handled, burst) == burst
    assert order.index(FIRST_ID + 1000) < order.index(burst[-1])  # answered before the burst was through
    assert "What would you like to do?" in str(emulator.messages(other))
