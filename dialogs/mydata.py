"""/mydata: the patient's own data, every table that holds something about them, as one JSON file."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any


from dialogs import records
from dialogs.io import File
from locales import _
from storage import models

if TYPE_CHECKING:
    from dialogs.base import Turn

# (model, column holding the patient id); rows reached through another row are listed with it.
OWN = [
    (models.PainStory, "patient_id"), (models.Schedule, "patient_id"), (models.Prompt, "patient_id"),
    (models.Response, "patient_id"), (models.SafetyEvent, "patient_id"), (models.ThoughtRecord, "patient_id"),
    (models.FlarePlan, "patient_id"), (models.FlareEpisode, "patient_id"), (models.BreathingSession, "patient_id"),
    (models.PacingActivity, "patient_id"), (models.Sprint, "patient_id"), (models.VisitPrep, "patient_id"),
    (models.NotedQuestion, "patient_id"), (models.SafetyPlan, "patient_id"), (models.Alert, "patient_id"),
    (models.SmallWin, "patient_id"), (models.Exercise, "patient_id"), (models.SleepRoutine, "patient_id"),
    (models.PracticeRun, "patient_id"), (models.LessonCourse, "patient_id"), (models.LessonProgress, "patient_id"),
]
# Machinery, not about them; and the clinic's own records (its staff, invitations, audit, to
# which clinician's chat an alert went, and its staff's dashboard sign-ins).
LEFT_OUT = {"button_keys", "data_keys", "dialog_states", "processed_updates", "inbox", "chat_leases", "outbox", "send_budget", "deployment", "clinics",
            "clinicians", "invites", "audit", "alert_deliveries", "web_links", "web_sessions"}


def _row(row: Any) -> dict[str, Any]:
    return {key: _plain(value) for key, value in records.columns(row).items()}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def export(turn: "Turn") -> bytes:
    session, patient = turn.session, turn.patient
    data: dict[str, Any] = {"patient": _row(patient)}
    for model, column in OWN:
        data[model.__tablename__] = [_row(r) for r in records.rows_where(session, model, column, [patient.id])]
    response_ids = [r["id"] for r in data["responses"]]
    data["answers"] = [_row(r) for r in records.rows_where(session, models.Answer, "response_id", response_ids)]
    activity_ids = [a["id"] for a in data["pacing_activities"]]
    data["pacing_logs"] = [_row(r) for r in records.rows_where(session, models.PacingLog, "activity_id", activity_ids)]
    exercise_ids = [e["id"] for e in data["exercises"]]
    data["exercise_logs"] = [_row(r) for r in records.rows_where(session, models.ExerciseLog, "exercise_id", exercise_ids)]
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def send(turn: "Turn") -> None:
    turn.outputs.append(File("my-paincoach-data.json", export(turn), _("Everything I keep about you, as one file."), "application/json"))
