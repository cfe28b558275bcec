"""GET /health: how far behind the bot is, figure by figure, against rows made here; on the poller's
own port; 503 when the database cannot be read. And the webhook answers 500 when it cannot store
an update (Telegram sends it again), 403 without the secret."""
from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import timedelta

from sqlalchemy import select
import httpx
from telegram.ext import ApplicationBuilder

from bot import inbox, webhook
from bot.config import Settings
from bot.polling import serve
from bot.telegram import build_application
from conftest import NOW
from dialogs.engine import Engine
from factories import due_prompts
from storage import Database
from scheduler.outbound import may_be_messaged
from storage.health import figures
from storage.models import Inbox, Outbox, Patient, Prompt
from test_webhook import SECRET, free_port, update

ZERO = {"inbox_backlog": 0, "inbox_oldest_s": 0.0, "outbox_oldest_s": 0.0, "outbox_oldest_urgent_s": 0.0, "dispatcher_lag_s": 0.0,
        "unknown_prompts": 0}


def unreachable() -> Database:
    return Database(f"postgresql+psycopg://paincoach@127.0.0.1:{free_port()}/paincoach")


def test_each_figure_counts_what_it_should(database):
    with database.reading() as session:
        assert figures(session, NOW) == ZERO
    due_prompts(database, [9001, 9002], NOW, per_patient=0)
    with database.transaction() as session:
        session.add_all([Inbox(update_id=1, payload={}, received_at=NOW - timedelta(seconds=30)),
                         Inbox(update_id=2, payload={}, received_at=NOW - timedelta(seconds=5))])
        session.add_all([Outbox(chat_id=9001, payload="{}", lease_until=NOW, created_at=NOW - timedelta(seconds=12)),
                         Outbox(chat_id=9002, payload="{}", lease_until=NOW, created_at=NOW - timedelta(seconds=2)),
                         Outbox(chat_id=9002, payload="{}", urgent=True, lease_until=NOW, created_at=NOW - timedelta(seconds=7))])
        patients = list(session.scalars(select(Patient.id).order_by(Patient.id)))

        def prompt(minutes: float, status: str, patient: int = 0) -> Prompt:
            due = NOW + timedelta(minutes=minutes)
            return Prompt(patient_id=patients[patient], instruments=["daily"], local_date=due.date(), scheduled_for=due,
                          expires_at=due + timedelta(hours=1), status=status)

        session.add_all([
            prompt(-1.5, "scheduled"),  # due 90 s ago, not sent: the lag
            prompt(-0.5, "scheduled", 1),
            prompt(10, "scheduled", 1),  # not due yet
            prompt(-30, "claimed"),  # on its way, not waiting
            prompt(-60, "unknown"), prompt(-120, "unknown"), prompt(-5, "sent", 1),
        ])
    with database.reading() as session:
        assert figures(session, NOW, may_be_messaged()) == {
            "inbox_backlog": 2, "inbox_oldest_s": 30.0, "outbox_oldest_s": 12.0, "outbox_oldest_urgent_s": 7.0,
            "dispatcher_lag_s": 90.0, "unknown_prompts": 2}
    with database.transaction() as session:  # the first patient withdraws: their prompt is held back, not late
        session.get(Patient, patients[0]).consent = "withdrawn"
    with database.reading() as session:
        assert figures(session, NOW, may_be_messaged())["dispatcher_lag_s"] == 30.0


async def test_a_poller_answers_health_on_its_own_port(emulator, database, database_url):
    port = free_port()
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    app = build_application(settings, Engine(database))
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, database, stop, poll_timeout=1, health=("127.0.0.1", port)))
    try:
        await emulator.until(lambda: emulator.calls_to("getUpdates"), timeout=30)
        body = await asyncio.to_thread(lambda: json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)))
    finally:
        stop.set()
        await serving
    assert body == {"status": "ok", **ZERO}


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot")


async def test_health_says_503_when_the_database_cannot_be_read():
    async with client(webhook.web_app(unreachable())) as http:
        response = await http.get("/health")
    assert response.status_code == 503 and response.json() == {"status": "database unreachable"}


async def test_the_webhook_answers_500_when_it_cannot_store_the_update_and_403_without_the_secret():
    app = ApplicationBuilder().token("123456:TEST-TOKEN").build()
    down = unreachable()
    intake = inbox.Intake(app, down)
    async with client(webhook.web_app(down, receive=("/telegram", intake, SECRET))) as http:
        refused = await http.post("/telegram", json=update(1, "hello"), headers={webhook.SECRET_HEADER: "wrong"})
        unstored = await http.post("/telegram", json=update(2, "I want to kill myself"), headers={webhook.SECRET_HEADER: SECRET})
        garbage = await http.post("/telegram", content=b"not json", headers={webhook.SECRET_HEADER: SECRET})
    assert (refused.status_code, unstored.status_code, garbage.status_code) == (403, 500, 400)
