"""What every export reads: the filters, and the answers streamed from the database.

Rows are streamed (`yield_per`), never loaded whole, so memory stays flat however many there are.
Times are read as the database gives them and turned into aware UTC datetimes here (SQLite
keeps ISO text; parsing it with `fromisoformat` is several times faster than a generic processor).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from storage.models import Answer, Patient, Prompt, Response

STREAM = 5_000  # rows fetched at a time


@dataclass(frozen=True)
class Filters:
    """Which data an export takes. `identify` adds names and ids (an admin's explicit choice)."""

    clinic_id: int | None = None
    study_codes: tuple[str, ...] = ()
    since: datetime | None = None  # completed at or after (UTC)
    until: datetime | None = None  # completed before (UTC)
    instruments: tuple[str, ...] = ()
    identify: bool = False

    def describe(self) -> dict[str, Any]:
        """For the audit: what was asked for, in plain values."""
        return {
            "clinic_id": self.clinic_id,
            "study_codes": list(self.study_codes),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "instruments": list(self.instruments),
            "identify": self.identify,
        }


def parse_day(text: str | None, *, end: bool = False) -> datetime | None:
    """A UTC day's start; with `end`, the next day's start (so the day itself is included)."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-28") from None
    return datetime.combine(day, time.min, timezone.utc) + timedelta(days=1 if end else 0)


@dataclass(frozen=True)
class Person:
    """A patient as exports show them: the study code, and the rest only when identified."""

    id: int
    study_code: str
    zone: ZoneInfo
    language: str = "en"
    clinic_reference: str | None = None
    telegram_id: str | None = None
    name: str | None = None


def as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's text is UTC without an offset: parsing it with one is fastest
        return datetime.fromisoformat(value if "+" in value[10:] else value + "+00:00")
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@lru_cache(maxsize=512)
def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def people(session: Session, filters: Filters) -> dict[int, Person]:
    """The patients the filters select, by id (small: one row per patient)."""
    query = select(Patient).where(Patient.study_code.is_not(None), Patient.consent.in_(("given", "withdrawn")))
    if filters.clinic_id is not None:
        query = query.where(Patient.clinic_id == filters.clinic_id)
    if filters.study_codes:
        query = query.where(Patient.study_code.in_(filters.study_codes))
    found = {}
    for patient in session.scalars(query):
        identified = filters.identify
        found[patient.id] = Person(
            patient.id, patient.study_code, zone_named(patient.timezone), patient.language,
            patient.clinic_reference if identified else None,
            patient.external_id if identified and patient.channel == "telegram" else None,
            patient.preferred_name if identified else None,
        )
    return found


def answers_count(session: Session, filters: Filters) -> int:
    """How many answered items an export of these filters holds: its size, known before it is made."""
    patient_ids = list(people(session, filters))
    if not patient_ids:
        return 0
    return session.scalar(_response_filters(
        select(func.count()).select_from(Answer).join(Response, Response.id == Answer.response_id)
        .where(Response.completed_at.is_not(None)),
        filters, patient_ids,
    ))


def _response_filters(query, filters: Filters, patient_ids):
    query = query.where(Response.patient_id.in_(patient_ids))
    if filters.instruments:
        query = query.where(Response.instrument.in_(filters.instruments))
    if filters.since is not None:
        query = query.where(Response.completed_at >= filters.since)
    if filters.until is not None:
        query = query.where(Response.completed_at < filters.until)
    return query


def _stream(session: Session, query) -> Iterator[tuple]:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # The driver's own cursor: a third of the per-row cost for a million rows (benchmarks/export.py).
        compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        cursor = connection.connection.driver_connection.cursor()
        return iter(cursor.execute(str(compiled), tuple(compiled.params[name] for name in compiled.positiontup)))
    return iter(connection.execution_options(yield_per=STREAM).execute(query))


def responses(session: Session, filters: Filters, patient_ids) -> Iterator[tuple[tuple, list[tuple]]]:
    """Completed responses in order of patient and time, each with its answers:
    ((patient_id, response_id, instrument, source, language, started_at, completed_at, score,
    scheduled_for), [(response_id, item_id, value, skipped, answered_at), ...]).

    Values come as the database gives them: times go through `as_utc` (or `SittingClock`) and
    the score through `parse_score`. Two streams in the same order, merged here, so each answer
    row carries five columns rather than the response's nine again (a million rows notice)."""
    text = lambda column: type_coerce(column, String)  # noqa: E731 - raw values, parsed by the caller
    order = (Response.patient_id, Response.completed_at, Response.id)
    heads = _stream(session, _response_filters(
        select(Response.patient_id, Response.id, Response.instrument, Response.source, Response.language,
               text(Response.started_at), text(Response.completed_at), text(Response.score), text(Prompt.scheduled_for))
        .outerjoin(Prompt, Prompt.id == Response.prompt_id)
        .where(Response.completed_at.is_not(None)),
        filters, patient_ids,
    ).order_by(*order))
    items = _stream(session, _response_filters(
        select(Answer.response_id, Answer.item_id, Answer.value, Answer.skipped, text(Answer.answered_at))
        .join(Response, Response.id == Answer.response_id)
        .where(Response.completed_at.is_not(None)),
        filters, patient_ids,
    ).order_by(*order, Answer.id))
    waiting = next(items, None)
    for head in heads:
        answers = []
        while waiting is not None and waiting[0] == head[1]:
            answers.append(waiting)
            waiting = next(items, None)
        yield head, answers


class SittingClock:
    """UTC and local ISO times of one response's answers, and their delay after the schedule, cheaply.

    Every answer of a response lies between its start and its completion. When that span is under
    a day and has one UTC offset at both ends, no offset change lies inside it (no zone changes
    twice in a day), so a local time is the naive UTC time plus that offset: a third of the cost
    of a zone conversion, which a million-row export notices. Anything else takes the exact path.
    SQLite keeps times as UTC text ("2026-11-28 13:05:00.000000"); PostgreSQL gives datetimes.
    """

    def __init__(self, zone: ZoneInfo, raw_started: Any, raw_completed: Any, raw_scheduled: Any):
        self.zone = zone
        started, completed = as_utc(raw_started), as_utc(raw_completed)
        self.completed, self.scheduled = completed, as_utc(raw_scheduled)
        self.scheduled_text = utc_text(raw_scheduled)
        self.offset = completed.astimezone(zone).utcoffset()
        self.span = (raw_started, raw_completed)
        self.fast = isinstance(raw_completed, str) and isinstance(raw_started, str) and \
            completed - started < DAY and started.astimezone(zone).utcoffset() == self.offset
        if self.fast:
            self.offset_text = _offset_text(self.offset)
            self.scheduled_naive = datetime.fromisoformat(raw_scheduled) if isinstance(raw_scheduled, str) else None

    def times(self, raw: Any) -> tuple[str, str, str]:
        """(UTC text, local text, minutes after the scheduled time or "") of one answer's time."""
        if self.fast and self.span[0] <= raw <= self.span[1] and len(raw) == 26 and (self.scheduled_naive or not self.scheduled):
            naive = datetime.fromisoformat(raw)
            delay = f"{(naive - self.scheduled_naive).total_seconds() / 60:.1f}" if self.scheduled_naive else ""
            return f"{raw[:10]}T{raw[11:]}+00:00", (naive + self.offset).isoformat(timespec="microseconds") + self.offset_text, delay
        moment = as_utc(raw)
        delay = f"{(moment - self.scheduled).total_seconds() / 60:.1f}" if self.scheduled else ""
        return iso(moment), iso(moment.astimezone(self.zone)), delay


DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def _offset_text(offset: timedelta) -> str:
    return datetime(2000, 1, 1, tzinfo=timezone(offset)).isoformat()[-6:]  # "+01:00"


def utc_text(value: Any) -> str:
    """A time as ISO 8601 UTC text; SQLite's own text is rewritten without parsing it."""
    if isinstance(value, str) and len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}+00:00"
    return iso(as_utc(value)) if value is not None else ""


def iso(moment: datetime) -> str:
    """Every time in every CSV in one form, microseconds always: 2026-11-28T13:05:00.000000+00:00."""
    return moment.isoformat(timespec="microseconds")


def parse_score(raw: Any) -> dict[str, Any] | None:
    return json.loads(raw) if isinstance(raw, str) else raw


@dataclass
class Sitting:
    """One completed response with its answers, for the formats that need a whole response."""

    response_id: int
    patient_id: int
    instrument: str
    source: str
    language: str
    completed_at: datetime
    score: dict[str, Any] | None
    scheduled_for: datetime | None
    answers: dict[str, tuple[float | None, bool, datetime]] = field(default_factory=dict)  # item → (value, skipped, at)


def sittings(session: Session, filters: Filters, patient_ids) -> Iterator[Sitting]:
    """Completed responses one at a time, with their answers and times parsed."""
    for (patient_id, response_id, instrument, source, language, _started, completed, score, scheduled), answers in responses(
        session, filters, patient_ids
    ):
        sitting = Sitting(response_id, patient_id, instrument, source, language, as_utc(completed), parse_score(score), as_utc(scheduled))
        sitting.answers = {item_id: (value, bool(skipped), as_utc(answered)) for _r, item_id, value, skipped, answered in answers}
        yield sitting
