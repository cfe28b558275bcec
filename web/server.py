"""The dashboard's routes and headers: `paincoach web` serves `create_app` with uvicorn."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import locales
from locales import _
from storage.db import Database
from storage.models import utcnow
from web.admin import Admin
from web.exercises import ExercisePages
from web.dashboard import HEADERS, Dashboard, Refused, browser_language
from web.account import Account
from web.pages import Pages


def create_app(db: Database, public_url: str, *, clock: Callable[[], datetime] = utcnow,
               bot_username: str | None = None) -> Starlette:
    """`bot_username` makes invitations t.me links (PAINCOACH_BOT_USERNAME), as `paincoach invite` prints them."""
    dashboard = Dashboard(db, public_url, clock)
    views = Pages(dashboard)
    mine = Account(dashboard)
    admin = Admin(dashboard, bot_username)
    exercise_pages = ExercisePages(dashboard)
    routes = [
        Route("/", lambda request: RedirectResponse("/patients", status_code=303)),
        Route("/signin/{token}", dashboard.signin_page, methods=["GET"]),
        Route("/signin/{token}", dashboard.signin, methods=["POST"]),
        Route("/signout", dashboard.signout, methods=["POST"]),
        Route("/signed-out", dashboard.signed_out),
        Route("/patients", views.patients),
        Route("/patients/{code}", views.patient),
        Route("/alerts", views.alerts, methods=["GET"]),
        Route("/alerts/{alert_id:int}/acknowledge", views.acknowledge, methods=["POST"]),
        Route("/exports", views.exports, methods=["GET"]),
        Route("/exports", views.export, methods=["POST"]),
        Route("/me", mine.page, methods=["GET"]),
        Route("/me", mine.save, methods=["POST"]),
        Route("/invitations", admin.invitations, methods=["GET"]),
        Route("/invitations", admin.invite, methods=["POST"]),
        Route("/patients/{code}/discharge", admin.discharge_page, methods=["GET"]),
        Route("/patients/{code}/discharge", admin.discharge, methods=["POST"]),
        Route("/patients/{code}/exercises", exercise_pages.page, methods=["GET"]),
        Route("/patients/{code}/exercises", exercise_pages.add, methods=["POST"]),
        Route("/patients/{code}/exercises/{exercise_id:int}/stop", exercise_pages.stop, methods=["POST"]),
        Route("/settings", admin.settings, methods=["GET"]),
        Route("/settings/alerts", admin.change_alerts, methods=["POST"]),
        Route("/settings/messages", admin.change_messages, methods=["POST"]),
        Route("/settings/crisis", admin.change_crisis_lines, methods=["POST"]),
        Route("/audit", admin.audit, methods=["GET"]),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]

    async def refused(request: Request, refusal: Refused) -> Response:
        return dashboard.refused(request, refusal)

    async def not_found(request: Request, _error) -> Response:
        with locales.use(browser_language(request)):
            return dashboard.page(request, "message.html", 404, message=_("There is no such page."))

    return Starlette(routes=routes, exception_handlers={Refused: refused, 404: not_found, 405: not_found},
                     middleware=[Middleware(Headers)])


class Headers:
    """HEADERS on every response, static files and refusals included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, sending)
