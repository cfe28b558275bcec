"""What the lesson dialog, the course dialog and a lesson's invitation share: a lesson's words, and
opening one (dialogs/lesson.py asks its question; dialogs/course.py is the course in the menu)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from content.lessons import Lesson, course
from dialogs.base import Call
from locales import _
from storage import lessons

if TYPE_CHECKING:
    from dialogs.base import Turn

LESSON = "lesson"  # the dialog that asks a lesson's question


def words(lesson: Lesson) -> str:
    """The lesson as the patient reads it: its number, title, text and source."""
    whole = course()
    heading = _("Lesson {number} of {total}: {title}").format(
        number=whole.number(lesson.id), total=len(whole.lessons), title=_(lesson.title))
    return f"{heading}\n\n{_(lesson.text)}\n\n" + _("Source: {source}").format(source=_(lesson.source))


def next_one(turn: "Turn") -> Lesson | None:
    """The first lesson the patient has not opened, or None when they have read them all."""
    found = lessons.next_lesson(turn.session, turn.patient.id, [lesson.id for lesson in course().lessons])
    return course().get(found) if found else None


def show(turn: "Turn", lesson: Lesson, *, asked: bool) -> None:
    """Say the lesson and note it opened; its question comes next (the lesson dialog)."""
    lessons.opened(turn.session, turn.patient.id, lesson.id, turn.now, turn.patient.language, asked=asked)
    turn.say(words(lesson))


def invite(turn: "Turn", prompt_id: int) -> str | None:
    """A scheduled lesson's invitation, or None if the prompt carries no lesson."""
    lesson = course().get(lessons.lesson_of_prompt(turn.session, prompt_id) or "")
    if lesson is None:
        return None
    return _("Your next pain lesson is ready: “{title}” (lesson {number} of {total}).").format(
        title=_(lesson.title), number=course().number(lesson.id), total=len(course().lessons))


def start(turn: "Turn", prompt_id: int) -> Call | None:
    """The patient opened a scheduled lesson: say it, then its question."""
    lesson = course().get(lessons.lesson_of_prompt(turn.session, prompt_id) or "")
    if lesson is None:
        return None
    show(turn, lesson, asked=False)
    return Call(LESSON, data={"lesson": lesson.id})
