"""The pain education course on Telegram, in English, Spanish and German: a lesson planned by the
scheduler and sent when the clock reaches it, opened, its question answered wrong (after a typed
answer, which gets a kind word) and right, the next lesson now, pausing and resuming; and, through
the engine, what the scheduler must not do (a paused course, a withdrawn patient, a clinic that
turned the course off, quiet hours)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.delivery import prompt_deliverer
from bot.sender import Sender
from bot.telegram import build_application
from conftest import NOW
from dialogs.engine import Engine
from phone import Phone
from scheduler import lessons as lesson_planner
from scheduler.dispatcher import Dispatcher
from storage.models import DialogState, LessonCourse, LessonProgress, Patient, Prompt
from test_telegram import running

UTC = timezone.utc
FIRST_DUE = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # the day after onboarding, 10:00 in Madrid (09:00 check-in + 1 h)
USER = 7001

WORDS = {
    "en": {
        "invitation": "Your next pain lesson is ready: “Pain is a protector” (lesson 1 of 11).",
        "read": "Read it now", "lesson1": "Lesson 1 of 11: Pain is a protector", "source": "Source: Moseley GL",
        "question1": "What is pain's main job?", "kind": "Thank you for writing.",
        "wrong1": "To measure damage", "wrong_feedback": "Not quite. Pain's main job is to protect you.",
        "next": "Next lesson now", "lesson2": "Lesson 2 of 11: Hurt is not harm",
        "right2": "Get it checked by a doctor", "right_feedback": "Right. Familiar pain is usually hurt, not harm",
        "pause": "Pause the lessons", "paused": "The lessons are paused. You can start them again any time",
        "menu": "What would you like to do?", "learn": "Learn", "course": "Pain lessons",
        "overview": "Pain lessons: you have read 2 of 11 lessons.\nThe lessons are paused.", "resume": "Resume the lessons",
        "resumed": "The lessons are on again",
    },
    "es": {
        "invitation": "Tu siguiente lección sobre el dolor está lista: «El dolor es un protector» (lección 1 de 11).",
        "read": "Leerla ahora", "lesson1": "Lección 1 de 11: El dolor es un protector", "source": "Fuente: Moseley GL",
        "question1": "¿Cuál es la función principal del dolor?", "kind": "Gracias por escribir.",
        "wrong1": "Medir el daño", "wrong_feedback": "No exactamente. La función principal del dolor es protegerte.",
        "next": "Siguiente lección ahora", "lesson2": "Lección 2 de 11: Doler no es dañar",
        "right2": "Que lo revise un médico", "right_feedback": "Correcto. Un dolor conocido duele, pero no suele significar daño",
        "pause": "Pausar las lecciones", "paused": "Las lecciones están en pausa. Puedes reanudarlas cuando quieras",
        "menu": "¿Qué te gustaría hacer?", "learn": "Aprender", "course": "Lecciones sobre el dolor",
        "overview": "Lecciones sobre el dolor: has leído 2 de 11 lecciones.\nLas lecciones están en pausa.",
        "resume": "Reanudar las lecciones", "resumed": "Las lecciones vuelven a estar activas",
    },
    "de": {
        "invitation": "Ihre nächste Lektion zum Schmerz ist bereit: „Schmerz ist ein Beschützer“ (Lektion 1 von 11).",
        "read": "Jetzt lesen", "lesson1": "Lektion 1 von 11: Schmerz ist ein Beschützer", "source": "Quelle: Moseley GL",
        "question1": "Was ist die Hauptaufgabe des Schmerzes?", "kind": "Danke für Ihre Nachricht.",
        "wrong1": "Schaden messen", "wrong_feedback": "Nicht ganz. Die Hauptaufgabe des Schmerzes ist es, Sie zu schützen.",
        "next": "Nächste Lektion jetzt", "lesson2": "Lektion 2 von 11: Schmerz ist nicht Schaden",
        "right2": "Ärztlich abklären lassen", "right_feedback": "Richtig. Vertrauter Schmerz tut weh, bedeutet aber meist keinen Schaden",
        "pause": "Lektionen pausieren", "paused": "Die Lektionen sind pausiert. Sie können sie jederzeit wieder starten",
        "menu": "Was möchten Sie tun?", "learn": "Lernen", "course": "Lektionen zum Schmerz",
        "overview": "Lektionen zum Schmerz: Sie haben 2 von 11 Lektionen gelesen.\nDie Lektionen sind pausiert.",
        "resume": "Lektionen fortsetzen", "resumed": "Die Lektionen laufen wieder",
    },
}


def at_the_menu(database, telegram_id: int, language: str) -> int:
    """An onboarded patient who speaks `language`, at the menu, onboarded at NOW, in Madrid."""
    with database.transaction() as session:
        patient = Patient(clinic_id=database.default_clinic(session).id, channel="telegram", external_id=str(telegram_id), consent="given",
                          timezone="Europe/Madrid", language=language, onboarded_at=NOW, preferred_name="P", adult=True,
                          quiet_start="22:00", quiet_end="08:00")
        session.add(patient)
        session.flush()
        session.add(DialogState(patient_id=patient.id, dialog="menu", state="main", data={}, stack=[], step=1))
        return patient.id


def plan(database, now: datetime) -> int:
    with database.transaction() as session:
        return lesson_planner.plan(session, now)


def lesson_prompts(database) -> list[Prompt]:
    with database.transaction() as session:
        return list(session.scalars(select(Prompt).where(Prompt.kind == "lesson").order_by(Prompt.scheduled_for)))


def progress(database) -> dict[str, LessonProgress]:
    with database.transaction() as session:
        return {row.lesson: row for row in session.scalars(select(LessonProgress))}


def buttons_of_last(emulator, user_id: int) -> list[str]:
    return [label for label, _data in emulator.buttons(emulator.last_message(user_id))]


@pytest.mark.parametrize("language", ["en", "es", "de"])
async def test_a_lesson_sent_by_the_scheduler_answered_wrong_then_right_paused_and_resumed(emulator, database, database_url, calendar,
                                                                                          language):
    words = WORDS[language]
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    engine = Engine(database)
    app = build_application(settings, engine, sender=Sender(per_chat_interval=0.05))
    at_the_menu(database, USER, language)
    async with running(app, database):
        phone = Phone(emulator, USER, language)
        assert plan(database, NOW) == 1
        assert plan(database, NOW) == 0  # one lesson planned at a time
        [planned] = lesson_prompts(database)
        assert planned.scheduled_for == FIRST_DUE and planned.status == "scheduled"

        deliver = prompt_deliverer(app.bot, engine)
        assert await Dispatcher(database, engine, deliver, clock=lambda: FIRST_DUE - timedelta(minutes=1)).tick() == 0
        calendar.move_to(FIRST_DUE + timedelta(minutes=1))  # the clock moves on to the next morning
        assert await Dispatcher(database, engine, deliver).tick() == 1
        await phone.expect(words["invitation"])
        assert [p.status for p in lesson_prompts(database)] == ["sent"]

        phone.press(words["read"])
        await phone.expect(words["question1"])
        text = phone.latest_text()
        assert words["lesson1"] in text and words["source"] in text

        phone.send("I think it hurts because something is damaged")  # typed, not a button: a kind word, the question again
        await phone.expect(words["kind"])
        await phone.expect(words["question1"])
        assert words["wrong1"] in buttons_of_last(emulator, USER)

        phone.press(words["wrong1"])
        await phone.expect(words["wrong_feedback"])
        first = progress(database)["protector"]
        assert (first.source, first.language, first.answer, first.correct) == ("scheduled", language, "measure", False)
        assert first.opened_at is not None and first.answered_at is not None

        phone.press(words["next"])
        await phone.expect(words["lesson2"])
        phone.press(words["right2"])
        await phone.expect(words["right_feedback"])
        second = progress(database)["hurt_not_harm"]
        assert (second.source, second.answer, second.correct) == ("asked", "doctor", True)
        assert second.sent_at is not None and second.prompt_id is None

        phone.press(words["pause"])
        await phone.expect(words["paused"])
        await phone.expect(words["menu"])
        assert plan(database, NOW + timedelta(days=5)) == 0  # paused: nothing more is planned

        phone.press(words["learn"])
        await emulator.until(lambda: words["course"] in buttons_of_last(emulator, USER))
        phone.press(words["course"])
        await phone.expect(words["overview"])
        phone.press(words["resume"])
        await phone.expect(words["resumed"])

    with database.transaction() as session:
        assert session.scalars(select(LessonCourse)).one().paused is False
    assert plan(database, FIRST_DUE + timedelta(hours=1)) == 0  # two days after the last lesson: beyond the next 36 hours
    assert plan(database, FIRST_DUE + timedelta(days=1)) == 1
    # Two days after the lessons read on 29 November, an hour after the check-in time, in Madrid.
    assert lesson_prompts(database)[-1].scheduled_for == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
