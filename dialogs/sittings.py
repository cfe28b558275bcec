"""Opening a check-in sitting (from the menu or a prompt): what a prompt's sitting already
completed is not asked again, and a half-answered instrument is resumed where it was left."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING


from content.instruments import instrument
from dialogs import records
from dialogs.base import Call
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
            response = records.response_to_prompt(turn.session, prompt_id, instrument_id)
            if response is not None and response.completed_at is not None:
                continue
        if response is None:
            response = records.unfinished_response(turn.session, turn.patient.id, instrument_id, turn.now - resume_within)
        if response is None:
            response = Response(
                patient_id=turn.patient.id, instrument=instrument_id, prompt_id=prompt_id, source=source,
                language=turn.patient.language, started_at=turn.now,
            )
            turn.session.add(response)
            turn.session.flush()
        elif prompt_id and response.prompt_id is None:
            response.prompt_id, response.source = prompt_id, source
        answered = records.answered_items(turn.session, response.id)
        responses[instrument_id] = response.id
        queue += [[instrument_id, item.id] for item in instrument(instrument_id).items if item.id not in answered]
    data = {"responses": responses, "queue": queue, "at": 0, "prompt_id": prompt_id}
    return Call("checkin", on_return=on_return, data=data)
