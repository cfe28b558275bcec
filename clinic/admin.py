"""What a clinic's staff do to their roster, the same from the command line, Telegram and the
dashboard: a patient's invitation, a discharge. Each is audited where it is done."""
from __future__ import annotations

from datetime import datetime

from storage import audit, enrollment
from storage.models import Clinic, Patient


def invite_patient(session, clinic: Clinic, now: datetime, *, actor: str, reference: str | None = None,
                   hours: float | None = None, **detail) -> str:
    """A one-use invitation code into `clinic` (two weeks unless `hours`), audited."""
    code = enrollment.invite(session, "patient", clinic, now, created_by=actor, reference=reference, hours=hours)
    audit.record(session, actor, "invite", now, clinic_id=clinic.id, **detail)
    return code


def discharge(session, patient: Patient, now: datetime, *, actor: str, **detail) -> int:
    """Check-ins stop and nothing more goes out on the bot's own initiative; the data is kept for
    the clinic's retention_days (then `paincoach purge` erases it), which this returns."""
    from scheduler import planner

    patient.discharged_at = patient.discharged_at or now
    planner.replan(session, patient, now)  # the planner leaves discharged patients out: prompts stop
    audit.record(session, actor, "discharge", now, clinic_id=patient.clinic_id, subject=patient.study_code, **detail)
    return patient.clinic.setting("retention_days")
