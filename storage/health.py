"""What the health endpoint reports, read in one place: how far behind the bot is.

Every figure is a number, so a monitor can put a threshold on it: the updates waiting in the inbox
and the age of the oldest, the age of the oldest reply not yet taken by Telegram (and of the
oldest urgent one: crisis lines, which must never wait), how late the
dispatcher is with due check-in prompts, and how many prompts ended `unknown` (claimed by a process
that died before Telegram confirmed them).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Inbox, Outbox, Patient, Prompt


def figures(session: Session, now: datetime, may_go: Sequence = ()) -> dict[str, float | int]:
    """Ages are seconds before `now`, 0 when nothing waits. `may_go`: the consent gate's conditions
    (on Prompt joined to Patient, scheduler/outbound.py): a prompt it holds back is not late."""
    inbox_count, inbox_oldest = session.execute(select(func.count(), func.min(Inbox.received_at))).one()
    outbox_oldest = session.scalar(select(func.min(Outbox.created_at)))
    urgent_oldest = session.scalar(select(func.min(Outbox.created_at)).where(Outbox.urgent))
    oldest_due = session.scalar(select(func.min(Prompt.scheduled_for)).join(Patient, Patient.id == Prompt.patient_id)
                                .where(Prompt.status == "scheduled", Prompt.scheduled_for <= now, *may_go))
    unknown = session.scalar(select(func.count()).select_from(Prompt).where(Prompt.status == "unknown"))
    return {
        "inbox_backlog": inbox_count,
        "inbox_oldest_s": _age(now, inbox_oldest),
        "outbox_oldest_s": _age(now, outbox_oldest),
        "outbox_oldest_urgent_s": _age(now, urgent_oldest),
        "dispatcher_lag_s": _age(now, oldest_due),
        "unknown_prompts": unknown,
    }


def _age(now: datetime, since: datetime | None) -> float:
    return round(max(0.0, (now - since).total_seconds()), 1) if since is not None else 0.0
