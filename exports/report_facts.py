"""The visit report's facts: `gather` is the only part of the report that reads the database (into
`Facts`, tested on its own). Days are the patient's local dates; a missing value is a gap, never a zero."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from statistics import fmean
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import locales
from exports import report_routines
from exports.overview import ADHERENCE_DAYS, adherence
from exports.report_routines import Routines
from dialogs.progress import Series, load, prepare, zone_of
from storage.models import (Alert, BreathingSession, FlareEpisode, PainStory, Patient, Response, SafetyEvent, Sprint, ThoughtRecord,
                            VisitPrep)

WEEKS = 12
STORY = ("where_it_hurts", "since_when", "what_makes_it_worse", "what_has_been_tried", "good_day")
VISIT = ("goals", "questions", "changes", "treatment")

@dataclass(frozen=True)
class SprintFacts:
    metrics: list[str]
    weeks: int
    started_on: date
    ends_on: date
    review: dict[str, dict[str, float | None]] | None


@dataclass(frozen=True)
class Phq4:
    """One PHQ-4 answered: the total (0-12) in its band, and the two-item subscales (0-6 each)."""

    day: date
    total: int
    band: str
    anxiety: int
    depression: int


PHQ4_SHOWN = 4  # the latest, and the ones before it on one line
POSITIVE = 3  # a subscale of 3 or more is a positive screen (Kroenke et al. 2009)
PHQ4_KEYS = {"total", "band", "anxiety", "depression"}


@dataclass
class Facts:
    study_code: str
    reference: str | None
    first_day: date  # the 12 weeks covered, local dates
    today: date
    series: Series
    story: dict[str, str] = field(default_factory=dict)  # answered fields only
    visit: dict[str, str] = field(default_factory=dict)  # from the latest visit preparation
    visit_day: date | None = None
    checkins_sent: int = 0  # last 28 days
    checkins_answered: int = 0
    self_started: int = 0  # check-ins the patient began from the menu, no invitation (last 28 days)
    phq4: list[Phq4] = field(default_factory=list)  # the 12 weeks, latest first
    discharged: date | None = None
    flares: int = 0
    flare_open: bool = False
    flare_peaks: list[int] = field(default_factory=list)
    breathing: int = 0
    breathing_completed: int = 0
    tension_change: float | None = None  # mean of after - before, 0-10
    thoughts: int = 0
    thoughts_completed: int = 0
    belief_change: float | None = None  # mean of after - before, 0-100
    sprint: SprintFacts | None = None
    safety: dict[str, tuple[int, date]] = field(default_factory=dict)  # category → (times, last local date)
    open_alerts: int = 0
    produced: str | None = None  # when, in the reader's own zone and naming it; else the patient's date
    routines: Routines = field(default_factory=Routines)  # sleep diary, guided practices, lessons, home exercises


def mean_change(pairs) -> float | None:
    changes = [after - before for before, after in pairs if before is not None and after is not None]
    return fmean(changes) if changes else None


def gather(session: Session, patient: Patient, now: datetime, reader_zone: ZoneInfo | None = None) -> Facts:
    """Days are the patient's (a check-in belongs to the day they lived); the moment the page was
    made is the reader's, in their zone (a clinician's own, `clinic.zones`)."""
    zone = zone_of(patient.timezone)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(weeks=WEEKS) + timedelta(days=1)
    since = datetime.combine(first_day, time(0), zone).astimezone(timezone.utc)

    def rows(model, *where, order=None):
        return session.scalars(select(model).where(model.patient_id == patient.id, *where).order_by(order)).all()

    story = session.get(PainStory, patient.id)
    preps = rows(VisitPrep, order=VisitPrep.id.desc())
    answered, received = adherence(session, [patient.id], now).get(patient.id, (0, 0))
    safety: dict[str, tuple[int, date]] = {}
    for event in rows(SafetyEvent, SafetyEvent.created_at >= since, order=SafetyEvent.created_at):
        times, _last = safety.get(event.category, (0, None))
        safety[event.category] = (times + 1, event.created_at.astimezone(zone).date())
    open_alerts = len(rows(Alert, Alert.acknowledged_at.is_(None)))
    flares = rows(FlareEpisode, or_(FlareEpisode.started_at >= since, FlareEpisode.ended_at.is_(None), FlareEpisode.ended_at >= since))
    drills = rows(BreathingSession, BreathingSession.created_at >= since)
    thoughts = rows(ThoughtRecord, ThoughtRecord.created_at >= since)
    sprint = next(iter(rows(Sprint, order=Sprint.id.desc())), None)
    completed = rows(Response, Response.completed_at >= since, order=Response.completed_at.desc())
    month = now - timedelta(days=ADHERENCE_DAYS)
    return Facts(
        study_code=patient.study_code or "—", reference=patient.clinic_reference, first_day=first_day, today=today,
        series=prepare(load(session, patient.id, now), zone, today),
        story={f: v.strip() for f in STORY if story and (v := getattr(story, f)) and v.strip()},
        visit={f: v.strip() for f in VISIT if preps and (v := getattr(preps[0], f)) and v.strip()},
        visit_day=preps[0].created_at.astimezone(zone).date() if preps else None,
        checkins_sent=received, checkins_answered=answered, safety=safety, open_alerts=open_alerts,
        self_started=sum(r.source == "self" and aware(r.completed_at) > month for r in completed),
        phq4=[Phq4(aware(r.completed_at).astimezone(zone).date(), r.score["total"], r.score["band"], r.score["anxiety"],
                   r.score["depression"]) for r in completed if r.instrument == "phq4" and PHQ4_KEYS <= set(r.score or ())],
        discharged=patient.discharged_at and aware(patient.discharged_at).astimezone(zone).date(),
        flares=len(flares), flare_open=any(f.ended_at is None for f in flares),
        flare_peaks=[f.peak_pain for f in sorted(flares, key=lambda f: f.started_at) if f.peak_pain is not None],
        breathing=len(drills), breathing_completed=sum(bool(d.completed) for d in drills),
        tension_change=mean_change((d.tension_before, d.tension_after) for d in drills),
        thoughts=len(thoughts), thoughts_completed=sum(t.completed_at is not None for t in thoughts),
        belief_change=mean_change((t.belief_before, t.belief_after) for t in thoughts),
        sprint=sprint and SprintFacts(list(sprint.metrics), sprint.weeks, sprint.started_on, sprint.ends_on, sprint.review),
        produced=locales.moment(now, reader_zone) if reader_zone is not None else None,
        routines=report_routines.gather(session, patient.id, zone, since, today),
    )


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite gives naive UTC
