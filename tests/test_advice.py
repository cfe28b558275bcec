"""The coach never advises on medication or diet: the clinician's, and noted for the visit if wanted."""
from __future__ import annotations

from sqlalchemy import select

from dialogs.io import Message
from onboard import onboard
from storage.models import NotedQuestion


def test_a_medication_question_gets_no_advice_and_can_be_noted_for_the_visit(chat, database):
    onboard(chat)
    chat.say("Can I take more ibuprofen when it's bad?")
    assert "I can't give advice about medication: that's one for your clinician" in chat.text
    assert "What would you like to do?" in chat.texts[-1]  # the menu goes on
    reply = next(m for m in chat.outputs if isinstance(m, Message) and "advice about medication" in m.text)
    chat.last_buttons = {b.label: (b.id, None) for row in reply.buttons for b in row}
    chat.press("Note it for my next visit")
    assert "Noted." in chat.text
    chat.open("Prepare for a visit")
    chat.say("More good days")
    chat.say("A plan")
    chat.press("Skip this question")
    chat.press("No treatment is being considered")
    assert "My questions:\nCan I take more ibuprofen when it's bad?" in chat.text
    with database.transaction() as session:
        assert session.scalars(select(NotedQuestion)).one().used_at is not None


def test_medication_questions_in_every_language(new_chat, database):
    from screen import screen

    def kind_of(text):
        return next((o for o in screen(text).outcomes() if o in ("medication", "diet")), None)

    assert kind_of("¿Puedo tomar ibuprofeno con alcohol?") == "medication"
    assert kind_of("Darf ich mein Schmerzmittel absetzen?") == "medication"
    assert kind_of("Can I take a break?") is None and kind_of("I took a walk") is None


def test_naming_what_was_tried_in_the_pain_story_is_an_answer_not_a_question(chat, database):
    chat.command("start")
    chat.press("English")
    chat.press("Continue")
    chat.press("Yes, I agree")
    chat.press("Yes, I'm 18 or older")
    chat.press("London")
    chat.press("Yes, that's right")
    chat.say("Sam")
    chat.press("Skip this question")
    chat.press("Skip this question")
    chat.press("Skip this question")
    chat.say("I take tramadol and stopped gabapentin last year")
    assert "advice about medication" not in chat.text
    assert "good day" in chat.text


def test_diet_requests_get_no_plan(chat, database):
    onboard(chat)
    chat.say("What diet should I follow to lose weight?")
    assert "I can't give diet or weight-loss plans." in chat.text
