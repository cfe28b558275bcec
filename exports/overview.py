"""What a clinician sees of their patients at a glance: last check-in, the latest PEG and its
change, the latest PHQ-4 (total, band, GAD-2 and PHQ-2) and its change since baseline, check-in
adherence, open flares and unacknowledged alerts. A few grouped queries per clinic, not one set
per patient."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select
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
    phq4: dict | None = None  # the latest PHQ-4's scores: total, band, anxiety, depression, *_positive
    phq4_at: datetime | None = None
    phq4_baseline: dict | None = None  # the first PHQ-4 scored after enrolment
    phq4_baseline_at: datetime | None = None
    answered: int = 0  # check-in prompts answered of those sent, last 28 days
    sent: int = 0
    open_flares: int = 0
    open_alerts: int = 0

    @property
    def adherence(self) -> int | None:
        return round(100 * self.answered / self.sent) if self.sent else None

    @property
    def phq4_change(self) -> int | None:
        """The total's change since baseline; None until there are two PHQ-4s to compare."""
        if self.phq4 is None or self.phq4_baseline is None or self.phq4_at == self.phq4_baseline_at:
            return None
        return self.phq4["total"] - self.phq4_baseline["total"]


SENT = ("sent", "answered", "expired", "snoozed")  # a check-in invitation the patient received


def adherence(session: Session, patient_ids: list[int], now: datetime) -> dict[int, tuple[int, int]]:
    """Per patient, (check-in prompts answered, check-in prompts they received) in the last 28
    days: the one definition the overview and the visit report both show."""
    answered = func.sum(case((Prompt.status == "answered", 1), else_=0))
    query = select(Prompt.patient_id, answered, func.count()).where(
        Prompt.patient_id.in_(patient_ids), Prompt.kind == "checkin",
        Prompt.scheduled_for > now - timedelta(days=ADHERENCE_DAYS), Prompt.scheduled_for <= now,
        or_(Prompt.status.in_(SENT), Prompt.sent_at.is_not(None)),
    ).group_by(Prompt.patient_id)
    return {pid: (int(done or 0), sent) for pid, done, sent in session.execute(query)}


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
    phq4s(session, found)
    for pid, (done, sent) in adherence(session, ids, now).items():
        found[pid].answered, found[pid].sent = done, sent
    for pid, count in session.execute(
        select(FlareEpisode.patient_id, func.count()).where(FlareEpisode.patient_id.in_(ids), FlareEpisode.ended_at.is_(None)).group_by(FlareEpisode.patient_id)
    ):
        found[pid].open_flares = count
    for pid, count in session.execute(
        select(Alert.patient_id, func.count()).where(Alert.patient_id.in_(ids), Alert.acknowledged_at.is_(None)).group_by(Alert.patient_id)
    ):
        found[pid].open_alerts = count
    return list(found.values())


def phq4s(session: Session, found: dict[int, Overview]) -> None:
    """Each patient's latest PHQ-4 and their baseline: the first one scored after enrolment (a
    patient who joined without an invitation: their first). Scored in Python, as a sitting with a
    skipped item has no score; a PHQ-4 comes every other week, so the rows stay few."""
    query = select(Response.patient_id, Response.completed_at, Response.score).join(Patient, Patient.id == Response.patient_id).where(
        Response.patient_id.in_(list(found)), Response.instrument == "phq4", Response.completed_at.is_not(None),
        or_(Patient.enrolled_at.is_(None), Response.completed_at >= Patient.enrolled_at),
    ).order_by(Response.patient_id, Response.completed_at)
    for pid, at, score in session.execute(query):
        if not ((parsed := parse_score(score)) and "total" in parsed):
            continue
        row = found[pid]
        if row.phq4_baseline is None:
            row.phq4_baseline, row.phq4_baseline_at = parsed, at
        row.phq4, row.phq4_at = parsed, at
