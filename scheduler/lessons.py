"""Plans the pain education course: one lesson every few days (the clinic's `lesson_every_days`),
as a "lesson" prompt in the patient's time zone, an hour after their daily check-in time (within
the hours they use the bot; moved to the end of their quiet hours if it would fall inside them;
spread over the clinic's `wave_spread_minutes` as check-ins are). Nothing is planned when the
clinic has the course off, for a patient who paused it or finished it, or who could not be sent
a check-in either (no consent, discharged, blocked, reminders paused). Idempotent: at most one
lesson is planned or on its way per patient at a time.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from content.lessons import course
from scheduler.outbound import may_be_planned
from scheduler.planner import HORIZON, WAVE, quiet_hours_end, spread
from scheduler.times import instant, parse_hhmm
from storage import lessons
from storage.models import Clinic, LessonCourse, LessonProgress, Patient, Prompt, Schedule

AFTER_CHECKIN = timedelta(hours=1)


def plan(session: Session, now: datetime, *, patient_ids: list[int] | None = None, horizon: timedelta = HORIZON) -> int:
    """Plan each patient's next lesson if it falls in (now, now + horizon]; returns how many. A
    handful of queries for all the patients given (the sweep's page), not a handful each."""
    query = select(Patient).where(
        *may_be_planned(),
    )
    order = [lesson.id for lesson in course().lessons]
    # In SQL, so the loop sees only patients who may need one: not paused, not finished, none waiting.
    paused = exists().where(LessonCourse.patient_id == Patient.id, LessonCourse.paused)
    opened = select(func.count(LessonProgress.id)).where(LessonProgress.patient_id == Patient.id,
                                                       LessonProgress.opened_at.is_not(None)).scalar_subquery()
    waiting = exists().where(Prompt.patient_id == Patient.id, Prompt.kind == "lesson",
                             Prompt.status.in_(("scheduled", "snoozed", "claimed")), Prompt.expires_at > now)
    clinics = {clinic.id: clinic for clinic in session.scalars(select(Clinic))}
    off = [clinic.id for clinic in clinics.values() if not clinic.setting("lessons_enabled")]
    if off:  # turned off since a lesson was planned: what waits is not sent
        taken_back = select(Prompt.patient_id).join(Patient, Patient.id == Prompt.patient_id).where(
            Patient.clinic_id.in_(off), Prompt.kind == "lesson", Prompt.status == "scheduled")
        if patient_ids is not None:
            taken_back = taken_back.where(Patient.id.in_(patient_ids))
        for patient_id in set(session.scalars(taken_back)):
            lessons.drop_planned(session, patient_id)
    query = query.where(Patient.clinic_id.not_in(off), ~paused, opened < len(order), ~waiting)
    if patient_ids is not None:
        query = query.where(Patient.id.in_(patient_ids))
    patients = list(session.scalars(query.order_by(Patient.id).with_for_update(read=True, skip_locked=True)))
    # A thousand at a time: a query's parameters stay few however many patients are given.
    return sum(_plan_page(session, now, horizon, patients[i : i + 1000], order, clinics) for i in range(0, len(patients), 1000))


def _plan_page(session: Session, now: datetime, horizon: timedelta, patients: list[Patient], order: list[str],
               clinics: dict[int, Clinic]) -> int:
    known = _known(session, [patient.id for patient in patients], now)
    new = []
    for patient in patients:
        done = known.progress[patient.id]
        # As storage.lessons.next_lesson and last_lesson_at have it, for the whole page at once.
        lesson = next((lesson for lesson in order if lesson not in done or done[lesson].opened_at is None), None)
        if lesson is None:
            continue
        last = max((t for t in (known.last_sent.get(patient.id), *(row.opened_at for row in done.values())) if t), default=None)
        clinic = clinics[patient.clinic_id]
        moment, day = _next_time(patient, clinic, last, known.daily.get(patient.id), now)
        if moment > now + horizon:
            continue
        while (patient.id, moment) in known.taken:
            moment += timedelta(minutes=1)  # one prompt per patient and instant
        expiry = timedelta(minutes=clinic.setting("expire_after_minutes"))
        prompt = Prompt(patient_id=patient.id, kind="lesson", instruments=[], local_date=day, scheduled_for=moment,
                        expires_at=moment + expiry, status="scheduled", updated_at=now)
        session.add(prompt)
        new.append((patient.id, lesson, prompt))
    session.flush()  # the prompts' ids, in one round
    for patient_id, lesson, prompt in new:
        row = known.progress[patient_id].get(lesson)
        if row is None:
            row = LessonProgress(patient_id=patient_id, lesson=lesson, source="scheduled")
            session.add(row)
        row.prompt_id = prompt.id
    session.flush()
    return len(new)


@dataclass
class _Known:
    progress: dict[int, dict[str, LessonProgress]]  # by patient, by lesson
    last_sent: dict[int, datetime]  # the last lesson prompt that came, by patient
    daily: dict[int, str]  # the daily check-in's local time, by patient
    taken: set[tuple[int, datetime]]  # (patient, instant) of their future prompts


def _known(session: Session, ids: list[int], now: datetime) -> _Known:
    progress: dict[int, dict[str, LessonProgress]] = defaultdict(dict)
    for row in session.scalars(select(LessonProgress).where(LessonProgress.patient_id.in_(ids))):
        progress[row.patient_id][row.lesson] = row
    last_sent = dict(session.execute(
        select(Prompt.patient_id, func.max(Prompt.scheduled_for)).where(
            Prompt.patient_id.in_(ids), Prompt.kind == lessons.KIND, Prompt.status != "scheduled").group_by(Prompt.patient_id)).all())
    daily = dict(session.execute(
        select(Schedule.patient_id, Schedule.local_time).where(Schedule.patient_id.in_(ids), Schedule.instrument == "daily")).all())
    taken = set(session.execute(
        select(Prompt.patient_id, Prompt.scheduled_for).where(Prompt.patient_id.in_(ids), Prompt.scheduled_for > now)).all())
    return _Known(progress, last_sent, daily, taken)


def _next_time(patient: Patient, clinic: Clinic, last: datetime | None, daily: str | None, now: datetime):
    """(instant, local date) of the next lesson: `lesson_every_days` after the last one (the first
    the day after onboarding), an hour after the daily check-in time, never in the past."""
    zone = ZoneInfo(patient.timezone)
    if last is None:
        first = patient.onboarded_at.astimezone(zone).date() + timedelta(days=1)
    else:
        first = last.astimezone(zone).date() + timedelta(days=clinic.setting("lesson_every_days"))
    checkin = parse_hhmm(daily or clinic.setting("daily_time"))
    at = (datetime.combine(first, checkin) + AFTER_CHECKIN).time() if checkin < time(23) else checkin
    day = max(first, now.astimezone(zone).date())
    while instant(day, at, zone) <= now:
        day += timedelta(days=1)
    moment = spread(patient, day, instant(day, at, zone), clinic.setting(WAVE))  # a wave, like the check-ins
    quiet = quiet_hours_end(patient, moment) if patient.quiet_start and patient.quiet_end else None
    return quiet or moment, day  # never planned inside quiet hours
