"""The visit report's "Between check-ins" block: the sleep diary (how regular bedtime and wake time
were, and sleep quality), muscle relaxation and mindfulness (runs, completed, mean change in tension
and in how much the pain is in charge), the pain education course (lessons read of the whole
course, questions answered right) and home exercise adherence (sessions logged against those
prescribed, last 28 days). `gather` reads them, `lines` words them; only what the patient has shows.

Diary times are minutes after midnight on the patient's clock: their mean and spread are taken
round the clock (a bedtime of 23:30 and one of 00:30 average to midnight, not to noon)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import fmean, pstdev

from babel.dates import format_time
from babel.numbers import format_percent
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import locales
from content.lessons import course
from dialogs.progress import number
from exports.source import as_utc
from locales import _, ngettext
from storage import exercises as stored
from storage import practices as practice_runs
from storage.models import Answer, LessonProgress, Response

DAY_MINUTES = 24 * 60
EXERCISE_DAYS = 28
FAMILIES = ("relaxation", "mindfulness")


@dataclass(frozen=True)
class Clock:
    """A mean time of day (minutes after midnight) and the spread round it (minutes, standard deviation)."""

    mean: float
    spread: float | None  # None from a single night


@dataclass(frozen=True)
class Practice:
    runs: int
    completed: int
    tension_change: float | None  # mean of after - before, 0-10
    in_charge_change: float | None


@dataclass
class Routines:
    nights: int = 0  # sleep diaries answered
    bedtime: Clock | None = None
    wake: Clock | None = None
    quality: float | None = None  # mean, 0-10
    practices: dict[str, Practice] = field(default_factory=dict)  # family → its runs, only families run
    lessons_total: int = 0
    lessons_read: int = 0
    lessons_answered: int = 0
    lessons_right: int = 0
    exercises: int = 0  # prescribed for some of the last 28 days
    sessions: int = 0  # logged done or part, one a day per exercise
    prescribed: int = 0

    @property
    def empty(self) -> bool:
        return not (self.nights or self.practices or self.lessons_read or self.lessons_answered or self.exercises)


def clock(minutes: list[float]) -> Clock | None:
    """The circular mean of times of day, and the standard deviation of each time's distance from it."""
    if not minutes:
        return None
    angles = [m / DAY_MINUTES * 2 * math.pi for m in minutes]
    mean = math.atan2(fmean(map(math.sin, angles)), fmean(map(math.cos, angles))) / (2 * math.pi) * DAY_MINUTES % DAY_MINUTES
    offsets = [(m - mean + DAY_MINUTES / 2) % DAY_MINUTES - DAY_MINUTES / 2 for m in minutes]
    return Clock(mean, pstdev(offsets) if len(minutes) > 1 else None)


def mean_change(pairs) -> float | None:
    changes = [after - before for before, after in pairs if before is not None and after is not None]
    return fmean(changes) if changes else None


def gather(session: Session, patient_id: int, zone, since: datetime, today: date) -> Routines:
    """The 12 weeks from `since` (the diary, the practices); the whole course; the 28 days to `today` (exercises)."""
    found = Routines()
    diaries = select(Answer.item_id, Answer.value).join(Response, Response.id == Answer.response_id).where(
        Response.patient_id == patient_id, Response.instrument == "sleep_diary", Response.completed_at.is_not(None),
        Response.completed_at >= since, Answer.skipped.is_not(True), Answer.value.is_not(None))
    items: dict[str, list[float]] = {}
    for item, value in session.execute(diaries):
        items.setdefault(item, []).append(value)
    found.nights = session.scalar(select(func.count()).select_from(Response).where(
        Response.patient_id == patient_id, Response.instrument == "sleep_diary", Response.completed_at.is_not(None),
        Response.completed_at >= since)) or 0
    found.bedtime, found.wake = clock(items.get("bedtime", [])), clock(items.get("wake_time", []))
    found.quality = fmean(items["sleep_quality"]) if items.get("sleep_quality") else None
    for family in FAMILIES:
        runs = [r for r in practice_runs.runs(session, patient_id, since) if r.family == family]
        if runs:
            found.practices[family] = Practice(len(runs), sum(bool(r.completed) for r in runs),
                                               mean_change((r.tension_before, r.tension_after) for r in runs),
                                               mean_change((r.in_charge_before, r.in_charge_after) for r in runs))
    whole = course()
    taught = session.scalars(select(LessonProgress).where(LessonProgress.patient_id == patient_id)).all()
    found.lessons_total = len(whole.lessons)
    found.lessons_read = sum(row.opened_at is not None for row in taught)
    found.lessons_answered = sum(row.correct is not None for row in taught)
    found.lessons_right = sum(row.correct is True for row in taught)
    first = today - timedelta(days=EXERCISE_DAYS - 1)
    for exercise in stored.every(session, patient_id):
        start = max(first, stored.local_date(as_utc(exercise.prescribed_at), zone))
        end = min(today, stored.local_date(as_utc(exercise.stopped_at), zone)) if exercise.stopped_at else today
        if start > end:
            continue
        found.exercises += 1
        found.prescribed += max(1, math.floor(exercise.days_per_week * ((end - start).days + 1) / 7 + 0.5))
        found.sessions += len({log.local_date for log in stored.logs(session, [exercise.id], since=start, until=end)
                               if log.outcome in stored.COUNTED})
    return found


def at(minutes: float) -> str:
    whole = round(minutes) % DAY_MINUTES
    return format_time(time(whole // 60, whole % 60), format="short", locale=locales.formatting())


def signed(x: float) -> str:
    return ("+" if x > 0 else "−" if x < 0 else "±") + number(abs(x))


def when(c: Clock) -> str:
    if c.spread is None:
        return at(c.mean)
    return _("{time} (±{minutes} min)").format(time=at(c.mean), minutes=round(c.spread))


def sleep_summary(nights: int, bedtime: Clock | None, wake: Clock | None, quality: float | None) -> str:
    """How many nights, the mean bedtime and wake time with their spread, the mean quality (the dashboard says it too)."""
    parts = [ngettext("{n} night", "{n} nights", nights).format(n=nights)]
    if bedtime:
        parts.append(_("bedtime {when}").format(when=when(bedtime)))
    if wake:
        parts.append(_("up at {when}").format(when=when(wake)))
    if quality is not None:
        parts.append(_("quality {mean} of 10 on average").format(mean=number(quality)))
    return " · ".join(parts)


def lines(r: Routines) -> list[tuple[str, str]]:
    """(label, text) for what the patient has: nothing at all gives no lines."""
    out = []
    if r.nights:
        out.append((_("Sleep diary"), sleep_summary(r.nights, r.bedtime, r.wake, r.quality)))
    names = {"relaxation": _("Muscle relaxation"), "mindfulness": _("Mindfulness")}
    for family, p in r.practices.items():
        parts = [ngettext("{n} run, {done} completed", "{n} runs, {done} completed", p.runs).format(n=p.runs, done=p.completed)]
        if p.tension_change is not None:
            parts.append(_("tension {change} on average (0–10)").format(change=signed(p.tension_change)))
        if p.in_charge_change is not None:
            parts.append(_("pain in charge {change} on average (0–10)").format(change=signed(p.in_charge_change)))
        out.append((names[family], " · ".join(parts)))
    if r.lessons_read or r.lessons_answered:
        read = ngettext("{n} of {total} lesson read", "{n} of {total} lessons read", r.lessons_total).format(
            n=r.lessons_read, total=r.lessons_total)
        right = ngettext("{right} of {n} question answered right", "{right} of {n} questions answered right", r.lessons_answered).format(
            right=r.lessons_right, n=r.lessons_answered) if r.lessons_answered else _("no question answered yet")
        out.append((_("Pain education"), f"{read} · {right}"))
    if r.exercises:
        share = format_percent(r.sessions / r.prescribed, locale=locales.formatting()) if r.prescribed else "—"
        out.append((_("Home exercises (28 days)"), ngettext(
            "{n} of {m} prescribed session logged ({share})", "{n} of {m} prescribed sessions logged ({share})", r.prescribed).format(
            n=r.sessions, m=r.prescribed, share=share) + " · " + ngettext(
            "{n} exercise", "{n} exercises", r.exercises).format(n=r.exercises)))
    return out
