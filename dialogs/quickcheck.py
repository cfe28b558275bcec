"""The quick thought-check for a flare: the feared prediction, how likely it really is, what you
would tell a friend, one helpful next step. Diagram: docs/dialogs/quickcheck.md."""
from __future__ import annotations

from dialogs.base import Answer, Invalid, Question, in_order
from dialogs.thoughts import WrittenRecord, rating_question, read_rating, record
from locales import N_, _

WORDS = {
    "prediction": ("thought", N_("In this flare, what are you afraid will happen?")),
    "friend": ("balanced_thought", N_("If a friend in the same flare said that to you, what would you tell them?")),
    "next_step": ("next_step", N_("What is one small, helpful thing you could do next?")),
}


class QuickCheck(WrittenRecord):
    name = "quickcheck"
    words = WORDS
    kind = "quick"
    states = ["prediction", "likelihood", "friend", "next_step", "done"]
    initial = "prediction"
    transitions = in_order(states)

    def invites_dark_thoughts(self) -> bool:
        return self.state == "prediction"

    def ask_likelihood(self) -> Question:
        return rating_question(_("How likely is it really, from 0 to 100?"))

    def read_likelihood(self, answer: Answer) -> str | Invalid:
        value = read_rating(answer)
        if isinstance(value, Invalid):
            return value
        record(self.turn, self.data, "quick", belief_before=value)
        return "next"

    def finished(self) -> None:
        row = record(self.turn, self.data, "quick")
        row.completed_at = self.turn.now
        self.say(_("Thank you. Your next step: {step}\nGo gently with yourself today.").format(step=row.next_step))
