"""Webhook mode: a small server of our own (Starlette on uvicorn, as python-telegram-bot's
custom-webhook example) that commits each update to the inbox before answering Telegram.

Telegram counts an update delivered once it gets a 2xx, and forgets it then; so the answer is 200
only after the update is committed (bot/inbox.py), and 500 when it cannot be stored: Telegram sends
it again later (for a while: after repeated failures it gives up). Then the update is handled as a
polled one is, and taken out of the inbox when done; on start, what a stopped process left in the
inbox is handled first, then what Telegram kept for us meanwhile, and only then the replies a
stopped process never sent (bot/steps.py). The same server answers GET /health; a poller can serve that alone.
Any number of processes may serve the webhook behind any load balancer, no sticky routing: each
stores what it receives, and the inbox has one process at a time work each chat (bot/inbox.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from datetime import datetime, timezone
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot import inbox, leadership, startup, steps
from bot.config import Settings
from scheduler import outbound
from storage import health
from storage.db import Database

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def web_app(db: Database, *, receive: tuple[str, inbox.Intake, str] | None = None,
            stop: asyncio.Event | None = None) -> Starlette:
    """GET /health; with `receive` (path, intake, secret), Telegram's POSTs on that path too.
    /health is the load balancer's readiness check too: 503 once `stop` is set (draining)."""

    async def healthy(_request: Request) -> Response:
        if stop is not None and stop.is_set():
            return JSONResponse({"status": "draining"}, status_code=503)
        try:
            figures = await asyncio.to_thread(_figures, db)
        except Exception as error:  # the database away: that is the news
            log.warning("health: the database cannot be read (%s)", type(error).__name__)
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", **figures})

    routes = [Route("/health", healthy, methods=["GET"])]
    if receive is not None:
        path, intake, secret = receive
        routes.append(Route(path, _receiver(intake, secret, stop), methods=["POST"]))
    return Starlette(routes=routes)


def _figures(db: Database) -> dict:
    with db.reading() as session:
        return health.figures(session, datetime.now(timezone.utc), outbound.may_be_messaged())


def _receiver(intake: inbox.Intake, secret: str, stop: asyncio.Event | None):
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):  # in constant time: the secret is not guessed a byte at a time
            return Response(status_code=403)
        if stop is not None and stop.is_set():  # draining: not taken, so Telegram sends it again (to another process)
            return Response(status_code=503)
        try:
            update = Update.de_json(await request.json(), intake.app.bot)
        except Exception:  # not JSON, not an update: no use sending it again
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        try:
            await intake.take([update])  # handled after this 200: the update is safe in the inbox already
        except Exception as error:
            log.warning("update %s could not be stored (%s): answered 500, Telegram sends it again",
                        update.update_id, type(error).__name__)
            return Response(status_code=500)
        return Response(status_code=200)

    return receive


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        yield  # the bot's own signal handlers stop it (bot/telegram.py), not uvicorn's


class HttpServer:
    """uvicorn serving a Starlette app on a socket bound here, so a port in use is a refusal the
    command line reports in one line (uvicorn would exit the process itself)."""

    def __init__(self, server: _Server, task: asyncio.Task):
        self._server = server
        self._task = task

    async def stop(self) -> None:
        self._server.should_exit = True  # requests in flight finish first (up to 5 s)
        await asyncio.gather(self._task, return_exceptions=True)


async def start_http(app: Starlette, listen: str, port: int) -> HttpServer:
    try:
        family = socket.getaddrinfo(listen, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((listen, port), family=family)
    except OSError as error:  # the port in use, an address not ours...
        raise startup.Refused(f"cannot listen on {listen} port {port}: {error.strerror or error}") from None
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=5)
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if task.done():
        sock.close()
        task.result()  # its error
        raise RuntimeError("the HTTP server stopped as it started")
    log.info("listening on %s port %d", listen, port)
    return HttpServer(server, task)


async def serve(app: Application, db: Database, stop: asyncio.Event, settings: Settings) -> None:
    """Run the bot in webhook mode until `stop` is set (what `paincoach run --webhook-url` does)."""
    if not await startup.reach_telegram(app, stop):
        return
    async with app:  # (initialized already: this only shuts it down at the end)
        await asyncio.to_thread(startup.record_webhook, db)  # from now on a poller refuses to start without --take-over
        if app.post_init:
            await app.post_init(app)
        await app.start()
        intake = inbox.Intake(app, db)
        # What stopped processes left. On PostgreSQL several processes may serve the webhook: only
        # what no live one holds, and every few seconds what one left (bot/inbox.py).
        await intake.start(everything=db.is_sqlite)
        path = urlsplit(settings.webhook_url).path or "/"
        server = leading = None
        try:
            server = await start_http(web_app(db, receive=(path, intake, settings.webhook_secret), stop=stop),
                                      settings.webhook_listen, settings.webhook_port)
            leading = asyncio.create_task(leadership.lead(app.bot_data["leadership"], stop))  # the sweep and retention
            registered = await startup.patiently(lambda: app.bot.set_webhook(
                settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,  # what Telegram holds for us is ours to handle
            ), stop)
            if registered:
                log.info("webhook set: Telegram posts updates to %s", path)
                await startup.pushed(app, stop)
                await intake.settled()
                await steps.caught_up(app)
                await stop.wait()
        finally:
            # SIGTERM drains: new updates and /health get 503 (Telegram resends them, the load balancer
            # looks elsewhere), the chats in hand finish and their replies go, the scheduled sends in
            # flight finish (bot/telegram.py `_on_stop`); then the server closes and the process exits.
            stop.set()
            if leading is not None:
                await asyncio.gather(leading, return_exceptions=True)
            await intake.stop()
            await app.stop()
            if app.post_shutdown:
                await app.post_shutdown(app)
            if server is not None:
                await server.stop()
