"""A patient's home exercises as the clinic prescribes them, the same from the command line and the
dashboard: the limits a prescription must keep, adding one, stopping one. Each change is audited
with the study code and the exercise's number, never its name or note.

The limits refuse what is surely a slip of the keyboard (0 repetitions, 10,000), with a message
that says what is accepted: a clinician who meant something else types it again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_decimal

import locales
from locales import _
from storage import audit
from storage import exercises as stored
from storage.models import Exercise, Patient

LIMITS = {"sets": (1, 20), "reps": (1, 200), "minutes": (1, 180), "days": (1, 7)}
NAME_LIMIT, NOTE_LIMIT = 100, 500
PROGRESSIONS = ("none", "pacing")


class PrescriptionRefused(ValueError):
    """A value out of the limits; the message says which and what is accepted."""


@dataclass(frozen=True)
class Prescription:
    name: str
    sets: int | None
    reps: int | None
    minutes: int | None
    days_per_week: int
    note: str | None = None
    progression: str = "none"


def whole(field: str, value) -> int | None:
    """A typed number within its limits (None when left empty)."""
    if value is None or str(value).strip() == "":
        return None
    low, high = LIMITS[field]
    text = str(value).strip()
    if re.fullmatch(r"\d{1,3}([,.\u202f ]\d{3})+", text):  # "10,000", "10.000": read, then refused as too many
        text = re.sub(r"\D", "", text)
    words = {"sets": _("Sets"), "reps": _("Repetitions per set"), "minutes": _("Minutes"), "days": _("Days a week")}[field]
    try:
        number = int(text)
    except ValueError:
        raise PrescriptionRefused(_("{field}: a whole number from {low} to {high}, please (not “{value}”).").format(
            field=words, low=low, high=high, value=str(value)[:20])) from None
    if not low <= number <= high:
        message = _("{field}: from {low} to {high}, please (not {value}).").format(
            field=words, low=low, high=high, value=format_decimal(number, locale=locales.formatting()))
        if field == "reps" and number > high:
            message += " " + _("For a long hold or a timed exercise, give minutes instead.")
        raise PrescriptionRefused(message)
    return number


def prescription(name, *, sets=None, reps=None, minutes=None, days=None, note=None, progression="none") -> Prescription:
    """The checked prescription: a name; sets × reps, or minutes (not both); days a week; an
    optional note; progression none (the default) or pacing."""
    name = " ".join(str(name or "").split())
    if not any(ch.isalnum() for ch in name):
        raise PrescriptionRefused(_("The exercise needs a name, such as “sit to stand”."))
    if len(name) > NAME_LIMIT:
        raise PrescriptionRefused(_("The name is at most {limit} characters.").format(limit=NAME_LIMIT))
    sets, reps, minutes, days = whole("sets", sets), whole("reps", reps), whole("minutes", minutes), whole("days", days)
    if reps is not None and minutes is not None:
        raise PrescriptionRefused(_("Give repetitions or minutes, not both."))
    if reps is None and minutes is None:
        raise PrescriptionRefused(_("Give repetitions per set (with the sets), or minutes."))
    if reps is not None and sets is None:
        sets = 1
    if days is None:
        raise PrescriptionRefused(_("Give how many days a week, from 1 to 7."))
    note = (str(note).strip() or None) if note is not None else None
    if note is not None and len(note) > NOTE_LIMIT:
        raise PrescriptionRefused(_("The note is at most {limit} characters.").format(limit=NOTE_LIMIT))
    progression = str(progression or "none").strip().lower()
    if progression not in PROGRESSIONS:
        raise PrescriptionRefused(_("Progression is “none” or “pacing”, not “{value}”.").format(value=progression[:20]))
    return Prescription(name, sets, reps, minutes, days, note, progression)


def closed(patient: Patient) -> str | None:
    """Why no exercise can be prescribed to this patient now, or None: discharged, or consent not
    given (withdrawn, refused or still pending), when the bot would not show it to them."""
    if patient.discharged_at is not None:
        return _("{code} is discharged: no new exercises.").format(code=patient.study_code)
    if patient.consent != "given":
        return _("{code} has not given consent, or has withdrawn it: no new exercises.").format(code=patient.study_code)
    return None


def add(session, patient: Patient, rx: Prescription, now: datetime, *, actor: str, **detail) -> Exercise:
    reason = closed(patient)
    if reason is not None:
        raise PrescriptionRefused(reason)
    exercise = Exercise(patient_id=patient.id, name=rx.name, sets=rx.sets, reps=rx.reps, minutes=rx.minutes,
                        days_per_week=rx.days_per_week, note=rx.note, progression=rx.progression, prescribed_by=actor[:64],
                        prescribed_at=now)
    session.add(exercise)
    session.flush()
    audit.record(session, actor, "exercise_add", now, clinic_id=patient.clinic_id, subject=patient.study_code, exercise=exercise.id,
                 progression=rx.progression, **detail)
    return exercise


def stop(session, patient: Patient, exercise_id: int, now: datetime, *, actor: str, **detail) -> Exercise:
    exercise = session.get(Exercise, exercise_id)
    if exercise is None or exercise.patient_id != patient.id:
        raise PrescriptionRefused(_("{code} has no exercise {number}.").format(code=patient.study_code, number=exercise_id))
    if exercise.stopped_at is None:
        exercise.stopped_at = now
        audit.record(session, actor, "exercise_stop", now, clinic_id=patient.clinic_id, subject=patient.study_code,
                     exercise=exercise.id, **detail)
    return exercise


def listed(session, patient: Patient, *, include_stopped: bool = False) -> list[Exercise]:
    return stored.every(session, patient.id) if include_stopped else stored.active(session, patient.id)
