"""Lesson progress on the patient's page of the dashboard: each lesson sent in the range, its
language, when it was sent and opened, and whether the question was answered right."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from conftest import NOW
from storage.models import LessonProgress, Patient, Prompt
from test_web_patient import CODE, client, desk, signed_in  # noqa: F401 - the page's fixtures


def test_the_patient_page_shows_lessons_sent_opened_and_answered(database, client, signed_in):  # noqa: F811
    with database.transaction() as session:
        pid = session.scalars(select(Patient.id).where(Patient.study_code == CODE)).one()
        sent = NOW - timedelta(days=4)
        prompt = Prompt(patient_id=pid, kind="lesson", instruments=[], local_date=sent.date(), scheduled_for=sent, expires_at=sent + timedelta(hours=12),
                        status="answered", sent_at=sent)
        session.add(prompt)
        session.flush()
        session.add_all([
            LessonProgress(patient_id=pid, lesson="protector", prompt_id=prompt.id, source="scheduled", language="es", sent_at=None,
                           opened_at=sent + timedelta(hours=1), answered_at=sent + timedelta(hours=1), answer="measure", correct=False),
            LessonProgress(patient_id=pid, lesson="hurt_not_harm", source="asked", language="es", sent_at=sent + timedelta(hours=1),
                           opened_at=sent + timedelta(hours=1), answered_at=sent + timedelta(hours=1), answer="doctor", correct=True),
            LessonProgress(patient_id=pid, lesson="pacing", source="asked", sent_at=NOW - timedelta(days=60)),  # outside four weeks
        ])
    text = client.get(f"/patients/{CODE}").text
    assert "<h3>Pain lessons</h3>" in text
    assert ("<td>1. Pain is a protector</td><td>es</td><td>Nov 24, 2026, 2:05\u202fPM CET</td><td>Nov 24, 2026, 3:05\u202fPM CET</td>"
            "<td>wrong</td>") in text
    assert "<td>2. Hurt is not harm</td><td>es</td>" in text and "<td>right</td>" in text
    assert "Pacing instead of boom and bust" not in text
