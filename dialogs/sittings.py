"""Opening a check-in sitting (from the menu or a prompt): what a prompt's sitting already
completed is not asked again, and a half-answered instrument is resumed where it was left."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from content.instruments import instrument
from dialogs.base import Call
from storage.models import Answer as AnswerRow
from storage.models import Response

if TYPE_CHECKING:
    from dialogs.base import Turn


def start(turn: "Turn", instruments: list[str], *, prompt_id: int | None = None, on_return: str | None = None) -> Call:
    """The call that opens a sitting. What a prompt's sitting already completed is not asked
    again, and a half-answered instrument is resumed where it was left."""
    source = "scheduled" if prompt_id else "self"
    resume_within = timedelta(minutes=turn.patient.clinic.setting("expire_after_minutes"))
    responses: dict[str, int] = {}
    queue: list[list[str]] = []
    for instrument_id in instruments:
        response = None
        if prompt_id:
            response = turn.session.scalars(
                select(Response).where(Response.prompt_id == prompt_id, Response.instrument == instrument_id)
            ).first()
            if response is not None and response.completed_at is not None:
                continue
        if response is None:
            response = turn.session.scalars(
                select(Response)
                .where(
                    Response.patient_id == turn.patient.id,
                    Response.instrument == instrument_id,
                    Response.completed_at.is_(None),
                    Response.started_at > turn.now - resume_within,
                )
                .order_by(Response.started_at.desc())
            ).first()
        if response is None:
            response = Response(
                patient_id=turn.patient.id, instrument=instrument_id, prompt_id=prompt_id, source=source,
                language=turn.patient.language, started_at=turn.now,
            )
            turn.session.add(response)
            turn.session.flush()
        elif prompt_id and response.prompt_id is None:
            response.prompt_id, response.source = prompt_id, source
        answered = set(turn.session.scalars(select(AnswerRow.item_id).where(AnswerRow.response_id == response.id)))
        responses[instrument_id] = response.id
        queue += [[instrument_id, item.id] for item in instrument(instrument_id).items if item.id not in answered]
    data = {"responses": responses, "queue": queue, "at": 0, "prompt_id": prompt_id}
    return Call("checkin", on_return=on_return, data=data)
