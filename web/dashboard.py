"""The dashboard's server: sign-in by a one-time link, sessions, CSRF, the headers every page has.

A verified clinician sends /web to the bot and opens the link it answers with. Opening it (GET)
only shows a button, since link previews fetch pages; the button's POST spends the link and starts a
session kept in the database (an HttpOnly, SameSite=Lax cookie, Secure behind https). Every request
checks the session and its clinician again, so a revoked clinician is out at once; every form
carries the session's CSRF token. Pages are in `web.pages`, the routes in `web.server`.
"""
from __future__ import annotations

import hmac
from contextlib import contextmanager
from datetime import datetime
from typing import Callable, Iterator
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

import locales
from locales import _, ngettext
from storage import web
from storage.db import Database
from storage.models import Clinician, utcnow

COOKIE = "paincoach_session"
HEADERS = {
    # Nothing from elsewhere, no inline script or style, no framing, forms only to us.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    # A sign-in link's token never leaves in a Referer; same-origin, not no-referrer, so forms carry their Origin.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",  # patients' data stays out of shared and back-button caches
}

templates = Environment(loader=PackageLoader("web", "templates"), autoescape=select_autoescape(default=True, default_for_string=True))
templates.globals.update(_=_, ngettext=ngettext)


class Refused(Exception):
    """A request that gets a plain page instead of what it asked for."""

    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


class Dashboard:
    def __init__(self, db: Database, public_url: str, clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.clock = clock
        parts = urlsplit(public_url)
        self.secure = parts.scheme == "https"
        # As a browser writes it: lower case, no default port ("https://Coach.example:443" → "https://coach.example").
        port = "" if parts.port in (None, {"https": 443, "http": 80}.get(parts.scheme)) else f":{parts.port}"
        self.origin = f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"

    def page(self, request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        """A page in the current language; `who` (the signed-in clinician) adds the menu."""
        html = templates.get_template(template).render(language=locales.current(), **context)
        return HTMLResponse(html, status_code=status)

    def refused(self, request: Request, refusal: Refused) -> HTMLResponse:
        with locales.use(browser_language(request)):
            return self.page(request, "message.html", refusal.status, message=refusal.message)

    @contextmanager
    def clinician(self, request: Request, form: dict | None = None) -> Iterator[tuple[Clinician, str, datetime]]:
        """The signed-in clinician, their CSRF token and now, speaking their language; raises
        Refused without a live session (or, for a form, without its CSRF token)."""
        now = self.clock()
        with self.db.transaction() as session:
            found = web.signed_in(session, request.cookies.get(COOKIE), now)
            if found is not None:
                web_session, clinician = found
                session.expunge(clinician)
                csrf = web_session.csrf_token
        if found is None:
            with locales.use(browser_language(request)):
                raise Refused(401, _("You are not signed in. Send /web to the bot in Telegram for a sign-in link."))
        if form is not None and not (same_origin(request, self.origin) and hmac.compare_digest(str(form.get("csrf", "")).encode(), csrf.encode())):
            with locales.use(clinician.language):
                raise Refused(403, form_expired())
        with locales.use(clinician.language):
            yield clinician, csrf, now

    # Sign-in and out.

    def signin_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        with locales.use(browser_language(request)):
            with self.db.reading() as session:
                clinician = web.link_clinician(session, token, self.clock())
            if clinician is None:
                return self.page(request, "message.html", 404, message=link_refused())
            return self.page(request, "signin.html", token=token)

    def signin(self, request: Request) -> Response:
        token = request.path_params["token"]
        if not same_origin(request, self.origin):
            with locales.use(browser_language(request)):
                return self.refused(request, Refused(403, form_expired()))
        now = self.clock()
        with self.db.transaction() as session:
            spent = web.spend_link(session, token, now)
            if spent is not None:
                web_session, cookie = spent
                from storage import audit

                clinician = session.get(Clinician, web_session.clinician_id)
                audit.record(session, f"clinician:{clinician.id}", "web_signin", now, clinic_id=clinician.clinic_id)
        if spent is None:
            with locales.use(browser_language(request)):
                return self.page(request, "message.html", 404, message=link_refused())
        response = RedirectResponse("/patients", status_code=303)  # a path: never off this site
        response.set_cookie(COOKIE, cookie, max_age=web.IDLE_MINUTES * 60 * 16, path="/", httponly=True, secure=self.secure,
                            samesite="lax")
        return response

    async def signout(self, request: Request) -> Response:
        form = await request.form()
        try:
            await run_in_threadpool(self._sign_out, request, form)
        except Refused as refusal:
            if refusal.status != 401:
                return self.refused(request, refusal)
        response = RedirectResponse("/signed-out", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, secure=self.secure, samesite="lax")
        return response

    def _sign_out(self, request: Request, form) -> None:
        with self.clinician(request, form):
            with self.db.transaction() as session:
                web.sign_out(session, request.cookies.get(COOKIE), self.clock())

    def signed_out(self, request: Request) -> Response:
        with locales.use(browser_language(request)):
            return self.page(request, "message.html", message=_("You are signed out. Send /web to the bot in Telegram to sign in again."))


def form_expired() -> str:
    return _("This form has expired. Please go back, reload the page and try again.")


def link_refused() -> str:
    return _("This sign-in link cannot be used: it was used already, it expired (links last ten minutes), or it is not one "
             "of ours. Send /web to the bot in Telegram for a new one.")


def same_origin(request: Request, origin: str) -> bool:
    """A browser names the page a POST comes from; another site's form is refused (beside SameSite and the token)."""
    sent = request.headers.get("origin")
    return sent is None or sent == origin


def browser_language(request: Request) -> str:
    """Before anyone is signed in: the first of the browser's languages we speak."""
    ranked = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _semicolon, weight = part.strip().partition(";q=")
        try:
            ranked.append((-float(weight or 1), position, tag.strip()))
        except ValueError:
            continue
    for _weight, _position, tag in sorted(ranked):
        if tag and locales.negotiate(tag) == tag.split("-")[0].lower():
            return locales.negotiate(tag)
    return locales.DEFAULT
