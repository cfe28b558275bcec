"""What the clinicians' web dashboard keeps: one-time sign-in links and signed-in sessions. Only
hashes of their tokens are stored, so the tables cannot be read back into working links or cookies."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class WebLink(Base):
    """A sign-in link a verified clinician asked for with /web: short-lived, used once."""

    __tablename__ = "web_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinicians.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser. It ends after a while unused, on signing out, or at once when its
    clinician is revoked (checked on every request)."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinicians.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # not a credential alone: forms carry it beside the cookie
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
