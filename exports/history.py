"""One patient's record over a range of days the clinician chooses: PEG-3, PHQ-4 with its
subscales, the daily check-in (pain, sleep, activity, pacing followed), the sleep diary (bedtime,
wake time, quality), pacing logs against their
quota, breathing drills with tension before and after, muscle relaxation and mindfulness with
tension and how much the pain is in charge before and after, home exercise adherence week by week
(`exports.exercises`), and what the patient chose to share for
their visits: their visit notes, and the medication questions they asked to keep for the next one
(a question the coach declined but the patient did not ask to note stays theirs); and the lessons of
the pain education course they were sent, opened and answered.

`choose_span` reads the range (four weeks, three months, all, or two dates), `gather` the facts.
Days are the reader's: a clinician's range runs from midnight to midnight in their own zone. The
dashboard lays these facts out (`web.pages`); nothing here is worded but the refusals.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialogs import records
from exports import exercises
from exports.report import VISIT
from exports.source import as_utc, parse_score
from locales import _
from storage import practices as practice_runs
from storage.exercises import zone_of
from storage.models import BreathingSession, LessonProgress, PacingActivity, PacingLog, Patient, Prompt, Response, VisitPrep

QUICK = {"4w": 28, "3m": 91, "all": None}  # the quick choices: days back, ending today; None from the start
DEFAULT = "4w"
DAILY = ("pain_now", "sleep_hours", "active_minutes", "steps", "pacing_followed")
PEG = ("peg_pain", "peg_enjoyment", "peg_activity")
DIARY = ("bedtime", "wake_time", "sleep_quality")
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)  # a typed year outside these is a typo


class SpanRefused(ValueError):
    """A range that cannot be read, with what the clinician reads."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Span:
    """Days from `first` to `last`, both included, in the reader's zone; `first` None: from the start."""

    first: date | None
    last: date
    choice: str  # 4w | 3m | all | custom

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime]:
        """The span as UTC moments: [since, until)."""
        start = lambda day: datetime.combine(day, time.min, zone).astimezone(timezone.utc)  # noqa: E731
        return (start(self.first) if self.first else None), start(self.last + timedelta(days=1))

    def describe(self) -> dict[str, Any]:
        """For the audit."""
        return {"range": self.choice, "since": self.first.isoformat() if self.first else None, "until": self.last.isoformat()}


def _day(text: str) -> date:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise SpanRefused(_("I couldn't read those dates. Write them as YYYY-MM-DD.")) from None
    if not EARLIEST <= day <= LATEST:
        raise SpanRefused(_("I couldn't read those dates. Write them as YYYY-MM-DD."))
    return day


def choose_span(choice: str, since: str, until: str, today: date) -> Span:
    """The range asked for: two dates (either may be left out: from the start, up to today), else a
    quick choice, else the last four weeks. Raises SpanRefused."""
    since, until, choice = since.strip(), until.strip(), choice.strip()
    if since or until:
        first, last = (_day(since) if since else None), (_day(until) if until else today)
        if first is not None and first > last:
            raise SpanRefused(_("The first date is after the last one."))
        return Span(first, last, "custom")
    choice = choice or DEFAULT
    if choice not in QUICK:
        raise SpanRefused(_("There is no such range. Choose four weeks, three months, all, or two dates."))
    days = QUICK[choice]
    return Span(today - timedelta(days=days - 1) if days else None, today, choice)


@dataclass(frozen=True)
class Peg:
    at: datetime
    pain: float | None
    enjoyment: float | None
    activity: float | None
    score: float | None  # None when an item was skipped


@dataclass(frozen=True)
class Phq4:
    at: datetime
    total: int
    band: str
    anxiety: int
    depression: int
    anxiety_positive: bool
    depression_positive: bool


@dataclass(frozen=True)
class Daily:
    at: datetime
    pain: float | None
    sleep_hours: float | None
    active_minutes: float | None
    steps: float | None
    paced: int | None  # 2 yes, 1 partly, 0 no (pacing_followed)


@dataclass(frozen=True)
class PacingEntry:
    day: date  # the patient's local date it was logged for
    activity: str  # the patient's words when they typed their own
    kind: str  # baseline | done
    minutes: int
    quota: float | None


@dataclass(frozen=True)
class Night:
    """A sleep diary answered: bedtime and wake time as minutes after midnight on the patient's own
    clock (they are times of day where the patient sleeps, not moments to convert), quality 0-10."""

    at: datetime
    bedtime: float | None
    wake: float | None
    quality: float | None


@dataclass(frozen=True)
class Drill:
    at: datetime
    pattern: str
    planned_seconds: int
    actual_seconds: int | None
    completed: bool | None  # False: stopped
    tension_before: int | None
    tension_after: int | None


@dataclass(frozen=True)
class PracticeEntry:
    at: datetime
    kind: str  # content/practices.toml: pmr, body_scan, pain_noticing, leaves
    planned_seconds: int
    actual_seconds: int | None
    completed: bool | None  # False: stopped
    tension_before: int | None
    tension_after: int | None
    in_charge_before: int | None  # how much the pain is in charge, 0-10 (mindfulness)
    in_charge_after: int | None


@dataclass(frozen=True)
class LessonEntry:
    lesson: str  # content/lessons.toml id
    language: str | None
    sent: datetime  # the invitation went out, or the patient asked for it
    opened: datetime | None
    correct: bool | None  # None: not answered


@dataclass(frozen=True)
class VisitNotes:
    at: datetime
    notes: dict[str, str]  # field (VISIT) → the patient's words, answered fields only


@dataclass
class History:
    span: Span
    peg: list[Peg] = field(default_factory=list)  # oldest first, as all of these
    phq4: list[Phq4] = field(default_factory=list)
    daily: list[Daily] = field(default_factory=list)
    sleep: list[Night] = field(default_factory=list)
    pacing: list[PacingEntry] = field(default_factory=list)
    drills: list[Drill] = field(default_factory=list)
    practices: list[PracticeEntry] = field(default_factory=list)
    lessons: list[LessonEntry] = field(default_factory=list)
    visits: list[VisitNotes] = field(default_factory=list)
    noted: list[tuple[datetime, str]] = field(default_factory=list)  # asked to keep for the next visit, not yet in notes
    exercises: exercises.Exercises = field(default_factory=exercises.Exercises)  # weeks on the patient's calendar

    @property
    def empty(self) -> bool:
        return not (self.peg or self.phq4 or self.daily or self.sleep or self.pacing or self.drills or self.practices or self.lessons or self.visits
                    or self.noted or self.exercises.weeks)


def gather(session: Session, patient: Patient, span: Span, zone: ZoneInfo) -> History:
    since, until = span.bounds(zone)

    def within(column):
        return [column < until] + ([column >= since] if since is not None else [])

    found = History(span)
    responses = session.scalars(select(Response).where(
        Response.patient_id == patient.id, Response.completed_at.is_not(None), Response.instrument.in_(("peg3", "phq4", "daily", "sleep_diary")),
        *within(Response.completed_at)).order_by(Response.completed_at, Response.id)).all()
    values: dict[tuple[int, str], float | None] = {
        (rid, item): None if skipped else value
        for rid, item, value, skipped in records.daily_answers(session, [r.id for r in responses if r.instrument != "phq4"],
                                                                     PEG + DAILY + DIARY)
    }
    for r in responses:
        at, score = as_utc(r.completed_at), parse_score(r.score) or {}
        if r.instrument == "peg3":
            found.peg.append(Peg(at, *(values.get((r.id, item)) for item in PEG), score.get("score")))
        elif r.instrument == "daily":
            paced = values.get((r.id, "pacing_followed"))
            found.daily.append(Daily(at, *(values.get((r.id, item)) for item in DAILY[:4]), None if paced is None else int(paced)))
        elif r.instrument == "sleep_diary":
            found.sleep.append(Night(at, *(values.get((r.id, item)) for item in DIARY)))
        elif {"total", "band", "anxiety", "depression"} <= set(score):  # a sitting with a skipped item has no score
            found.phq4.append(Phq4(at, score["total"], score["band"], score["anxiety"], score["depression"],
                                   bool(score.get("anxiety_positive")), bool(score.get("depression_positive"))))
    logs = session.execute(
        select(PacingLog, PacingActivity.name).join(PacingActivity, PacingActivity.id == PacingLog.activity_id)
        .where(PacingActivity.patient_id == patient.id, *within(PacingLog.logged_at)).order_by(PacingLog.local_date, PacingLog.id))
    found.pacing = [PacingEntry(log.local_date, name, log.kind, log.minutes, log.quota_minutes) for log, name in logs]
    drills = session.scalars(select(BreathingSession).where(
        BreathingSession.patient_id == patient.id, *within(BreathingSession.created_at)).order_by(BreathingSession.created_at))
    found.drills = [Drill(as_utc(d.started_at or d.created_at), d.pattern, d.planned_seconds, d.actual_seconds, d.completed,
                          d.tension_before, d.tension_after) for d in drills]
    found.practices = [PracticeEntry(as_utc(r.started_at), r.kind, r.planned_seconds, r.actual_seconds, r.completed, r.tension_before,
                                     r.tension_after, r.in_charge_before, r.in_charge_after)
                       for r in practice_runs.runs(session, patient.id, since, until)]
    taught = session.execute(select(LessonProgress, Prompt.sent_at).outerjoin(Prompt, Prompt.id == LessonProgress.prompt_id)
                             .where(LessonProgress.patient_id == patient.id))
    for row, invited in taught:
        at = as_utc(invited or row.sent_at or row.opened_at)
        if at is not None and at < until and (since is None or at >= since):
            found.lessons.append(LessonEntry(row.lesson, row.language, at, as_utc(row.opened_at), row.correct))
    found.lessons.sort(key=lambda entry: entry.sent)
    preps = session.scalars(select(VisitPrep).where(
        VisitPrep.patient_id == patient.id, *within(VisitPrep.created_at)).order_by(VisitPrep.created_at, VisitPrep.id))
    found.visits = [VisitNotes(as_utc(p.created_at), notes) for p in preps
                    if (notes := {f: v.strip() for f in VISIT if (v := getattr(p, f)) and v.strip()})]
    # Waiting for the next visit, whenever noted: the range does not hide what the patient asked to raise.
    found.noted = [(as_utc(q.created_at), q.text) for q in records.questions_for_the_visit(session, patient.id)]
    found.exercises = exercises.gather(session, patient.id, zone_of(patient), span.last, span.first)
    return found
