"""Thought records, shared by the thought-check and the quick check: the record being written,
saved answer by answer, and the 0-100 ratings."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from content.instruments import Item
from dialogs import records
from dialogs.answers import read_value, scale_question, words
from dialogs.base import Answer, Dialog, Invalid, Question
from locales import _
from storage.models import ThoughtRecord

if TYPE_CHECKING:
    from dialogs.base import Turn

RATING = Item(id="rating", text="", kind="scale", minimum=0, maximum=100)


def rating_question(text: str) -> Question:
    return scale_question(text, 0, 100, 10)


def read_rating(answer: Answer) -> int | Invalid:
    value = read_value(RATING, answer)
    if value is None:
        return Invalid(_("Please send a number from 0 to 100."))
    return int(value)


def record(turn: "Turn", data: dict, kind: str, **values) -> ThoughtRecord:
    """The record being written (made on the first answer), with `values` written to it: the
    first answer's in the row it makes, a later one's as an update of just that column, without
    reading the row first (what the record holds loads only if something reads it)."""
    if data.get("record_id"):
        row = records.stored_row(turn.session, ThoughtRecord, data["record_id"], patient_id=turn.patient.id)
        for column, value in values.items():
            setattr(row, column, value)
        return row
    row = ThoughtRecord(patient_id=turn.patient.id, kind=kind, created_at=turn.now, **values)
    turn.session.add(row)
    turn.session.flush()
    data["record_id"] = row.id
    return row


class WrittenRecord(Dialog):
    """Steps answered in the patient's own words (`words`: state -> (column, question)), each
    saved to the thought record as it arrives."""

    words: ClassVar[dict[str, tuple[str, str]]]
    kind: ClassVar[str]

    def ask(self) -> Question:
        if self.state in self.words:
            return Question(_(self.words[self.state][1]))
        return super().ask()

    def read(self, answer: Answer) -> str | Invalid | None:
        if self.state in self.words:
            text = words(answer)
            if isinstance(text, Invalid):
                return text
            record(self.turn, self.data, self.kind, **{self.words[self.state][0]: text})
            return "next"
        return super().read(answer)
