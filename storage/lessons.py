"""The pain education course's rows: a patient's course (paused or not) and each lesson's progress,
their writers and queries. The scheduler plans lessons (scheduler/lessons.py); the dialogs record
what the patient opened and answered through here."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import LessonCourse, LessonProgress, Prompt

KIND = "lesson"  # the Prompt kind of a scheduled lesson (scheduler/outbound.py)


def paused(session: Session, patient_id: int) -> bool:
    course = session.get(LessonCourse, patient_id)
    return bool(course and course.paused)


def set_paused(session: Session, patient_id: int, pause: bool, now: datetime) -> None:
    """Pause (nothing planned goes out, nothing more is planned) or resume the course."""
    course = session.get(LessonCourse, patient_id)
    if course is None:
        course = LessonCourse(patient_id=patient_id)
        session.add(course)
    course.paused, course.changed_at = pause, now
    if pause:
        drop_planned(session, patient_id)
    session.flush()


def drop_planned(session: Session, patient_id: int) -> None:
    """Lessons planned and not yet on their way are taken back (their progress keeps no prompt)."""
    planned = select(Prompt.id).where(Prompt.patient_id == patient_id, Prompt.kind == KIND, Prompt.status == "scheduled")
    ids = list(session.scalars(planned))
    if ids:
        for row in session.scalars(select(LessonProgress).where(LessonProgress.prompt_id.in_(ids))):
            row.prompt_id = None
        session.flush()
        session.execute(delete(Prompt).where(Prompt.id.in_(ids)))


def progress(session: Session, patient_id: int) -> dict[str, LessonProgress]:
    """The patient's lessons so far, by lesson id."""
    return {row.lesson: row for row in session.scalars(select(LessonProgress).where(LessonProgress.patient_id == patient_id))}


def next_lesson(session: Session, patient_id: int, order: list[str]) -> str | None:
    """The first lesson, in the course's order, the patient has not opened yet."""
    done = progress(session, patient_id)
    return next((lesson for lesson in order if lesson not in done or done[lesson].opened_at is None), None)


def lesson_of_prompt(session: Session, prompt_id: int) -> str | None:
    return session.scalars(select(LessonProgress.lesson).where(LessonProgress.prompt_id == prompt_id)).first()


def row(session: Session, patient_id: int, lesson: str, source: str) -> LessonProgress:
    found = session.scalars(
        select(LessonProgress).where(LessonProgress.patient_id == patient_id, LessonProgress.lesson == lesson)
    ).first()
    if found is None:
        found = LessonProgress(patient_id=patient_id, lesson=lesson, source=source)
        session.add(found)
    return found


def opened(session: Session, patient_id: int, lesson: str, now: datetime, language: str, *, asked: bool) -> None:
    """The patient has the lesson in front of them: asked for now, or opened from its invitation."""
    if asked:
        drop_planned(session, patient_id)  # read ahead of time: its invitation is not sent
    progress_row = row(session, patient_id, lesson, "asked" if asked else "scheduled")
    if asked and progress_row.opened_at is None and progress_row.prompt_id is None:
        progress_row.source = "asked"
        progress_row.sent_at = progress_row.sent_at or now
    progress_row.opened_at = progress_row.opened_at or now
    progress_row.language = language
    session.flush()


def answered(session: Session, patient_id: int, lesson: str, answer: str, correct: bool, now: datetime) -> None:
    """The first answer counts; a second one (the question asked again) changes nothing."""
    progress_row = row(session, patient_id, lesson, "asked")
    if progress_row.answered_at is None:
        progress_row.answered_at, progress_row.answer, progress_row.correct = now, answer, correct
    session.flush()


def planned(session: Session, patient_id: int, lesson: str, prompt_id: int) -> None:
    row(session, patient_id, lesson, "scheduled").prompt_id = prompt_id
    session.flush()


def last_lesson_at(session: Session, patient_id: int) -> datetime | None:
    """When the patient last had a lesson: its planned time (once that came), or when they opened one."""
    times = [
        session.scalar(select(func.max(Prompt.scheduled_for)).where(
            Prompt.patient_id == patient_id, Prompt.kind == KIND, Prompt.status != "scheduled")),
        session.scalar(select(func.max(LessonProgress.opened_at)).where(LessonProgress.patient_id == patient_id)),
    ]
    return max((t for t in times if t is not None), default=None)


def counts(session: Session, patient_id: int) -> tuple[int, int]:
    """(lessons opened, of which answered right)."""
    rows = progress(session, patient_id).values()
    return sum(r.opened_at is not None for r in rows), sum(bool(r.correct) for r in rows)
