"""The guided practices' rows: a run started with its ratings before, ended (played out or
stopped), rated after; and the runs over a range, for the clinic."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import PracticeRun

RATINGS = ("tension", "in_charge")  # 0-10 each, before and after


def start(session: Session, patient_id: int, family: str, kind: str, planned_seconds: int, now: datetime,
          before: dict[str, int]) -> int:
    """A run begins, with the ratings given before it; returns its id. Dated by the dialog's clock,
    as the ranges that read it are (never the wall clock the column would default to)."""
    row = PracticeRun(patient_id=patient_id, family=family, kind=kind, planned_seconds=planned_seconds,
                      started_at=now, created_at=now,
                      **{f"{rating}_before": value for rating, value in before.items() if rating in RATINGS})
    session.add(row)
    session.flush()
    return row.id


def end(session: Session, run_id: int, completed: bool, now: datetime) -> None:
    """Played out, or stopped (by Stop, a word, a command): how long it lasted, once."""
    row = session.get(PracticeRun, run_id)
    if row is None or row.ended_at is not None:
        return
    elapsed = (now - row.started_at).total_seconds()
    row.completed = completed
    row.actual_seconds = row.planned_seconds if completed else int(min(max(elapsed, 0), row.planned_seconds))
    row.ended_at = now


def rate_after(session: Session, run_id: int, rating: str, value: int) -> None:
    if rating not in RATINGS:
        raise ValueError(rating)
    row = session.get(PracticeRun, run_id)
    if row is not None:
        setattr(row, f"{rating}_after", value)


def run(session: Session, run_id: int) -> PracticeRun | None:
    return session.get(PracticeRun, run_id)


def runs(session: Session, patient_id: int, since: datetime | None = None, until: datetime | None = None) -> list[PracticeRun]:
    """A patient's runs over a range, oldest first."""
    query = select(PracticeRun).where(PracticeRun.patient_id == patient_id)
    if since is not None:
        query = query.where(PracticeRun.created_at >= since)
    if until is not None:
        query = query.where(PracticeRun.created_at < until)
    return list(session.scalars(query.order_by(PracticeRun.created_at, PracticeRun.id)))
