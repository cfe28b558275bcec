"""The pain education course as data: every lesson short enough in every language, every question
with its answer key and feedback in every language, every linked tool a dialog that exists, and a
"clinician-reviewed" flag per language that stays false until a clinic has reviewed the wording."""
from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

import locales
from content import ContentError
from content.lessons import MAX_WORDS, course, parse
from dialogs.registry import DIALOGS
from exports.dictionary import ACTIVITY_NOTES

LANGUAGES = ("en", "es", "de")
TOPICS = {  # what the course must cover, by lesson id
    "hurt_not_harm", "volume", "flares", "pacing", "sleep", "stress", "signals", "setbacks", "four_questions",
}


def catalog(language: str):
    with open(f"locales/{language}/LC_MESSAGES/messages.po", "rb") as po:
        return read_po(po)


def words(text: str) -> int:
    return len(re.findall(r"\w[\w'’-]*", text))


def test_ten_to_twelve_lessons_cover_the_topics_in_order():
    lessons = course().lessons
    assert 10 <= len(lessons) <= 12
    assert TOPICS <= {lesson.id for lesson in lessons}
    assert [course().number(lesson.id) for lesson in lessons] == list(range(1, len(lessons) + 1))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_lesson_is_at_most_150_words_in_every_language(language):
    with locales.use(language):
        for lesson in course().lessons:
            text = locales._(lesson.text)
            assert language == "en" or text != lesson.text, f"{lesson.id} is not translated into {language}"
            assert words(text) <= MAX_WORDS, f"{lesson.id} in {language}: {words(text)} words"


@pytest.mark.parametrize("language", ("es", "de"))
def test_every_word_of_a_lesson_is_translated_and_not_fuzzy(language):
    messages = catalog(language)
    for lesson in course().lessons:
        for msgid in (lesson.title, lesson.text, lesson.source, lesson.offer, lesson.prompt, lesson.right, lesson.wrong,
                      *(option.label for option in lesson.choices)):
            message = messages.get(msgid)
            assert message is not None and message.string and not message.fuzzy, f"{lesson.id}: {msgid!r} in {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_question_has_a_key_among_its_choices_and_feedback_for_both(language):
    with locales.use(language):
        for lesson in course().lessons:
            assert len(lesson.choices) >= 2 and lesson.key in {option.value for option in lesson.choices}
            right, wrong = locales._(lesson.right), locales._(lesson.wrong)
            assert right.strip() and wrong.strip() and right != wrong, lesson.id
            labels = [locales._(option.label) for option in lesson.choices]
            assert len(set(labels)) == len(labels), f"{lesson.id}: two choices read the same in {language}"


def test_every_lesson_cites_a_source_and_links_a_tool_that_exists():
    for lesson in course().lessons:
        assert len(lesson.source) > 10, lesson.id
        assert lesson.tool in DIALOGS, f"{lesson.id} links to {lesson.tool!r}, which is no dialog"
    assert course().get("pacing").tool == "pacing"  # the pacing lesson offers pacing


def test_hurt_is_not_harm_keeps_the_red_flag_exception_and_no_lesson_gives_medication_advice():
    hurt = course().get("hurt_not_harm")
    assert "New or different symptoms need a doctor" in hurt.text
    for lesson in course().lessons:
        text = " ".join((lesson.text, lesson.right, lesson.wrong)).lower()
        assert not re.search(r"\b(dose|dosage|tablet|pill|painkiller|opioid|ibuprofen|paracetamol)s?\b", text), lesson.id
        assert "push through" not in text


def test_each_language_has_a_clinician_reviewed_flag_false_until_reviewed():
    assert course().reviewed == {"en": False, "es": False, "de": False}


def test_a_key_that_is_not_a_choice_is_refused_by_name():
    lesson = {"id": "x", "title": "T", "text": "t", "source": "s", "tool": "pacing", "offer": "o",
              "question": {"prompt": "p", "key": "c", "right": "r", "wrong": "w",
                           "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}}
    with pytest.raises(ContentError, match=r"lessons\[0\].question: key 'c' is not one of its choices"):
        parse({"reviewed": {}, "lessons": [lesson]})


def test_the_data_dictionary_describes_the_lesson_rows():
    assert "lesson" in ACTIVITY_NOTES and "correct" in ACTIVITY_NOTES["lesson"]
