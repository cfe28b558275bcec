"""A guided breathing drill: pattern, length, tension before, the drill itself (one message edited
at each phase, with a Stop button), tension after. Diagram: docs/dialogs/breathing.md."""
from __future__ import annotations

import math

from content.breathing import Pattern, drills
from dialogs.base import STOP, Answer, Choice, Dialog, Invalid, Question, in_order
from dialogs.answers import scale_question, zero_to_ten
from dialogs.drills import stop_if_dizzy
from locales import _, ngettext
from storage.models import BreathingSession

DONE = "done"


def guide_frames(pattern: Pattern, minutes: int) -> tuple[tuple[float, str], ...]:
    """(seconds from the start, text) for each phase of each cycle, then a closing line.
    One frame per phase: the message is edited at most once a second (phases last ≥ 1 s)."""
    cycles = max(1, math.ceil(minutes * 60 / pattern.cycle_seconds))
    frames, at = [], 0.0
    footer = _("If you feel dizzy, stop and breathe normally.")
    for cycle in range(1, cycles + 1):
        for phase in pattern.phases:
            count = _("Cycle {n} of {total}").format(n=cycle, total=cycles)
            frames.append((at, f"{_(phase.text)} {phase.seconds}\n\n{count}\n{footer}"))
            at += phase.seconds
    frames.append((at, _("Well done. Breathe normally now.")))
    return tuple(frames)


def tension_question(text: str) -> Question:
    return scale_question(text)


class Breathing(Dialog):
    name = "breathing"
    states = ["pattern", "duration", "tension_before", "running", "tension_after", "done"]
    initial = "pattern"
    transitions = in_order(states)

    def ask_pattern(self) -> Question:
        _durations, patterns = drills()
        text = _("Which breathing exercise would you like?") + "\n\n" + "\n".join(f"• {_(p.label)}: {_(p.text)}" for p in patterns.values())
        return Question(text, [Choice(p.id, _(p.label)) for p in patterns.values()])

    def read_pattern(self, answer: Answer) -> str | None:
        if answer.choice in drills()[1]:
            self.data["pattern"] = answer.choice
            return "next"
        return None

    def ask_duration(self) -> Question:
        durations, _patterns = drills()
        return Question(
            _("For how long?"),
            [Choice(str(m), ngettext("{n} minute", "{n} minutes", m).format(n=m)) for m in durations],
            columns=len(durations),
        )

    def read_duration(self, answer: Answer) -> str | None:
        if answer.choice and answer.choice.isdigit() and int(answer.choice) in drills()[0]:
            self.data["minutes"] = int(answer.choice)
            return "next"
        return None

    def ask_tension_before(self) -> Question:
        return tension_question(_("Before we start: how tense do you feel right now, from 0 to 10?"))

    def read_tension_before(self, answer: Answer) -> str | Invalid:
        if isinstance(value := zero_to_ten(answer), Invalid):
            return value
        frames = guide_frames(drills()[1][self.data["pattern"]], self.data["minutes"])
        row = BreathingSession(
            patient_id=self.patient.id, pattern=self.data["pattern"], planned_seconds=int(frames[-1][0]),
            tension_before=value, started_at=self.turn.now,
        )
        self.turn.session.add(row)
        self.turn.session.flush()
        self.data["session_id"] = row.id
        return "next"

    def ask_running(self) -> Question:
        frames = guide_frames(drills()[1][self.data["pattern"]], self.data["minutes"])
        return Question(frames[0][1], [Choice(STOP, _("Stop"))], guide=frames, guide_done=Choice(DONE, "·"))  # no letters: typing cannot match it

    def read_running(self, answer: Answer) -> str:
        # The guide finished (DONE), or the patient stopped it: Stop, or anything they sent.
        stop_if_dizzy(self.turn, answer.text)
        row = self.turn.session.get(BreathingSession, self.data["session_id"])
        elapsed = (self.turn.now - row.started_at).total_seconds()
        row.completed = answer.choice == DONE
        row.actual_seconds = row.planned_seconds if row.completed else int(min(max(elapsed, 0), row.planned_seconds))
        return "next"

    def plays_guide(self) -> bool:
        return self.state == "running"

    def interrupted(self) -> str | None:
        if self.plays_guide():  # the drill stopped with whatever they sent
            return self.read_running(Answer(choice=STOP))
        return None

    def ask_tension_after(self) -> Question:
        return tension_question(_("How tense do you feel now, from 0 to 10?"))

    def read_tension_after(self, answer: Answer) -> str | Invalid:
        if isinstance(value := zero_to_ten(answer), Invalid):
            return value
        self.turn.session.get(BreathingSession, self.data["session_id"]).tension_after = value
        return "next"

    def finished(self) -> None:
        row = self.turn.session.get(BreathingSession, self.data["session_id"])
        self.say(_("Tension: from {before} to {after}. Thank you for taking this time for yourself.").format(
            before=row.tension_before, after=row.tension_after))


