"""What a clinician sees of their patients at a glance: last check-in, the latest PEG and its
change, check-in adherence, open flares and unacknowledged alerts. A few grouped queries per
clinic, not one set per patient."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from exports.source import parse_score
from storage.models import Alert, FlareEpisode, Patient, Prompt, Response

ADHERENCE_DAYS = 28
PEG_WEEKS = 12


@dataclass
class Overview:
    study_code: str
    reference: str | None
    last_checkin: datetime | None = None
    peg: float | None = None
    peg_change: float | None = None  # against the PEG before it
    answered: int = 0  # check-in prompts answered of those sent, last 28 days
    sent: int = 0
    open_flares: int = 0
    open_alerts: int = 0

    @property
    def adherence(self) -> int | None:
        return round(100 * self.answered / self.sent) if self.sent else None


def overviews(session: Session, clinic_id: int, now: datetime, study_codes: tuple[str, ...] = ()) -> list[Overview]:
    query = select(Patient.id, Patient.study_code, Patient.clinic_reference).where(
        Patient.clinic_id == clinic_id, Patient.discharged_at.is_(None), Patient.consent.in_(("given", "withdrawn"))
    )
    if study_codes:
        query = query.where(Patient.study_code.in_(study_codes))
    found = {pid: Overview(code, reference) for pid, code, reference in session.execute(query.order_by(Patient.study_code))}
    ids = list(found)
    if not ids:
        return []
    for pid, last in session.execute(
        select(Response.patient_id, func.max(Response.completed_at)).where(Response.patient_id.in_(ids)).group_by(Response.patient_id)
    ):
        found[pid].last_checkin = last
    pegs: dict[int, list[float]] = {}
    for pid, score in session.execute(
        select(Response.patient_id, Response.score).where(
            Response.patient_id.in_(ids), Response.instrument == "peg3", Response.completed_at >= now - timedelta(weeks=PEG_WEEKS)
        ).order_by(Response.completed_at)
    ):
        if (parsed := parse_score(score)) and "score" in parsed:
            pegs.setdefault(pid, []).append(parsed["score"])
    for pid, values in pegs.items():
        found[pid].peg = values[-1]
        found[pid].peg_change = round(values[-1] - values[-2], 2) if len(values) > 1 else None
    since = now - timedelta(days=ADHERENCE_DAYS)
    answered = func.sum(case((Prompt.status == "answered", 1), else_=0))
    for pid, sent, done in session.execute(
        select(Prompt.patient_id, func.count(), answered).where(
            Prompt.patient_id.in_(ids), Prompt.kind == "checkin", Prompt.sent_at.is_not(None), Prompt.scheduled_for >= since
        ).group_by(Prompt.patient_id)
    ):
        found[pid].sent, found[pid].answered = sent, int(done or 0)
    for pid, count in session.execute(
        select(FlareEpisode.patient_id, func.count()).where(FlareEpisode.patient_id.in_(ids), FlareEpisode.ended_at.is_(None)).group_by(FlareEpisode.patient_id)
    ):
        found[pid].open_flares = count
    for pid, count in session.execute(
        select(Alert.patient_id, func.count()).where(Alert.patient_id.in_(ids), Alert.acknowledged_at.is_(None)).group_by(Alert.patient_id)
    ):
        found[pid].open_alerts = count
    return list(found.values())
