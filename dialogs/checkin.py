"""A check-in sitting: the items of one or more instruments, one question at a time.

Each answer is saved as it arrives; an instrument is scored when its last item arrives. A sitting
left halfway is kept and resumed. Diagram: docs/dialogs/checkin.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING


from content.instruments import Instrument, Item, instrument, score
from storage import alerts
from dialogs import records
from dialogs import flares, wins
from dialogs.answers import fmt, read_value
from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from dialogs.daytime import BareHour, read_time, show
from locales import _
from storage.models import Prompt, Response

if TYPE_CHECKING:
    pass

SKIP = "skip"


class Checkin(Dialog):
    name = "checkin"
    states = ["item", "done"]
    initial = "item"
    transitions = [
        {"trigger": "answered", "source": "item", "dest": "item"},
        {"trigger": "completed", "source": "item", "dest": "done"},
    ]

    @property
    def current(self) -> tuple[Instrument, Item]:
        instrument_id, item_id = self.data["queue"][self.data["at"]]
        measure = instrument(instrument_id)
        return measure, measure.item(item_id)

    def ask_item(self) -> Question:
        if not self.data["queue"]:  # everything of this sitting was answered already
            return Question(_("Everything here is answered already. Thank you!"), [Choice("ok", _("Continue"))])
        measure, item = self.current
        lines = []
        first_of_instrument = self.data["at"] == 0 or self.data["queue"][self.data["at"] - 1][0] != measure.id
        if first_of_instrument and measure.stem:
            lines.append(_(measure.stem))
        lines.append(_(item.text))
        choices: list[Choice] = []
        columns = 1
        if item.kind == "scale":
            lines.append(f"0 = {_(item.low)} · {int(item.maximum)} = {_(item.high)}")
            choices = [Choice(str(n), str(n)) for n in range(int(item.minimum), int(item.maximum) + 1)]
            columns = 6
        elif item.kind == "choice":
            choices = [Choice(str(option.value), _(option.label)) for option in item.options]
            columns = 2 if len(choices) > 3 else len(choices)
        elif item.clock:
            lines.append(_("Type a time, such as 22:30 or 6:45 am."))
        else:
            lines.append(_("Type a number."))
        if item.optional:
            choices.append(Choice(SKIP, _("Skip")))
        position = _("Question {n} of {total}").format(n=self.data["at"] + 1, total=len(self.data["queue"]))
        return Question(f"{position}\n\n" + "\n\n".join(lines), choices, columns, expects_number=item.kind == "number")

    def read_item(self, answer: Answer) -> str | Invalid | None:
        if not self.data["queue"]:
            return "completed"
        measure, item = self.current
        if answer.choice == SKIP and item.optional:
            value, skipped = None, True
        elif item.clock:
            value, skipped = _minutes(answer.text, item.bare_hour), False
            if isinstance(value, Invalid):
                return value
        else:
            value = read_value(item, answer)
            if value is None:
                if item.kind == "choice":
                    return None
                if item.decimals:
                    message = _("Please send a number from {low} to {high}.")
                else:
                    message = _("Please send a whole number from {low} to {high}.")
                return Invalid(message.format(low=fmt(item.minimum), high=fmt(item.maximum)))
            skipped = False
        self._save(measure, item, value, skipped)
        self.data["at"] += 1
        return "answered" if self.data["at"] < len(self.data["queue"]) else "completed"

    def _save(self, measure: Instrument, item: Item, value: float | None, skipped: bool) -> None:
        session = self.turn.session
        response_id = self.data["responses"][measure.id]
        records.save_answer(session, response_id, item.id, value, skipped, self.turn.now)
        if item.id == measure.items[-1].id:  # the instrument's last item: score it now
            session.flush()
            response = session.get(Response, response_id)
            answers = records.answer_values(session, response_id)
            response.score = score(measure, answers)
            response.completed_at = self.turn.now
            if (response.score or {}).get("band") == "severe":  # PHQ-4: the clinic hears at once
                alerts.raise_alert(session, self.turn.patient, "phq4_severe", self.turn.now)

    def finished(self) -> None:
        session = self.turn.session
        if self.data.get("prompt_id"):
            prompt = session.get(Prompt, self.data["prompt_id"])
            if prompt is not None and prompt.status != "answered":
                prompt.status, prompt.answered_at = "answered", self.turn.now
        lines = [_("Thank you, that's your check-in done.")]
        spike = False
        for instrument_id, response_id in self.data["responses"].items():
            response = session.get(Response, response_id)
            if instrument_id == "daily":
                values = records.answer_values(session, response_id)
                pain, sleep = values.get("pain_now"), values.get("sleep_hours")
                spike = pain is not None and flares.pain_spike(self.turn, pain, response_id)
                if sleep is not None and (win := wins.more_sleep(self.turn, sleep, response_id)):
                    lines.append(wins.said(self.turn, win))
            if instrument_id == "peg3" and response.score:
                score = fmt(round(response.score["score"], 1))  # as /progress shows it
                lines.append(_("Your PEG score this week: {score} (0 to 10; lower is better).").format(score=score))
            if instrument_id == "phq4" and (response.score or {}).get("band") == "severe":  # the clinic was alerted: say so
                lines.append(_("Thank you for answering honestly. Your answers suggest the last two weeks have been really hard. "
                               "Your clinic team will see them, so they can talk with you about support. If you ever feel you "
                               "might harm yourself, tell me straight away or call your local emergency number."))
        self.say("\n".join(lines))
        if spike:
            flares.offer(self.turn)


BARE_HOURS = {"morning": range(4, 16), "night": (*range(18, 24), *range(0, 6))}  # the hours each hint reads a bare hour in


def _minutes(text: str | None, bare_hour: str | None = None) -> float | Invalid:
    """A time of day typed for a clock item, as minutes after midnight. A bare hour is read as the
    question implies (the item's `bare_hour`: a wake time in the morning, a bedtime at night), or
    else asked again with both its readings."""
    at = read_time(text)
    if isinstance(at, BareHour):
        first, second = at.readings()
        if bare_hour is None:
            return Invalid(_("Did you mean {first} or {second}? Please type the one you mean.").format(
                first=show(first), second=show(second)))
        at = first if int(first[:2]) in BARE_HOURS[bare_hour] else second
    if at is None:
        return Invalid(_("Please send a time of day, such as 22:30."))
    hours, minutes = at.split(":")
    return float(int(hours) * 60 + int(minutes))
