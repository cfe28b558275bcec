"""The audit: every export, every clinician view and every deletion, with who, when, what and
how many rows. Study codes and counts only, never what a patient wrote."""
from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import AuditEntry


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a bare container
        return "cli"


def record(session: Session, actor: str, action: str, now: datetime, *, clinic_id: int | None = None,
           subject: str | None = None, rows: int | None = None, **detail: Any) -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, clinic_id=clinic_id, subject=subject, rows=rows, detail=detail))


def record_erasure(session: Session, actor: str, now: datetime, study_code: str | None, clinic_id: int | None,
                   counts: dict[str, int]) -> None:
    """A patient erased (storage.erase): the study code and the counts per table, nothing else."""
    record(session, actor, "delete", now, clinic_id=clinic_id, subject=study_code, rows=sum(counts.values()), counts=counts)


def entries(session: Session, limit: int = 50) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))


def clinic_entries(session: Session, clinic_id: int, *, action: str | None = None, offset: int = 0,
                   limit: int = 100) -> tuple[list[AuditEntry], int]:
    """One page of a clinic's entries, newest first (only that action's, if given), and how many
    there are in all."""
    where = [AuditEntry.clinic_id == clinic_id, *([AuditEntry.action == action] if action else [])]
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where))
    page = session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                           .offset(offset).limit(limit))
    return list(page), total


def clinic_actions(session: Session, clinic_id: int) -> list[str]:
    """The actions a clinic's audit holds, to filter by."""
    return sorted(session.scalars(select(AuditEntry.action).where(AuditEntry.clinic_id == clinic_id).distinct()))
