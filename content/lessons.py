"""The pain education course from content/lessons.toml (checked when loaded): lessons in order,
each with its question, answer key, feedback and the dialog that puts it into practice."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from content.files import ContentError, load, require

WHERE = "content/lessons.toml"
MAX_WORDS = 150  # a lesson's text, in every language


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # msgid


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str  # msgid
    text: str  # msgid
    source: str  # msgid: a citation (its references kept as they are in every language)
    tool: str  # the registered name of the dialog it offers
    offer: str  # msgid: the button that opens it
    prompt: str  # msgid: the question
    choices: tuple[Option, ...]
    key: str  # the value of the right choice
    right: str  # msgid: feedback to a right answer
    wrong: str  # msgid: feedback to a wrong one


@dataclass(frozen=True)
class Course:
    lessons: tuple[Lesson, ...]
    reviewed: dict[str, bool]  # language -> a clinician of the clinic reviewed its wording

    def get(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def number(self, lesson_id: str) -> int:
        """1 for the first lesson."""
        return [lesson.id for lesson in self.lessons].index(lesson_id) + 1


def parse(data: dict) -> Course:
    reviewed = require(data, "reviewed", dict, WHERE)
    lessons = []
    for i, raw in enumerate(require(data, "lessons", list, WHERE)):
        at = f"{WHERE}: lessons[{i}]"
        question = require(raw, "question", dict, at)
        choices = tuple(Option(require(c, "value", str, f"{at}.question"), require(c, "label", str, f"{at}.question"))
                        for c in require(question, "choices", list, f"{at}.question"))
        key = require(question, "key", str, f"{at}.question")
        if key not in {c.value for c in choices}:
            raise ContentError(f"{at}.question: key {key!r} is not one of its choices")
        lessons.append(Lesson(
            id=require(raw, "id", str, at), title=require(raw, "title", str, at), text=require(raw, "text", str, at),
            source=require(raw, "source", str, at), tool=require(raw, "tool", str, at), offer=require(raw, "offer", str, at),
            prompt=require(question, "prompt", str, f"{at}.question"), choices=choices, key=key,
            right=require(question, "right", str, f"{at}.question"), wrong=require(question, "wrong", str, f"{at}.question"),
        ))
    if len({lesson.id for lesson in lessons}) != len(lessons):
        raise ContentError(f"{WHERE}: lesson ids must be unique")
    return Course(tuple(lessons), {str(k): bool(v) for k, v in reviewed.items()})


@cache
def course() -> Course:
    return parse(load("lessons"))
