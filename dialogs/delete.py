"""/delete: the patient erases everything the coach keeps about them, after saying so twice
(the command, then the button). Diagram: docs/dialogs/delete.md.

"deleted" is deliberately not a final state: a final state returns to the dialog underneath, and
after an erasure there is no patient left to return to. The farewell is the last thing said;
whatever the person sends next starts a new patient, from the beginning.
"""
from __future__ import annotations

from dialogs.base import Answer, Choice, Dialog, Question
from locales import _
from storage import audit
from storage.erase import erase_patient

DELETE, KEEP = "delete", "keep"
ACTOR = "patient"  # in the audit: the patient asked, not someone at the clinic


class Delete(Dialog):
    name = "delete"
    states = ["confirm", "kept", "deleted"]
    initial = "confirm"
    final = frozenset({"kept"})
    transitions = [
        {"trigger": "erased", "source": "confirm", "dest": "deleted"},
        {"trigger": "kept_data", "source": "confirm", "dest": "kept"},
    ]

    def ask_confirm(self) -> Question:
        text = "\n\n".join(
            [
                _("You can delete everything I keep about you. Here is what that means:"),
                _("I erase your answers and check-ins, everything you wrote to me (your pain story, thought-checks, "
                  "your flare plan and safety plan, your questions) and your check-in times. This can't be undone."),
                _("Your clinic keeps only your study code: in its records, with a count of what was erased, and on "
                  "any safety alert it was sent, so its team can still follow up. Anything your clinic already "
                  "exported or printed is outside this chat: please ask your clinic if you would like that removed too."),
                _("If you'd like a copy first, send /mydata before you choose."),
                _("Do you want me to delete everything?"),
            ]
        )
        # "Yes"/"No" first, so typing yes or no works as it does for the other yes/no questions.
        # Translators: keep the word for "yes" / "no" first (typed yes or no is matched on it).
        return Question(text, [Choice(DELETE, _("Yes, delete everything")), Choice(KEEP, _("No, keep my data"))])

    def read_confirm(self, answer: Answer) -> str | None:
        if answer.choice == DELETE:
            study_code, clinic_id = self.patient.study_code, self.patient.clinic_id
            audit.record_erasure(self.turn.session, ACTOR, self.turn.now, study_code, clinic_id,
                                 erase_patient(self.turn.session, self.patient))
            return "erased"
        if answer.choice == KEEP:
            return "kept_data"
        return None

    def ask_deleted(self) -> Question:
        # No buttons: there is no one left to bind them to.
        return Question(
            _("Done: everything I kept about you is deleted. Thank you for the time you spent with me, "
              "and take good care of yourself. The messages in this chat stay on your device until you clear "
              "the chat. If you write to me again, we'll start from the beginning.")
        )

    def read_deleted(self, answer: Answer) -> None:  # never reached: the next message is a new patient's
        return None

    def finished(self) -> None:
        self.say(_("Good, I've kept everything as it was."))
