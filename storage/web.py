"""Sign-in links and sessions of the clinicians' web dashboard: their writers and queries.

A verified clinician asks the bot for a link (/web); the link's token is good for ten minutes and
one sign-in. A session's token lives in an HttpOnly cookie; both are random and kept only as
hashes. Every request checks that the session's clinician is still verified and not revoked, so a
revoked clinician is signed out at once.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from storage.enrollment import hash_code
from storage.models import Clinician, WebLink, WebSession

LINK_MINUTES = 10
IDLE_MINUTES = 30
MOST_HOURS = 12  # a session in constant use still ends: a shift, not for ever


def new_link(session: Session, clinician: Clinician, now: datetime) -> str:
    """A one-time sign-in token for the clinician (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(WebLink(token_hash=hash_code(token), clinician_id=clinician.id, created_at=now,
                        expires_at=now + timedelta(minutes=LINK_MINUTES)))
    return token


def link_clinician(session: Session, token: str, now: datetime) -> Clinician | None:
    """Whose link this is, while it can still be used: unused, unexpired, the clinician still
    verified and not revoked. Reading it spends nothing (a link preview may fetch the page)."""
    link = session.get(WebLink, hash_code(token)) if token else None
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return active(session, link.clinician_id)


def spend_link(session: Session, token: str, now: datetime) -> tuple[WebSession, str] | None:
    """Use the link once: a new session and its cookie token, or None if the link cannot be used."""
    link = session.get(WebLink, hash_code(token), with_for_update=True) if token else None
    if link is None or link.used_at is not None or link.expires_at <= now or active(session, link.clinician_id) is None:
        return None
    link.used_at = now
    cookie = secrets.token_urlsafe(32)
    web_session = WebSession(token_hash=hash_code(cookie), clinician_id=link.clinician_id, csrf_token=secrets.token_urlsafe(32),
                             created_at=now, last_seen_at=now)
    session.add(web_session)
    return web_session, cookie


def signed_in(session: Session, cookie: str | None, now: datetime) -> tuple[WebSession, Clinician] | None:
    """The session and its clinician for a cookie, its idle time renewed; None when there is no
    such session, it ended or went idle, or its clinician was revoked."""
    web_session = session.get(WebSession, hash_code(cookie)) if cookie else None
    if web_session is None or web_session.ended_at is not None:
        return None
    if web_session.last_seen_at + timedelta(minutes=IDLE_MINUTES) <= now or web_session.created_at + timedelta(hours=MOST_HOURS) <= now:
        web_session.ended_at = now
        return None
    clinician = active(session, web_session.clinician_id)
    if clinician is None:
        web_session.ended_at = now
        return None
    web_session.last_seen_at = max(now, web_session.last_seen_at)
    return web_session, clinician


def sign_out(session: Session, cookie: str | None, now: datetime) -> None:
    web_session = session.get(WebSession, hash_code(cookie)) if cookie else None
    if web_session is not None and web_session.ended_at is None:
        web_session.ended_at = now


def prune(session: Session, now: datetime) -> int:
    """Links and sessions a day past any use (expired, spent, ended or idle): gone."""
    old = now - timedelta(days=1)
    links = session.execute(delete(WebLink).where(WebLink.expires_at < old)).rowcount
    sessions = session.execute(delete(WebSession).where(
        or_(WebSession.ended_at < old, WebSession.last_seen_at < old - timedelta(minutes=IDLE_MINUTES)))).rowcount
    return links + sessions


def active(session: Session, clinician_id: int) -> Clinician | None:
    return session.scalars(select(Clinician).where(
        Clinician.id == clinician_id, Clinician.verified_at.is_not(None), Clinician.revoked_at.is_(None))).one_or_none()
