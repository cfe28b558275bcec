"""The dialogs' one door to the database: every query a step makes, named for what it asks.

The rest of `dialogs` speaks no SQL (an import contract holds it to that): a step reads and
writes rows through `turn.session` (`get`, `add`, and these queries), inside the engine's one
transaction. Grouped by what the rows are about.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, inspect, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from storage import datakeys
from storage.db import Database
from storage.models import (
    Answer, DataKey, DialogState, FlareEpisode, NotedQuestion, PacingActivity, PacingLog, Patient, Prompt, Response, Schedule,
    SmallWin, Sprint, ThoughtRecord,
)

__all__ = ["Database", "IntegrityError", "Session"]  # for the engine's unit of work


# -- patients -----------------------------------------------------------------------------------

def patient(session: Session, channel: str, external_id: str, *, lock: bool = False) -> Patient | None:
    """The patient a transport knows by this id; `lock` serialises one patient's steps across
    processes (PostgreSQL's row lock; SQLite has one writer)."""
    query = select(Patient).where(Patient.channel == channel, Patient.external_id == external_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


@dataclass(frozen=True)
class Arrival:
    patient: Patient
    state: DialogState  # (held here: the session keeps it only while someone does)
    asked: tuple[bool, ...]


def arriving(session: Session, channel: str, external_id: str, *asks: ColumnElement[bool]) -> Arrival | None:
    """A step's first read, in one statement: the patient, locked as `patient(lock=True)` locks
    them, with their clinic and their dialog state (locked too, so it is the newest after a wait),
    and the answers to `asks`, conditions the transport asks about them. None for someone without
    a dialog state yet (a new person): their step reads as it always did."""
    query = (select(Patient, DialogState, DataKey.id, DataKey.wrapped, *asks)
             .join(Patient.clinic).options(contains_eager(Patient.clinic))
             .join(DialogState, DialogState.patient_id == Patient.id)
             .outerjoin(DataKey, and_(DataKey.channel == Patient.channel, DataKey.external_id == Patient.external_id))
             .where(Patient.channel == channel, Patient.external_id == external_id)
             .with_for_update(of=[Patient, DialogState]))
    row = session.execute(query).first()
    if row is None:
        return None
    patient, state, key_id, wrapped, *asked = row
    if key_id is not None:  # their data key too, for what the step writes (without PAINCOACH_DATA_KEY there is none)
        datakeys.known(session, (channel, external_id), key_id, wrapped)
    return Arrival(patient, state, tuple(asked))


def stored_row(session: Session, model: type, key: Any, **known: Any) -> Any:
    """The stored row with this primary key, to change without reading it first: a column set on
    it is written alone (an UPDATE of that column); `known` columns are taken as given, the others
    load if something reads them. The row must exist (the flush fails if it does not)."""
    row = session.identity_map.get(identity_key(model, key))
    if row is None:
        row = model(**{inspect(model).primary_key[0].key: key}, **known)
        make_transient_to_detached(row)
        session.add(row)
    return row


def columns(row: Any) -> dict[str, Any]:
    """A row's columns by name (for the patient's own copy of their data)."""
    return {c.key: getattr(row, c.key) for c in inspect(row).mapper.column_attrs}


def rows_where(session: Session, model: type, column: str, values: list[Any]) -> list[Any]:
    """The rows of `model` whose `column` is one of `values`."""
    return list(session.scalars(select(model).where(getattr(model, column).in_(values)))) if values else []


# -- check-ins ----------------------------------------------------------------------------------

def save_answer(session: Session, response_id: int, item_id: str, value: float | None, skipped: bool, now: datetime) -> None:
    """The item's answer in this check-in, new or replacing an earlier one, in one statement (no
    patient's words here: nothing to seal, so it goes straight to the connection)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = dict(value=value, skipped=skipped, answered_at=now)
    session.connection().execute(dialect.insert(Answer.__table__).values(response_id=response_id, item_id=item_id, **values)
                                 .on_conflict_do_update(index_elements=["response_id", "item_id"], set_=values))


def answer_values(session: Session, response_id: int) -> dict[str, float | None]:
    return dict(session.execute(select(Answer.item_id, Answer.value).where(Answer.response_id == response_id)).all())


def answered_items(session: Session, response_id: int) -> set[str]:
    return set(session.scalars(select(Answer.item_id).where(Answer.response_id == response_id)))


def response_to_prompt(session: Session, prompt_id: int, instrument: str) -> Response | None:
    return session.scalars(select(Response).where(Response.prompt_id == prompt_id, Response.instrument == instrument)).first()


def unfinished_response(session: Session, patient_id: int, instrument: str, since: datetime) -> Response | None:
    """The newest half-answered sitting of an instrument started after `since`."""
    return session.scalars(
        select(Response)
        .where(Response.patient_id == patient_id, Response.instrument == instrument, Response.completed_at.is_(None),
               Response.started_at > since)
        .order_by(Response.started_at.desc())
    ).first()


def completed_responses(session: Session, patient_id: int, since: datetime) -> list[Response]:
    return list(session.scalars(
        select(Response).where(Response.patient_id == patient_id, Response.completed_at.is_not(None), Response.completed_at >= since)
    ))


def daily_answers(session: Session, response_ids: list[int], items: tuple[str, ...]) -> list[tuple[int, str, float | None, bool]]:
    """(response, item, value, skipped) of these items in these responses."""
    if not response_ids:
        return []
    return list(session.execute(
        select(Answer.response_id, Answer.item_id, Answer.value, Answer.skipped).where(
            Answer.response_id.in_(response_ids), Answer.item_id.in_(items))
    ).all())


def recent_daily_values(session: Session, patient_id: int, item_id: str, leave_out: int, since: datetime) -> list[tuple[datetime, float]]:
    """(answered at, value) of a daily item since `since`, oldest first, skips and one check-in left out."""
    return list(session.execute(
        select(Response.completed_at, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.patient_id == patient_id, Response.id != leave_out, Response.instrument == "daily",
               Response.completed_at > since, Answer.item_id == item_id, Answer.value.is_not(None))
        .order_by(Response.completed_at)
    ).all())


def answered_values(session: Session, patient_id: int, items: list[str]) -> list[tuple[datetime, float]]:
    """(completed at, value) of every answer to these items."""
    return list(session.execute(
        select(Response.completed_at, Answer.value).join(Response, Response.id == Answer.response_id)
        .where(Response.patient_id == patient_id, Response.completed_at.is_not(None), Answer.item_id.in_(items),
               Answer.value.is_not(None))
    ).all())


def schedules(session: Session, patient_id: int) -> list[Schedule]:
    return list(session.scalars(select(Schedule).where(Schedule.patient_id == patient_id)))


# -- prompts ------------------------------------------------------------------------------------

def newest_open_prompt(session: Session, patient_id: int, statuses: tuple[str, ...], now: datetime, kind: str = "checkin") -> Prompt | None:
    """The newest prompt of a kind sent and not expired, in one of `statuses`."""
    return session.scalars(
        select(Prompt)
        .where(Prompt.patient_id == patient_id, Prompt.kind == kind, Prompt.status.in_(statuses), Prompt.expires_at > now,
               or_(Prompt.sent_at.is_not(None), Prompt.status.in_(Prompt.SEND_BEGUN)))  # a send began
        .order_by(Prompt.scheduled_for.desc())
    ).first()


def planned_breaks(session: Session, patient_id: int, after: datetime) -> list[Prompt]:
    """Activity blocks' breaks still to come, soonest first."""
    return list(session.scalars(
        select(Prompt).where(Prompt.patient_id == patient_id, Prompt.kind == "pacing_break", Prompt.status == "scheduled",
                             Prompt.scheduled_for > after).order_by(Prompt.scheduled_for)
    ))


# -- flares -------------------------------------------------------------------------------------

def open_flare(session: Session, patient_id: int, started_after: datetime) -> FlareEpisode | None:
    """The newest flare not ended, started after `started_after`."""
    return session.scalars(
        select(FlareEpisode).where(FlareEpisode.patient_id == patient_id, FlareEpisode.ended_at.is_(None),
                                   FlareEpisode.started_at > started_after)
        .order_by(FlareEpisode.started_at.desc())
    ).first()


def latest_flare_start(session: Session, patient_id: int, after: datetime) -> datetime | None:
    return session.scalars(
        select(FlareEpisode.started_at).where(FlareEpisode.patient_id == patient_id, FlareEpisode.started_at > after)
        .order_by(FlareEpisode.started_at.desc())
    ).first()


# -- pacing -------------------------------------------------------------------------------------

def activities(session: Session, patient_id: int) -> list[PacingActivity]:
    return list(session.scalars(select(PacingActivity).where(PacingActivity.patient_id == patient_id).order_by(PacingActivity.id)))


def logs(session: Session, activity_id: int, kind: str) -> list[PacingLog]:
    return list(session.scalars(select(PacingLog).where(PacingLog.activity_id == activity_id, PacingLog.kind == kind)))


def longest_done(session: Session, activity_id: int) -> int | None:
    return session.scalar(select(func.max(PacingLog.minutes)).where(PacingLog.activity_id == activity_id, PacingLog.kind == "done"))


def done_against_quota(session: Session, patient_id: int, since: datetime) -> list[tuple[str, int, float]]:
    """(activity, minutes, quota) of spells done since `since` that had a quota."""
    return list(session.execute(
        select(PacingActivity.name, PacingLog.minutes, PacingLog.quota_minutes)
        .join(PacingActivity, PacingActivity.id == PacingLog.activity_id)
        .where(PacingActivity.patient_id == patient_id, PacingLog.kind == "done", PacingLog.logged_at > since,
               PacingLog.quota_minutes.is_not(None))
    ).all())


def done_minutes(session: Session, patient_id: int, start: date, end: date) -> list[tuple[date, int]]:
    """(local date, minutes) of every spell done from `start` up to, not including, `end`."""
    return list(session.execute(
        select(PacingLog.local_date, PacingLog.minutes).join(PacingActivity, PacingActivity.id == PacingLog.activity_id)
        .where(PacingActivity.patient_id == patient_id, PacingLog.kind == "done", PacingLog.local_date >= start,
               PacingLog.local_date < end)
    ).all())


# -- thoughts, sprints, visits ------------------------------------------------------------------

def last_wins(session: Session, patient_id: int, limit: int) -> list[SmallWin]:
    """The patient's newest small wins, newest first."""
    return list(session.scalars(
        select(SmallWin).where(SmallWin.patient_id == patient_id).order_by(SmallWin.said_at.desc(), SmallWin.id.desc()).limit(limit)
    ))


def completed_thought_records(session: Session, patient_id: int, limit: int) -> list[ThoughtRecord]:
    return list(session.scalars(
        select(ThoughtRecord).where(ThoughtRecord.patient_id == patient_id, ThoughtRecord.completed_at.is_not(None))
        .order_by(ThoughtRecord.completed_at.desc()).limit(limit)
    ))


def open_sprint(session: Session, patient_id: int) -> Sprint | None:
    return session.scalars(
        select(Sprint).where(Sprint.patient_id == patient_id, Sprint.reviewed_at.is_(None)).order_by(Sprint.id.desc())
    ).first()


def questions_for_the_visit(session: Session, patient_id: int) -> list[NotedQuestion]:
    """Questions noted for the next visit and not yet used in a visit preparation, in order."""
    return list(session.scalars(
        select(NotedQuestion).where(NotedQuestion.patient_id == patient_id, NotedQuestion.noted, NotedQuestion.used_at.is_(None))
        .order_by(NotedQuestion.id)
    ))
