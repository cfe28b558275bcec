"""The patient's home exercise log, through the real Application and the Bot API emulator in English,
Spanish and German: today's exercises with the physio's note, done / part / skipped with pain
before and after, bad input answered kindly with nothing lost, the pain-rise rule, the weeks chart."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.sender import Sender
from bot.telegram import build_application
from conftest import NOW
from dialogs.engine import Engine
from phone import Phone
from storage.models import Exercise, ExerciseLog
from test_exercises_clinic import a_patient
from test_telegram import running

WORDS = {
    "en": {"plan": "Plan and pace", "tool": "My home exercises", "today": "Your home exercises today:", "amount": "3 × 10 repetitions",
           "week": "This week: 0 of 3", "log": "Log: Sit to stand", "note": "Your physio's note: Slowly, hands on the table",
           "how": "How did it go today?", "done": "Done", "part": "Part of it", "skip": "Skipped today",
           "buttons": "Please choose one of the buttons below.", "before": "What was your pain just before you started",
           "range": "Please send a whole number from 0 to 10.", "after": "And your pain now, after it",
           "noted": "Noted: Sit to stand, done. Pain 2 before, 6 after. This week: 1 of 3.",
           "once": "Your pain rose by 4 points after it.", "twice": "Please tell your physio before you do it again",
           "skipped": "Noted as skipped.", "chart": "My exercise weeks", "weeks": "Week of 23 Nov 2026: ▰▰▱▱▱▱▱ 2 of 7",
           "walk": "Walk: 15 minutes"},
    "es": {"plan": "Planificar y dosificar", "tool": "Mis ejercicios en casa", "today": "Tus ejercicios en casa de hoy:",
           "amount": "3 × 10 repeticiones", "week": "Esta semana: 0 de 3", "log": "Anotar: Sit to stand",
           "note": "La nota de tu fisioterapeuta: Slowly, hands on the table", "how": "¿Cómo te ha ido hoy?", "done": "Listo",
           "part": "Una parte", "skip": "Hoy no lo hice", "buttons": "elige uno de los botones",
           "before": "¿Cuánto dolor tenías justo antes de empezar", "range": "número entero del 0 al 10",
           "after": "¿Y tu dolor ahora, después del ejercicio", "noted": "Anotado: Sit to stand, hecho. Dolor 2 antes, 6 después. Esta semana: 1 de 3.",
           "once": "Tu dolor subió 4 puntos después del ejercicio.", "twice": "Cuéntaselo a tu fisioterapeuta antes de volver a hacerlo",
           "skipped": "Anotado como no hecho.", "chart": "Mis semanas de ejercicio", "weeks": "Semana del 23 nov 2026: ▰▰▱▱▱▱▱ 2 de 7",
           "walk": "Walk: 15 minutos"},
    "de": {"plan": "Planen und einteilen", "tool": "Meine Übungen für zu Hause", "today": "Ihre Übungen für zu Hause heute:",
           "amount": "3 × 10 Wiederholungen", "week": "Diese Woche: 0 von 3", "log": "Eintragen: Sit to stand",
           "note": "Notiz Ihrer Physiotherapie: Slowly, hands on the table", "how": "Wie ist es heute gelaufen?", "done": "Fertig",
           "part": "Einen Teil", "skip": "Heute ausgelassen", "buttons": "Bitte wählen Sie",
           "before": "Wie stark waren Ihre Schmerzen direkt vor dem Beginn", "range": "ganze Zahl von 0 bis 10",
           "after": "Und Ihre Schmerzen jetzt, nach der Übung", "noted": "Notiert: Sit to stand, erledigt. Schmerzen 2 vorher, 6 nachher. Diese Woche: 1 von 3.",
           "once": "Ihre Schmerzen sind danach um 4 Punkte gestiegen.", "twice": "Bitte sagen Sie es Ihrer Physiotherapeutin",
           "skipped": "Als ausgelassen notiert.", "chart": "Meine Übungswochen", "weeks": "Woche vom 23.11.2026: ▰▰▱▱▱▱▱ 2 von 7",
           "walk": "Walk: 15 Minuten"},
}


def buttons_of_last(emulator, user_id: int) -> list[str]:
    last = emulator.last_message(user_id)
    return [label for label, _data in emulator.buttons(last)] if last else []


def prescribed(database, patient_id: int) -> tuple[int, int]:
    with database.transaction() as session:
        squat = Exercise(patient_id=patient_id, name="Sit to stand", sets=3, reps=10, days_per_week=4, note="Slowly, hands on the table",
                         progression="none", prescribed_by="test", prescribed_at=NOW - timedelta(days=3))
        walk = Exercise(patient_id=patient_id, name="Walk", minutes=15, days_per_week=5, progression="none", prescribed_by="test",
                        prescribed_at=NOW - timedelta(days=3))
        session.add_all([squat, walk])
        session.flush()
        return squat.id, walk.id


def logs(database) -> list[tuple]:
    with database.transaction() as session:
        return [(log.exercise_id, str(log.local_date), log.outcome, log.pain_before, log.pain_after, log.dose)
                for log in session.scalars(select(ExerciseLog).order_by(ExerciseLog.id))]


@pytest.mark.parametrize("language", ["en", "es", "de"])
async def test_a_patient_logs_home_exercises_on_telegram(emulator, database, database_url, language):
    w = WORDS[language]
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    clock = {"now": NOW}
    app = build_application(settings, Engine(database, clock=lambda: clock["now"]), sender=Sender(per_chat_interval=0.05))
    squat, walk = prescribed(database, a_patient(database, language=language))
    async with running(app, database):
        phone = Phone(emulator, 7001, language)
        phone.send("/menu")
        await emulator.until(lambda: w["plan"] in buttons_of_last(emulator, 7001))
        phone.press(w["plan"])
        await emulator.until(lambda: w["tool"] in buttons_of_last(emulator, 7001))
        phone.press(w["tool"])
        seen = await phone.expect(w["today"])
        assert w["amount"] in seen and w["week"] in seen and w["walk"] in seen

        phone.press(w["log"])
        seen = await phone.expect(w["how"])
        assert w["note"] in seen
        phone.send("I did it")  # text where a button was expected: a kind word, the same question
        await phone.expect(w["buttons"])
        phone.press(w["done"])
        await phone.expect(w["before"])
        phone.send("11")  # out of range: asked again, nothing kept
        await phone.expect(w["range"])
        assert logs(database) == []
        phone.send("2")
        await phone.expect(w["after"])
        phone.press("6")
        seen = await phone.expect(w["once"])
        assert w["noted"] in seen
        await phone.expect(w["today"])
        assert logs(database) == [(squat, "2026-11-28", "done", 2, 6, 10.0)]

        clock["now"] = NOW + timedelta(days=1)  # the next day: a second rise running
        phone.press(w["log"])
        await phone.expect(w["how"])
        phone.press(w["part"])
        await phone.expect(w["before"])
        phone.press("3")
        await phone.expect(w["after"])
        phone.send("7")
        seen = await phone.expect(w["twice"])
        assert logs(database)[1:] == [(squat, "2026-11-29", "part", 3, 7, 10.0)]
        assert "push" not in seen.lower()

        await phone.expect(w["today"])
        phone.press(w["log"].replace("Sit to stand", "Walk"))
        await phone.expect(w["how"])
        phone.press(w["skip"])
        await phone.expect(w["skipped"])
        await phone.expect(w["today"])
        assert logs(database)[-1] == (walk, "2026-11-29", "skipped", None, None, 15.0)

        phone.press(w["chart"])
        await phone.expect(w["weeks"])


def test_mydata_carries_the_exercises_and_their_logs(chat, database):
    import json

    from dialogs.io import File
    from onboard import onboard
    from storage.models import Patient

    onboard(chat)
    with database.transaction() as session:
        patient_id = session.scalars(select(Patient)).one().id
    squat, _walk = prescribed(database, patient_id)
    chat.open("My home exercises")
    chat.press("Log: Sit to stand")
    chat.press("Skipped today")
    chat.command("mydata")
    [file] = [o for o in chat.outputs if isinstance(o, File)]
    data = json.loads(file.data)
    assert [e["name"] for e in data["exercises"]] == ["Sit to stand", "Walk"]
    assert [(log["exercise_id"], log["outcome"]) for log in data["exercise_logs"]] == [(squat, "skipped")]


def test_a_planned_rise_is_shown_as_the_physios_and_an_exercise_stopped_meanwhile_logs_nothing(chat, database):
    from onboard import onboard
    from storage.models import Patient

    onboard(chat)
    with database.transaction() as session:
        patient_id = session.scalars(select(Patient)).one().id
        row = Exercise(patient_id=patient_id, name="Step ups", sets=2, reps=10, days_per_week=3, progression="pacing",
                       prescribed_by="test", prescribed_at=NOW - timedelta(days=15))
        session.add(row)
        session.flush()
        first = (NOW - timedelta(days=15)).date()
        session.add_all([ExerciseLog(exercise_id=row.id, local_date=first + timedelta(days=day), outcome="done", dose=10, logged_at=NOW)
                         for day in (0, 2, 4, 7, 9, 11)])
    chat.open("My home exercises")
    assert "Step ups: 2 × 12 repetitions (up from 10, a step your physio planned)" in chat.text  # two weeks done: +10 % twice
    chat.press("Log: Step ups")
    with database.transaction() as session:
        session.scalars(select(Exercise)).one().stopped_at = NOW
    chat.press("Done")
    assert "Your clinic has just stopped this exercise" in chat.text
    assert "Log: Step ups" not in chat.buttons and len(logs(database)) == 6  # nothing new


@pytest.mark.parametrize("stage", ["pain_before", "pain_after"])
def test_an_exercise_stopped_while_pain_is_asked_logs_nothing(chat, database, stage):
    from onboard import onboard
    from storage.models import Patient

    onboard(chat)
    with database.transaction() as session:
        patient_id = session.scalars(select(Patient)).one().id
    squat, _walk = prescribed(database, patient_id)
    chat.open("My home exercises")
    chat.press("Log: Sit to stand")
    chat.press("Done")
    if stage == "pain_after":
        chat.press("2")
    with database.transaction() as session:
        session.get(Exercise, squat).stopped_at = NOW
    chat.press("3")
    assert "Your clinic has just stopped this exercise" in chat.text
    assert "Log: Sit to stand" not in chat.buttons and "Log: Walk" in chat.buttons and logs(database) == []
