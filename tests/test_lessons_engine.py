"""The pain education course through the engine: what the scheduler must not plan or send (a paused
course, a withdrawn patient, a clinic that turned it off, quiet hours), the pacing lesson's link to
pacing, stale buttons and typed labels, the end of the course, the clinic's settings, the export and
erasure."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from clinic.settings import SettingRefused, set_setting
from conftest import NOW, Chat
from content.lessons import course
from dialogs.engine import Engine
from exports import bundle
from exports.source import Filters
from onboard import onboard
from scheduler import lessons as lesson_planner
from scheduler.dispatcher import Dispatcher
from storage.models import Clinic, DialogState, LessonCourse, LessonProgress, Patient, Prompt

UTC = timezone.utc
DUE = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)  # London: the day after onboarding, 09:00 check-in + 1 h


def plan(database, now: datetime = NOW) -> int:
    with database.transaction() as session:
        return lesson_planner.plan(session, now)


def lesson_prompts(database) -> list[Prompt]:
    with database.transaction() as session:
        return list(session.scalars(select(Prompt).where(Prompt.kind == "lesson").order_by(Prompt.id)))


def progress(database) -> dict[str, LessonProgress]:
    with database.transaction() as session:
        return {row.lesson: row for row in session.scalars(select(LessonProgress))}


class Outbox:
    def __init__(self):
        self.sent = []

    async def deliver(self, external_id, outputs):
        self.sent.append((external_id, outputs))
        return len(self.sent)


def set_clinic(database, key: str, raw: str) -> None:
    with database.transaction() as session:
        set_setting(session.scalars(select(Clinic)).first(), key, raw)


def test_the_first_lesson_is_planned_for_the_next_day_an_hour_after_the_check_in(chat, database):
    onboard(chat)
    assert plan(database) == 1 and plan(database) == 0
    [prompt] = lesson_prompts(database)
    assert (prompt.scheduled_for, prompt.status, prompt.local_date.isoformat()) == (DUE, "scheduled", "2026-11-29")
    assert progress(database)["protector"].prompt_id == prompt.id


def test_a_lesson_that_would_fall_in_quiet_hours_waits_for_their_end(chat, database):
    onboard(chat)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        patient.quiet_start, patient.quiet_end = "08:00", "12:00"
    plan(database)
    assert lesson_prompts(database)[0].scheduled_for == datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


async def test_nothing_goes_to_a_patient_who_withdrew_and_nothing_is_planned_for_them(chat, database):
    onboard(chat)
    plan(database)
    chat.command("withdraw")
    outbox = Outbox()
    assert await Dispatcher(database, Engine(database), outbox.deliver, clock=lambda: DUE + timedelta(minutes=1)).tick() == 0
    assert outbox.sent == [] and plan(database, DUE + timedelta(days=3)) == 0


async def test_a_clinic_that_turns_the_course_off_gets_nothing_planned_and_what_waits_is_taken_back(chat, database):
    onboard(chat)
    plan(database)
    set_clinic(database, "lessons_enabled", "false")
    assert plan(database) == 0 and lesson_prompts(database) == []
    chat.open("Pain lessons")
    assert "Your clinic has not turned the pain lessons on." in chat.text and chat.buttons == ["Back to the menu"]
    chat.press("Back to the menu")
    assert "What would you like to do?" in chat.text


def test_pausing_takes_back_a_planned_lesson_and_resuming_plans_again(chat, database):
    onboard(chat)
    plan(database)
    chat.open("Pain lessons")
    chat.press("Pause the lessons")
    assert "The lessons are paused. You can start them again here any time." in chat.text
    assert lesson_prompts(database) == [] and plan(database) == 0
    chat.press("Resume the lessons")
    assert "The lessons are on again" in chat.text and plan(database) == 1


def test_the_pacing_lesson_offers_pacing_and_returns_to_the_menu(chat, database):
    onboard(chat)
    chat.open("Pain lessons")
    chat.press("Next lesson now")
    for lesson in course().lessons[:4]:  # answer the first four, then go on to the next
        chat.press(next(o.label for o in lesson.choices if o.value == lesson.key))
        chat.press("Next lesson now")
    assert "Lesson 5 of 11: Pacing instead of boom and bust" in chat.text
    chat.press("In small steps on a fixed schedule")
    assert "Right. Increases follow a plan" in chat.text
    chat.press("Plan an activity with pacing")
    assert "Pacing means doing a steady amount of an activity" in chat.text  # the pacing dialog, called by name
    chat.command("cancel")
    assert "What would you like to do?" in chat.text


def test_a_typed_label_is_an_answer_and_an_old_answer_button_changes_nothing(chat, database):
    onboard(chat)
    chat.open("Pain lessons")
    chat.press("Next lesson now")
    old = dict(chat.last_buttons)
    chat.say("to protect me")
    assert "Right. Pain is a protector" in chat.text
    chat.last_buttons = old
    chat.press("To measure damage")  # the question's button, pressed again after it was answered
    assert chat.texts == ["This button has expired.", "What would you like to do next?"]
    first = progress(database)["protector"]
    assert (first.answer, first.correct) == ("protect", True)


def test_after_the_last_lesson_there_is_no_next_one(chat, database):
    onboard(chat)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        for lesson in course().lessons:
            session.add(LessonProgress(patient_id=patient.id, lesson=lesson.id, source="asked", sent_at=NOW, opened_at=NOW))
    chat.open("Pain lessons")
    assert "you have read 11 of 11 lessons" in chat.text and "You have read every lesson." in chat.text
    assert chat.buttons == ["Read a lesson again", "Back to the menu"]
    assert plan(database) == 0


@pytest.mark.parametrize("key, raw", [("lesson_every_days", "0"), ("lesson_every_days", "30"), ("lessons_enabled", "sometimes")])
def test_the_clinic_settings_refuse_what_the_scheduler_could_not_use(database, key, raw):
    with pytest.raises(SettingRefused):
        set_clinic(database, key, raw)


def test_a_wider_gap_set_by_the_clinic_is_followed(chat, database):
    onboard(chat)
    set_clinic(database, "lesson_every_days", "3")
    chat.open("Pain lessons")
    chat.press("Next lesson now")  # read today, 28 November
    assert plan(database, NOW + timedelta(days=2)) == 1
    assert lesson_prompts(database)[0].scheduled_for == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def test_progress_is_in_the_activity_export_and_erased_with_the_patient(chat, new_chat, database, tmp_path):
    onboard(chat)
    other = new_chat("2002")
    onboard(other, name="Kim")
    plan(database)
    outbox = Outbox()
    engine = Engine(database, clock=lambda: DUE + timedelta(minutes=1))
    assert await Dispatcher(database, engine, outbox.deliver, clock=lambda: DUE + timedelta(minutes=1)).tick() == 4  # and the check-ins
    [invitation] = [m for external_id, [m] in outbox.sent if external_id == "1001" and "lesson" in m.text]
    assert invitation.text == "Your next pain lesson is ready: “Pain is a protector” (lesson 1 of 11)."
    at_due = Chat(engine)
    at_due.receive(900, invitation)
    at_due.press("Read it now")
    assert "Lesson 1 of 11: Pain is a protector" in at_due.text
    at_due.press("To measure damage")

    bundle.export(database, Filters(), ("activity",), tmp_path, actor="cli:test", now=DUE + timedelta(hours=1))
    rows = [r for r in csv.DictReader(open(tmp_path / "activity.csv")) if r["activity"] == "lesson"]
    mine = {r["measure"]: r["value"] for r in rows if r["study_code"] == rows[0]["study_code"]}
    assert mine == {"lesson": "protector", "lesson_number": "1", "source": "scheduled", "language": "en", "clinician_reviewed": "0",
                    "sent_at": mine["sent_at"], "opened_at": mine["opened_at"], "answered_at": mine["answered_at"],
                    "answer": "measure", "correct": "0"}
    assert mine["sent_at"].startswith("2026-11-29T10:01") and mine["answered_at"].startswith("2026-11-29T10:01")
    kims = {r["measure"]: r["value"] for r in rows if r["study_code"] != rows[0]["study_code"]}
    assert kims["sent_at"].startswith("2026-11-29T10:01") and kims["opened_at"] == kims["correct"] == ""  # sent, not opened

    with database.transaction() as session:
        kim = session.scalars(select(Patient).where(Patient.external_id == "2002")).one().id
    chat.command("delete")
    chat.press("Yes, delete everything")
    assert {row.patient_id for row in progress(database).values()} == {kim}
    with database.transaction() as session:
        assert session.scalars(select(LessonCourse)).all() == []


async def test_check_in_now_is_not_taken_for_an_unopened_lesson(chat, database):
    onboard(chat)
    with database.transaction() as session:  # no check-in due that morning: the lesson alone goes out
        session.execute(Prompt.__table__.delete().where(Prompt.kind == "checkin"))
    plan(database)
    engine = Engine(database, clock=lambda: DUE + timedelta(minutes=1))
    assert await Dispatcher(database, engine, Outbox().deliver, clock=lambda: DUE + timedelta(minutes=1)).tick() == 1
    at_due = Chat(engine)
    at_due.command("menu")
    at_due.open("Check in now")
    assert "Which check-in would you like to do?" in at_due.text


async def test_a_lesson_gets_no_reminder_and_its_invitation_opens_it_even_after_it_closed(chat, database):
    onboard(chat)
    with database.transaction() as session:
        session.execute(Prompt.__table__.delete().where(Prompt.kind == "checkin"))
    plan(database)
    outbox = Outbox()
    sent_at = DUE + timedelta(minutes=1)
    assert await Dispatcher(database, Engine(database, clock=lambda: sent_at), outbox.deliver, clock=lambda: sent_at).tick() == 1
    reminder_time = DUE + timedelta(hours=4)  # a check-in would be reminded of by now
    assert await Dispatcher(database, Engine(database, clock=lambda: reminder_time), outbox.deliver, clock=lambda: reminder_time).tick() == 0
    later = DUE + timedelta(hours=13)  # past its expiry
    assert await Dispatcher(database, Engine(database, clock=lambda: later), outbox.deliver, clock=lambda: later).tick() == 0
    assert len(outbox.sent) == 1 and lesson_prompts(database)[0].status == "expired"
    at_later = Chat(Engine(database, clock=lambda: later))
    at_later.receive(900, outbox.sent[0][1][0])
    at_later.press("Read it now")
    assert "Lesson 1 of 11: Pain is a protector" in at_later.text and "What is pain's main job?" in at_later.text
    assert progress(database)["protector"].opened_at == later


def test_red_flag_words_typed_at_a_lesson_get_the_advice_not_a_lesson_reply(chat, database):
    onboard(chat)
    chat.open("Pain lessons")
    chat.press("Next lesson now")
    chat.say("I suddenly can't control my bladder and my legs are getting weaker")
    assert "Thank you for writing." not in chat.text
    assert chat.texts[-1] == "What is pain's main job?"
    assert chat.texts[0].startswith("What you describe can be a sign that nerves in your back are being squeezed")


@pytest.mark.parametrize("lesson", [lesson.id for lesson in course().lessons])
def test_every_lesson_opens_the_tool_it_links_to(chat, database, lesson):
    onboard(chat)
    before = [earlier.id for earlier in course().lessons][: course().number(lesson) - 1]
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        session.add_all(LessonProgress(patient_id=patient.id, lesson=earlier, source="asked", sent_at=NOW, opened_at=NOW) for earlier in before)
    found = course().get(lesson)
    chat.open("Pain lessons")
    chat.press("Next lesson now")
    assert f"Lesson {course().number(lesson)} of 11: {found.title}" in chat.text
    chat.press(found.choices[0].label)
    chat.press(found.offer)
    with database.transaction() as session:
        assert session.scalars(select(DialogState)).one().dialog == found.tool  # called by name, as the menu does
    assert chat.text and "Sorry, something went wrong" not in chat.text


def test_a_lesson_read_before_can_be_read_again_from_the_course(chat, database):
    onboard(chat)
    chat.open("Pain lessons")
    assert "Read a lesson again" not in chat.buttons  # none read yet
    chat.press("Next lesson now")
    chat.press("To protect me")
    chat.press("Back to the menu")
    chat.open("Pain lessons")
    chat.press("Read a lesson again")
    assert "Which lesson would you like to read again?" in chat.text and chat.buttons == ["1. Pain is a protector", "Back"]
    chat.press("1. Pain is a protector")
    assert chat.texts[0].startswith("Lesson 1 of 11: Pain is a protector") and "you have read 1 of 11 lessons" in chat.texts[1]
    assert progress(database)["protector"].correct is True  # reading again changes nothing recorded


async def test_paused_reminders_hold_lessons_back_too(chat, database):
    onboard(chat)
    plan(database)
    with database.transaction() as session:
        session.scalars(select(Patient)).one().checkins_paused = True
    outbox = Outbox()
    at = DUE + timedelta(minutes=1)
    await Dispatcher(database, Engine(database, clock=lambda: at), outbox.deliver, clock=lambda: at).tick()
    assert outbox.sent == [] and plan(database, DUE + timedelta(days=3)) == 0


def test_the_course_page_says_no_lesson_comes_on_its_own_while_reminders_are_paused(chat):
    onboard(chat)
    chat.command("pause")
    chat.command("menu")
    chat.open("Pain lessons")
    assert "Your reminders are paused, so no new lesson comes on its own" in chat.text
    assert "A new lesson comes every few days." not in chat.text and "Next lesson now" in chat.buttons
