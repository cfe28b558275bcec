"""Plans the pain education course: one lesson every few days (the clinic's `lesson_every_days`),
as a "lesson" prompt in the patient's time zone, an hour after their daily check-in time (within
the hours they use the bot; moved to the end of their quiet hours if it would fall inside them;
spread over the clinic's `wave_spread_minutes` as check-ins are). Nothing is planned when the
clinic has the course off, for a patient who paused it or finished it, or who could not be sent
a check-in either (no consent, discharged, blocked, reminders paused). Idempotent: at most one
lesson is planned or on its way per patient at a time.
"""
from __future__ import annotations

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
    """Plan each patient's next lesson if it falls in (now, now + horizon]; returns how many."""
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
    off = [clinic.id for clinic in session.scalars(select(Clinic)) if not clinic.setting("lessons_enabled")]
    if off:  # turned off since a lesson was planned: what waits is not sent
        taken_back = select(Patient.id).where(Patient.clinic_id.in_(off))
        if patient_ids is not None:
            taken_back = taken_back.where(Patient.id.in_(patient_ids))
        for patient_id in session.scalars(taken_back):
            lessons.drop_planned(session, patient_id)
    query = query.where(Patient.clinic_id.not_in(off), ~paused, opened < len(order), ~waiting)
    if patient_ids is not None:
        query = query.where(Patient.id.in_(patient_ids))
    planned = 0
    for patient in session.scalars(query.order_by(Patient.id).with_for_update(read=True, skip_locked=True)):
        lesson = lessons.next_lesson(session, patient.id, order)
        if lesson is None:
            continue
        moment, day = _next_time(session, patient, now)
        if moment > now + horizon:
            continue
        while session.scalar(select(Prompt.id).where(Prompt.patient_id == patient.id, Prompt.scheduled_for == moment)):
            moment += timedelta(minutes=1)  # one prompt per patient and instant
        expiry = timedelta(minutes=patient.clinic.setting("expire_after_minutes"))
        prompt = Prompt(patient_id=patient.id, kind="lesson", instruments=[], local_date=day, scheduled_for=moment,
                        expires_at=moment + expiry, status="scheduled", updated_at=now)
        session.add(prompt)
        session.flush()
        lessons.planned(session, patient.id, lesson, prompt.id)
        planned += 1
    return planned


def _next_time(session: Session, patient: Patient, now: datetime):
    """(instant, local date) of the next lesson: `lesson_every_days` after the last one (the first
    the day after onboarding), an hour after the daily check-in time, never in the past."""
    zone = ZoneInfo(patient.timezone)
    last = lessons.last_lesson_at(session, patient.id)
    if last is None:
        first = patient.onboarded_at.astimezone(zone).date() + timedelta(days=1)
    else:
        first = last.astimezone(zone).date() + timedelta(days=patient.clinic.setting("lesson_every_days"))
    daily = session.scalar(select(Schedule.local_time).where(Schedule.patient_id == patient.id, Schedule.instrument == "daily"))
    checkin = parse_hhmm(daily or patient.clinic.setting("daily_time"))
    at = (datetime.combine(first, checkin) + AFTER_CHECKIN).time() if checkin < time(23) else checkin
    day = max(first, now.astimezone(zone).date())
    while instant(day, at, zone) <= now:
        day += timedelta(days=1)
    moment = spread(patient, day, instant(day, at, zone), patient.clinic.setting(WAVE))  # a wave, like the check-ins
    quiet = quiet_hours_end(patient, moment) if patient.quiet_start and patient.quiet_end else None
    return quiet or moment, day  # never planned inside quiet hours
