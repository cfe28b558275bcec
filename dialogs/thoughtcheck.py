"""A thought-check (CBT thought record): from a situation and a thought to a balanced thought,
with the change in belief shown back. Diagram: docs/dialogs/thoughtcheck.md.

Each answer is saved as it arrives, so a thought-check left halfway keeps what was written.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from content.thinking import traps
from dialogs.base import Answer, Choice, Invalid, Question, in_order
from dialogs.thoughts import WrittenRecord, rating_question, read_rating, record
from locales import N_, _

if TYPE_CHECKING:
    pass

NONE, EXPLAIN = "none", "explain"
# (state, column, question) for the questions answered in the patient's own words
WORDS = {
    "situation": ("situation", N_("What happened? Describe the situation in a sentence or two: where, when, what.")),
    "emotion": ("emotion", N_("What did you feel? One or two words, such as anxious, sad, angry or frustrated.")),
    "thought": ("thought", N_("What went through your mind? Write the thought as it came.")),
    "evidence_for": ("evidence_for", N_("What supports that thought? The facts, not the feelings.")),
    "evidence_against": ("evidence_against", N_("What doesn't fit it? Anything that points the other way, however small.")),
    "balanced": ("balanced_thought", N_("Now try a more balanced thought, one that takes both sides into account.")),
}


class ThoughtCheck(WrittenRecord):
    name = "thoughtcheck"
    words = WORDS
    kind = "full"
    states = ["situation", "emotion", "emotion_rating", "thought", "belief", "trap", "evidence_for", "evidence_against",
              "balanced", "belief_after", "emotion_after", "done"]
    initial = "situation"
    transitions = in_order(states)

    def read(self, answer: Answer) -> str | Invalid | None:
        if self.state == "emotion" and answer.text:
            self.data["emotion"] = answer.text.strip()  # named again when it is re-rated
        return super().read(answer)

    def invites_dark_thoughts(self) -> bool:
        return self.state in ("situation", "thought", "evidence_for", "evidence_against")

    def ask_emotion_rating(self) -> Question:
        return rating_question(_("How strong was that feeling, from 0 to 100?"))

    def read_emotion_rating(self, answer: Answer) -> str | Invalid:
        return self._rate("emotion_before", answer)

    def ask_belief(self) -> Question:
        return rating_question(_("How much do you believe that thought right now, from 0 to 100?"))

    def read_belief(self, answer: Answer) -> str | Invalid:
        return self._rate("belief_before", answer)

    def ask_trap(self) -> Question:
        choices = [Choice(trap.id, _(trap.label)) for trap in traps()]
        choices += [Choice(NONE, _("None of these")), Choice(EXPLAIN, _("What do these mean?"))]
        return Question(_("Does the thought fall into one of these thinking traps?"), choices, columns=2)

    def read_trap(self, answer: Answer) -> str | Invalid | None:
        if answer.choice == EXPLAIN:
            return Invalid("\n\n".join(f"{_(t.label)}: {_(t.text)}\n{_(t.example)}" for t in traps()))
        if answer.choice == NONE or answer.choice in {t.id for t in traps()}:
            record(self.turn, self.data, "full", trap=None if answer.choice == NONE else answer.choice)
            return "next"
        return None

    def ask_belief_after(self) -> Question:
        return rating_question(_("How much do you believe the first thought now, from 0 to 100?"))

    def read_belief_after(self, answer: Answer) -> str | Invalid:
        return self._rate("belief_after", answer)

    def ask_emotion_after(self) -> Question:
        return rating_question(_("And how strong is the feeling ({emotion}) now, from 0 to 100?").format(emotion=self.data.get("emotion", "")))

    def read_emotion_after(self, answer: Answer) -> str | Invalid:
        return self._rate("emotion_after", answer)

    def _rate(self, column: str, answer: Answer) -> str | Invalid:
        value = read_rating(answer)
        if isinstance(value, Invalid):
            return value
        record(self.turn, self.data, "full", **{column: value})
        return "next"

    def finished(self) -> None:
        row = record(self.turn, self.data, "full")
        row.completed_at = self.turn.now
        self.say(
            _("Your belief in the thought went from {before} to {after}, and the feeling from {feeling_before} to {feeling_after}.").format(
                before=row.belief_before, after=row.belief_after, feeling_before=row.emotion_before, feeling_after=row.emotion_after
            )
            + "\n"
            + (_("Well done for taking the time.") if row.belief_after < row.belief_before
               else _("That's all right: noticing a thought is a step too."))
        )
