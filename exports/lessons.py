"""Lesson progress for activity.csv: one row per measure of each lesson of the pain education
course a patient was sent or asked for. Codes and times only: a typed answer is never kept."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.lessons import course
from exports.source import STREAM, Filters, Person
from storage.models import LessonProgress, Prompt

ACTIVITY = "lesson"
MEASURES = ("lesson", "lesson_number", "source", "language", "clinician_reviewed", "sent_at", "opened_at", "answered_at", "answer",
            "correct")


def rows(session: Session, filters: Filters, persons: dict[int, Person],
         value: Callable[[object], str], stamp: Callable[[Person, datetime], list[str]]) -> Iterator[tuple[Person, list[str]]]:
    """activity.csv rows, stamped when the lesson was sent (planned, if never sent)."""
    whole = course()
    query = (
        select(LessonProgress, Prompt.sent_at, Prompt.scheduled_for)
        .outerjoin(Prompt, Prompt.id == LessonProgress.prompt_id)
        .where(LessonProgress.patient_id.in_(list(persons)))
        .order_by(LessonProgress.patient_id, LessonProgress.id)
    )
    for progress, prompt_sent, planned in session.execute(query.execution_options(yield_per=STREAM)):
        sent = prompt_sent or progress.sent_at
        at = sent or progress.opened_at or planned
        if at is None or (filters.since and at < filters.since) or (filters.until and at >= filters.until):
            continue
        person = persons[progress.patient_id]
        facts = {
            "lesson": progress.lesson,
            "lesson_number": whole.number(progress.lesson) if whole.get(progress.lesson) else None,
            "source": progress.source,
            "language": progress.language,
            "clinician_reviewed": int(whole.reviewed.get(progress.language, False)) if progress.language else None,
            "sent_at": sent,
            "opened_at": progress.opened_at,
            "answered_at": progress.answered_at,
            "answer": progress.answer,
            "correct": None if progress.correct is None else int(progress.correct),
        }
        for measure in MEASURES:
            yield person, [person.study_code, ACTIVITY, progress.id, measure, value(facts[measure]), *stamp(person, at)]
