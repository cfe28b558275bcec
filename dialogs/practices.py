"""What the guided practices share (muscle relaxation, mindfulness; content/practices.toml): the
ratings before, the practice itself (one message edited at each step, with a Stop button, as the
breathing drill plays), the ratings after. Each menu tool is a dialog of its own that names its
family, its ratings and its states (dialogs/relaxation.py, dialogs/mindfulness.py); which
practice runs is data: the family's only one, or the one the patient picks.

A state named `<rating>_before` or `<rating>_after` asks that rating (0-10); the run's row is
written when the last rating before it is given, ended when it plays out or is stopped (Stop,
anything typed, a command), and rated after."""
from __future__ import annotations

from typing import ClassVar

from content.practices import Practice as Content, of_family, practices
from dialogs.answers import scale_question, zero_to_ten
from dialogs.base import STOP, Answer, Choice, Dialog, Invalid, Question
from dialogs.drills import stop_if_dizzy
from locales import N_, _
from storage import practices as runs

DONE = "done"  # the guide played out
RUNNING = "running"
QUESTIONS = {  # (rating, before or after) → msgid
    ("tension", "before"): N_("Before we start: how tense do you feel right now, from 0 to 10?"),
    ("tension", "after"): N_("How tense do you feel now, from 0 to 10?"),
    ("in_charge", "before"): N_("And how much is the pain in charge of you right now, from 0 (not at all) to 10 (completely)?"),
    ("in_charge", "after"): N_("How much is the pain in charge of you now, from 0 (not at all) to 10 (completely)?"),
}
CHANGES = {
    "tension": N_("Tension: from {before} to {after}."),
    "in_charge": N_("Pain in charge: from {before} to {after}."),
}


def guide_frames(practice: Content) -> tuple[tuple[float, str], ...]:
    """(seconds from the start, text) for each step, then the closing line. One frame per step:
    the message is edited at most once a second (steps last ≥ 1 s)."""
    frames, at = [], 0.0
    total = len(practice.steps)
    for n, step in enumerate(practice.steps, start=1):
        count = _("Step {n} of {total}").format(n=n, total=total)
        frames.append((at, f"{_(step.text)}\n\n{count}\n{_(practice.footer)}"))
        at += step.seconds
    frames.append((at, _(practice.closing)))
    return tuple(frames)


def rating_of(state: str) -> tuple[str, str] | None:
    """("tension", "before") for the state "tension_before"; None for any other state."""
    for (rating, when) in QUESTIONS:
        if state == f"{rating}_{when}":
            return rating, when
    return None


class GuidedPractice(Dialog):
    family: ClassVar[str]  # content/practices.py FAMILIES
    ratings: ClassVar[tuple[str, ...]]  # asked before and after, in this order

    def practice(self) -> Content:
        return practices()[self.data.get("practice") or of_family(self.family)[0].id]

    def ask(self) -> Question:
        if (rated := rating_of(self.state)) is not None:
            return self.ask_rating(*rated)
        return super().ask()

    def read(self, answer: Answer) -> str | Invalid | None:
        if (rated := rating_of(self.state)) is not None:
            return self.read_rating(answer, *rated)
        return super().read(answer)

    def ask_pick(self) -> Question:
        choices = of_family(self.family)
        text = _("Which practice would you like?") + "\n\n" + "\n".join(f"• {_(p.label)}: {_(p.text)}" for p in choices)
        return Question(text, [Choice(p.id, _(p.label)) for p in choices])

    def read_pick(self, answer: Answer) -> str | None:
        if answer.choice in {p.id for p in of_family(self.family)}:
            self.data["practice"] = answer.choice
            return "next"
        return None

    def ask_rating(self, rating: str, when: str) -> Question:
        text = _(QUESTIONS[rating, when])
        if when == "before" and rating == self.ratings[0]:  # the first question: what the practice is, first
            practice = self.practice()
            text = f"{_(practice.label)}: {_(practice.text)}\n{_(practice.footer)}\n\n{text}"
        return scale_question(text)

    def read_rating(self, answer: Answer, rating: str, when: str) -> str | Invalid:
        if isinstance(value := zero_to_ten(answer), Invalid):
            return value
        if when == "after":
            runs.rate_after(self.turn.session, self.data["run_id"], rating, value)
            return "next"
        before = {**self.data.get("before", {}), rating: value}
        self.data["before"] = before
        if rating == self.ratings[-1]:  # the last rating before it: the practice starts now
            practice = self.practice()
            frames = guide_frames(practice)
            self.data["run_id"] = runs.start(self.turn.session, self.patient.id, self.family, practice.id, int(frames[-1][0]),
                                             self.turn.now, before)
        return "next"

    def ask_running(self) -> Question:
        frames = guide_frames(self.practice())
        return Question(frames[0][1], [Choice(STOP, _("Stop"))], guide=frames, guide_done=Choice(DONE, "·"))  # no letters: typing cannot match it

    def read_running(self, answer: Answer) -> str:
        # The guide played out (DONE), or the patient stopped it: Stop, or anything they sent.
        stop_if_dizzy(self.turn, answer.text)
        runs.end(self.turn.session, self.data["run_id"], answer.choice == DONE, self.turn.now)
        return "next"

    def plays_guide(self) -> bool:
        return self.state == RUNNING

    def interrupted(self) -> str | None:
        if self.plays_guide():  # the practice stopped with whatever they sent
            return self.read_running(Answer(choice=STOP))
        return None

    def finished(self) -> None:
        row = runs.run(self.turn.session, self.data["run_id"])
        lines = [_(CHANGES[rating]).format(before=getattr(row, f"{rating}_before"), after=getattr(row, f"{rating}_after"))
                 for rating in self.ratings]
        self.say(" ".join([*lines, _("Thank you for taking this time for yourself.")]))
