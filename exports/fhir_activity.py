"""What patients did between check-ins, as FHIR R4 Observations under the one local code system
(`LOCAL`, the same as the sleep diary's answers): each muscle relaxation or mindfulness run (with
tension, and how much the pain is in charge, before and after), each lesson question answered
(right or not), and each home exercise logged (done, part or skipped, with pain before and after).

Codes and numbers only, as in activity.csv: never the patient's words, nor the exercise's name or
the physio's note. They come with an export of every instrument (no instrument filter), in the
export's date range and for its patients. The codes are listed in README ("Exports")."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.lessons import course
from content.practices import practices
from exports.source import STREAM, Filters, Person, as_utc
from storage.models import Exercise, ExerciseLog, LessonProgress, PracticeRun

LOCAL = "urn:paincoach:codes"  # the one local code system: measures with no LOINC code
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# code → display, for every local code these Observations use (README lists them)
CODES = {
    "relaxation_run": "Guided muscle relaxation run",
    "mindfulness_run": "Guided mindfulness practice run",
    "practice_completed": "Played to the end (false: stopped)",
    "practice_seconds": "How long it ran",
    "tension_before": "Tension before, 0-10",
    "tension_after": "Tension after, 0-10",
    "in_charge_before": "How much the pain is in charge before, 0-10",
    "in_charge_after": "How much the pain is in charge after, 0-10",
    "lesson_answer": "Pain education lesson question answered right",
    "lesson": "The lesson (its id in the course)",
    "lesson_number": "The lesson's place in the course (1 = first)",
    "lesson_choice": "The answer chosen (the value of its button)",
    "exercise_log": "Home exercise logged",
    "exercise_done": "Done",
    "exercise_part": "Partly done",
    "exercise_skipped": "Skipped",
    "exercise_id": "The prescribed exercise (its record_id in activity.csv)",
    "exercise_dose": "Repetitions per set, or minutes, prescribed that day",
    "pain_before": "Pain before, 0-10",
    "pain_after": "Pain after, 0-10",
}

Subject = Callable[[Person], dict[str, Any]]


def concept(code: str, text: str | None = None) -> dict[str, Any]:
    return {"coding": [{"system": LOCAL, "code": code, "display": CODES.get(code, text or code)}], "text": text or CODES.get(code, code)}


def component(code: str, value: Any, unit: str | None = None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        shown = {"valueBoolean": value}
    elif unit:
        shown = {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}
    elif isinstance(value, int):
        shown = {"valueInteger": value}
    else:
        shown = {"valueString": str(value)}
    return {"code": concept(code), **shown}


def observation(resource_id: str, category: str, code: dict[str, Any], subject: dict[str, Any], effective: str,
                components: list[dict[str, Any] | None], **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": resource_id, "status": extra.pop("status", "final"),
        "category": [{"coding": [{"system": CATEGORY, "code": category}]}], "code": code, "subject": subject,
        "effectiveDateTime": effective, **extra,
    }
    if kept := [c for c in components if c is not None]:
        resource["component"] = kept
    return resource


def observations(session: Session, filters: Filters, persons: dict[int, Person], subject: Subject) -> Iterator[tuple[int, dict[str, Any]]]:
    """(patient id, Observation) for the runs, lesson answers and exercise logs in the export's range."""
    if filters.instruments or not persons:
        return
    ids = list(persons)

    def inside(at: datetime | None) -> bool:
        return at is not None and not (filters.since and at < filters.since) and not (filters.until and at >= filters.until)

    guided = practices()
    runs = select(PracticeRun).where(PracticeRun.patient_id.in_(ids)).order_by(PracticeRun.patient_id, PracticeRun.created_at, PracticeRun.id)
    for run in session.scalars(runs.execution_options(yield_per=STREAM)):
        at = as_utc(run.started_at or run.created_at)
        if not inside(at):
            continue
        method = guided[run.kind].label if run.kind in guided else run.kind
        yield run.patient_id, observation(
            f"practice-{run.id}", "therapy", concept(f"{run.family}_run"), subject(persons[run.patient_id]), at.isoformat(), [
                component("practice_completed", run.completed), component("practice_seconds", run.actual_seconds, "s"),
                *(component(f"{rating}_{end}", getattr(run, f"{rating}_{end}")) for rating in ("tension", "in_charge")
                  for end in ("before", "after"))],
            status="final" if run.ended_at is not None else "preliminary",
            method={"coding": [{"system": LOCAL, "code": run.kind, "display": method}], "text": method})
    whole = course()
    answered = select(LessonProgress).where(LessonProgress.patient_id.in_(ids), LessonProgress.correct.is_not(None)).order_by(
        LessonProgress.patient_id, LessonProgress.answered_at, LessonProgress.id)
    for progress in session.scalars(answered.execution_options(yield_per=STREAM)):
        at = as_utc(progress.answered_at)
        if not inside(at):
            continue
        lesson = whole.get(progress.lesson)
        yield progress.patient_id, observation(
            f"lesson-{progress.id}", "survey", concept("lesson_answer"), subject(persons[progress.patient_id]), at.isoformat(), [
                component("lesson", progress.lesson), component("lesson_number", whole.number(progress.lesson) if lesson else None),
                component("lesson_choice", progress.answer)],
            valueBoolean=bool(progress.correct))
    logs = (select(ExerciseLog, Exercise.patient_id, Exercise.minutes).join(Exercise, Exercise.id == ExerciseLog.exercise_id)
            .where(Exercise.patient_id.in_(ids)).order_by(Exercise.patient_id, ExerciseLog.logged_at, ExerciseLog.id))
    for log, patient_id, minutes in session.execute(logs.execution_options(yield_per=STREAM)):
        at = as_utc(log.logged_at)
        if not inside(at):
            continue
        yield patient_id, observation(
            f"exercise-log-{log.id}", "activity", concept("exercise_log"), subject(persons[patient_id]), log.local_date.isoformat(), [
                component("exercise_id", log.exercise_id),
                component("exercise_dose", log.dose, "min" if minutes else "{repetitions}"),
                component("pain_before", log.pain_before), component("pain_after", log.pain_after)],
            valueCodeableConcept=concept(f"exercise_{log.outcome}"), issued=at.isoformat())
