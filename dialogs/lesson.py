"""One lesson of the pain education course, after its text was shown (dialogs/learning.py): its
question, the feedback, and what next: the tool it links to, the next lesson now, pausing the
course, or the menu. A typed answer that is not one of the buttons gets a kind word and the
question again. Diagram: docs/dialogs/lesson.md."""
from __future__ import annotations

from content.lessons import Lesson, course
from dialogs import learning
from dialogs.base import Answer, Call, Choice, Dialog, Invalid, Question
from locales import _
from storage import lessons

TOOL, NEXT, PAUSE, MENU = "tool", "next", "pause", "menu"


class LessonDialog(Dialog):
    name = learning.LESSON
    states = ["question", "after", "tool", "done"]
    initial = "question"
    transitions = [
        {"trigger": "answered", "source": "question", "dest": "after"},
        {"trigger": "practise", "source": "after", "dest": "tool"},
        {"trigger": "another", "source": "after", "dest": "question"},
        {"trigger": "leave", "source": ["after", "tool"], "dest": "done"},
    ]

    @property
    def lesson(self) -> Lesson:
        return course().get(self.data["lesson"])

    def ask_question(self) -> Question:
        lesson = self.lesson
        return Question(_(lesson.prompt), [Choice(option.value, _(option.label)) for option in lesson.choices])

    def read_question(self, answer: Answer) -> str | Invalid | None:
        lesson = self.lesson
        if answer.choice is None:
            if self.turn.replied:  # the safety screen or the advice answered what they wrote: just the question again
                return None
            return Invalid(_("Thank you for writing. To answer this lesson's question, please tap one of the buttons "
                             "below; you can tell me anything else afterwards."))
        if answer.choice not in {option.value for option in lesson.choices}:
            return None
        correct = answer.choice == lesson.key
        lessons.answered(self.turn.session, self.patient.id, lesson.id, answer.choice, correct, self.turn.now)
        self.say(_(lesson.right) if correct else _(lesson.wrong))
        return "answered"

    def ask_after(self) -> Question:
        choices = [Choice(TOOL, _(self.lesson.offer))]
        if self.patient.clinic.setting("lessons_enabled") and learning.next_one(self.turn) is not None:
            choices.append(Choice(NEXT, _("Next lesson now")))
        choices += [Choice(PAUSE, _("Pause the lessons")), Choice(MENU, _("Back to the menu"))]
        return Question(_("What would you like to do next?"), choices)

    def read_after(self, answer: Answer) -> str | None:
        if answer.choice == TOOL:
            return "practise"
        if answer.choice == NEXT:
            following = learning.next_one(self.turn)
            if following is None:
                return None
            learning.show(self.turn, following, asked=True)
            self.data["lesson"] = following.id
            return "another"
        if answer.choice == PAUSE:
            lessons.set_paused(self.turn.session, self.patient.id, True, self.turn.now)
            self.say(_("The lessons are paused. You can start them again any time: Learn, in the /menu."))
            return "leave"
        return "leave" if answer.choice == MENU else None

    def ask_tool(self) -> Call:
        return Call(self.lesson.tool, on_return="leave")
