"""What every export reads: the filters, and the answers streamed from the database.

Rows are streamed (`yield_per`), never loaded whole, so memory stays flat however many there are.
Times are read as the database gives them and turned into aware UTC datetimes here (SQLite
keeps ISO text; parsing it with `fromisoformat` is several times faster than a generic processor).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, select, type_coerce
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
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@lru_cache(maxsize=512)
def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def people(session: Session, filters: Filters) -> dict[int, Person]:
    """The patients the filters select, by id (small: one row per patient)."""
    query = select(Patient).where(Patient.study_code.is_not(None))
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


def _response_filters(query, filters: Filters, patient_ids):
    query = query.where(Response.patient_id.in_(patient_ids))
    if filters.instruments:
        query = query.where(Response.instrument.in_(filters.instruments))
    if filters.since is not None:
        query = query.where(Response.completed_at >= filters.since)
    if filters.until is not None:
        query = query.where(Response.completed_at < filters.until)
    return query


def answer_rows(session: Session, filters: Filters, patient_ids) -> Iterator[tuple]:
    """Every answered (or skipped) item of completed responses, in order of patient and time:
    (patient_id, response_id, instrument, source, language, completed_at, score, scheduled_for,
    item_id, value, skipped, answered_at). Times are aware UTC datetimes; the score comes as the
    database keeps it (JSON text, or already a dict): `parse_score` it once per response."""
    text = lambda column: type_coerce(column, String)  # noqa: E731 - raw values; parsed in as_utc
    query = _response_filters(
        select(
            Response.patient_id, Response.id, Response.instrument, Response.source, Response.language,
            text(Response.completed_at), text(Response.score), text(Prompt.scheduled_for),
            Answer.item_id, Answer.value, Answer.skipped, text(Answer.answered_at),
        )
        .join(Answer, Answer.response_id == Response.id)
        .outerjoin(Prompt, Prompt.id == Response.prompt_id)
        .where(Response.completed_at.is_not(None)),
        filters, patient_ids,
    ).order_by(Response.patient_id, Response.completed_at, Response.id, Answer.id)
    for row in session.execute(query.execution_options(yield_per=STREAM)):
        (patient_id, response_id, instrument, source, language, completed, score, scheduled,
         item_id, value, skipped, answered) = row
        yield (patient_id, response_id, instrument, source, language, as_utc(completed), score,
               as_utc(scheduled), item_id, value, skipped, as_utc(answered))


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
    """Completed responses one at a time, built from the same stream as the long rows."""
    current: Sitting | None = None
    for (patient_id, response_id, instrument, source, language, completed, score, scheduled,
         item_id, value, skipped, answered) in answer_rows(session, filters, patient_ids):
        if current is None or current.response_id != response_id:
            if current is not None:
                yield current
            current = Sitting(response_id, patient_id, instrument, source, language, completed, parse_score(score), scheduled)
        current.answers[item_id] = (value, skipped, answered)
    if current is not None:
        yield current
