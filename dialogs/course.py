"""The pain education course in the menu (Learn): how far the patient is, the next lesson now,
a lesson read before read again, pausing and resuming the lessons. Diagram: docs/dialogs/course.md."""
from __future__ import annotations

from content.lessons import course
from dialogs import learning
from dialogs.base import Answer, Call, Choice, Dialog, Question
from locales import _, ngettext
from storage import lessons

NEXT, AGAIN, PAUSE, RESUME, BACK = "next", "again", "pause", "resume", "back"


class Course(Dialog):
    name = "course"
    states = ["overview", "reading", "past", "done"]
    initial = "overview"
    transitions = [
        {"trigger": "read_now", "source": "overview", "dest": "reading"},
        {"trigger": "changed", "source": "overview", "dest": "overview"},
        {"trigger": "look_back", "source": "overview", "dest": "past"},
        {"trigger": "looked", "source": "past", "dest": "overview"},
        {"trigger": "close", "source": ["overview", "reading"], "dest": "done"},
    ]

    def ask_overview(self) -> Question:
        total = len(course().lessons)
        if not self.patient.clinic.setting("lessons_enabled"):
            return Question(_("Your clinic has not turned the pain lessons on."), [Choice(BACK, _("Back to the menu"))])
        read, _right = lessons.counts(self.turn.session, self.patient.id)
        lines = [ngettext("Pain lessons: you have read {read} of {total} lesson.",
                          "Pain lessons: you have read {read} of {total} lessons.", total).format(read=read, total=total)]
        paused = lessons.paused(self.turn.session, self.patient.id)
        choices = []
        if learning.next_one(self.turn) is not None:
            if paused:
                lines.append(_("The lessons are paused."))
            elif self.patient.checkins_paused:  # the one switch holds lessons too
                lines.append(_("Your reminders are paused, so no new lesson comes on its own; you can still read the next one now."))
            else:
                lines.append(_("A new lesson comes every few days."))
            choices.append(Choice(NEXT, _("Next lesson now")))
            choices.append(Choice(RESUME, _("Resume the lessons")) if paused else Choice(PAUSE, _("Pause the lessons")))
        else:
            lines.append(_("You have read every lesson. Well done!"))
        if read:
            choices.append(Choice(AGAIN, _("Read a lesson again")))
        choices.append(Choice(BACK, _("Back to the menu")))
        return Question("\n".join(lines), choices)

    def read_overview(self, answer: Answer) -> str | None:
        if answer.choice == BACK:
            return "close"
        if not self.patient.clinic.setting("lessons_enabled"):
            return None
        if answer.choice == NEXT and (lesson := learning.next_one(self.turn)) is not None:
            learning.show(self.turn, lesson, asked=True)
            self.data["lesson"] = lesson.id
            return "read_now"
        if answer.choice == AGAIN:
            return "look_back"
        if answer.choice in (PAUSE, RESUME):
            lessons.set_paused(self.turn.session, self.patient.id, answer.choice == PAUSE, self.turn.now)
            self.say(_("The lessons are paused. You can start them again here any time.") if answer.choice == PAUSE
                     else _("The lessons are on again: the next one comes in a few days."))
            return "changed"
        return None

    def ask_past(self) -> Question:
        done = lessons.progress(self.turn.session, self.patient.id)
        read = [lesson for lesson in course().lessons if lesson.id in done and done[lesson.id].opened_at is not None]
        choices = [Choice(lesson.id, f"{course().number(lesson.id)}. {_(lesson.title)}") for lesson in read]
        return Question(_("Which lesson would you like to read again?"), [*choices, Choice(BACK, _("Back"))])

    def read_past(self, answer: Answer) -> str | None:
        if answer.choice == BACK:
            return "looked"
        lesson = course().get(answer.choice or "")
        if lesson is None or answer.choice not in {choice.value for choice in self.ask_past().choices}:
            return None
        self.say(learning.words(lesson))
        return "looked"

    def ask_reading(self) -> Call:
        return Call(learning.LESSON, on_return="close", data={"lesson": self.data["lesson"]})
