"""Rows for tests that start from patients with check-ins already due."""
from __future__ import annotations

from datetime import datetime, timedelta

from storage.models import Patient, Prompt


def due_prompts(database, chats: list[int], now: datetime, per_patient: int = 1) -> None:
    """An onboarded Telegram patient per chat id, each with `per_patient` daily prompts due now."""
    with database.transaction() as session:
        clinic_id = database.default_clinic(session).id
        patients = [
            Patient(clinic_id=clinic_id, channel="telegram", external_id=str(chat), consent="given", timezone="UTC",
                    onboarded_at=now, preferred_name="P")
            for chat in chats
        ]
        session.add_all(patients)
        session.flush()
        session.add_all(
            Prompt(patient_id=p.id, instruments=["daily"], local_date=now.date(), scheduled_for=now - timedelta(minutes=1 + k),
                   expires_at=now + timedelta(hours=1), status="scheduled")
            for p in patients for k in range(per_patient)
        )


def daily_answers(database, answers: list[tuple[datetime, dict[str, float]]], instrument: str = "daily") -> None:
    """Completed check-ins of the only patient, at the given times, with the given item values."""
    from sqlalchemy import select

    from storage.models import Answer, Response

    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        for at, values in answers:
            response = Response(patient_id=patient.id, instrument=instrument, source="self", language="en", started_at=at, completed_at=at)
            session.add(response)
            session.flush()
            session.add_all(Answer(response_id=response.id, item_id=item, value=value) for item, value in values.items())
