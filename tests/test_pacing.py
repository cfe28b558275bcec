"""Pacing: baseline, quota at 80 %, weekly raises on the calendar, flares, breaks, boom and bust."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from conftest import Chat
from dialogs.io import Press
from dialogs.engine import Engine
from onboard import onboard
from scheduler.dispatcher import Dispatcher
from storage.models import PacingActivity, PacingLog

UTC = timezone.utc


class Clock:
    def __init__(self):
        self.at = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)

    def __call__(self):
        return self.at


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def patient(database, clock) -> Chat:
    chat = Chat(Engine(database, clock=clock))
    onboard(chat)
    return chat


def activity(database) -> PacingActivity:
    with database.transaction() as session:
        return session.scalars(select(PacingActivity)).one()


def with_baseline(chat, clock, minutes=(20, 30, 25)) -> None:
    chat.open("Pacing my activities")
    chat.press("Add an activity")
    chat.press("Walking")
    assert "For the next 3 days, log how long you could do it" in chat.text
    for value in minutes:
        chat.press("Log today's activity")
        chat.press("Walking")
        assert "before the pain climbed" in chat.text
        chat.say(str(value))
        clock.at += timedelta(days=1)


def test_the_quota_starts_at_80_percent_of_the_baseline(patient, database, clock):
    with_baseline(patient, clock)
    assert "Your baseline for Walking is 25 minutes. Your quota starts a little below it: 20 minutes" in patient.text
    assert "Walking: 20 minutes at a time" in patient.text
    row = activity(database)
    assert (row.baseline_minutes, row.quota_minutes) == (25, 20)


def test_logging_against_the_quota_praises_steady_pacing_and_notices_overdoing(patient, database, clock):
    with_baseline(patient, clock)
    patient.press("Log today's activity")
    patient.press("Walking")
    patient.say("21")
    assert "Steady pacing: 21 of 20 minutes." in patient.text
    patient.press("Log today's activity")
    patient.press("Walking")
    patient.say("45 minutes, felt great")
    assert "well over your quota (45 of 20 minutes)" in patient.text


def test_the_quota_rises_weekly_by_the_calendar_but_not_in_a_week_with_a_flare(patient, database, clock):
    with_baseline(patient, clock)  # baseline done on day 3; first raise due 7 days later
    clock.at += timedelta(days=7)
    patient.command("menu")
    patient.open("Pacing my activities")
    assert "Your quota for Walking goes up to 22 minutes" in patient.text  # 20 + 10 % of 25
    assert activity(database).quota_minutes == 22.5
    clock.at += timedelta(days=3)
    patient.command("menu")
    patient.press("I'm having a flare")
    patient.press("6")
    patient.press("I'm all right for now")
    clock.at += timedelta(days=4)
    patient.open("Pacing my activities")
    assert "No raise for Walking this week, because of the flare." in patient.text
    assert activity(database).quota_minutes == 22.5


def test_a_flare_lowers_the_quota_by_a_quarter_then_restores_it_step_by_step(patient, database, clock):
    with_baseline(patient, clock)
    patient.command("menu")
    patient.press("I'm having a flare")
    patient.press("7")
    patient.press("I'm all right for now")
    patient.open("Pacing my activities")
    assert "Walking: 15 minutes at a time" in patient.text  # 20 less 25 % for 48 hours
    clock.at += timedelta(hours=48 + 36)  # halfway through the three days of restoring
    patient.command("menu")
    patient.open("Pacing my activities")
    assert "Walking: 18 minutes at a time" in patient.text  # 17.5, shown rounded
    clock.at += timedelta(days=3)
    patient.command("menu")
    patient.open("Pacing my activities")
    assert "Walking: 20 minutes at a time" in patient.text


async def test_an_activity_block_gets_its_planned_break(patient, database, clock):
    from test_scheduler import Phone

    with_baseline(patient, clock)
    patient.press("Start an activity block")
    patient.press("Walking")
    assert "a minute of slow breathing" in patient.text
    patient.press("No, start now")
    assert "I'll remind you to take your break in 20 minutes." in patient.text
    phone = Phone()
    dispatcher = Dispatcher(database, patient.engine, phone.deliver, clock=clock)
    clock.at += timedelta(minutes=19)
    assert await dispatcher.tick() == 0
    clock.at += timedelta(minutes=1)
    assert await dispatcher.tick() == 1
    assert phone.texts()[-1] == "Time for your planned break from Walking. A rest now keeps tomorrow possible."
    message = phone.sent[-1][1]
    patient.last_buttons = {b.label: (b.id, None) for row in message.buttons for b in row}
    patient.press("I'm taking my break")
    assert "Well paced: 20 minutes of Walking" in patient.text
    with database.transaction() as session:
        assert session.scalars(select(PacingLog).where(PacingLog.kind == "done")).one().minutes == 20


def test_a_flare_after_overdoing_names_boom_and_bust_kindly(patient, database, clock):
    with_baseline(patient, clock)
    patient.press("Log today's activity")
    patient.press("Walking")
    patient.say("40")
    clock.at += timedelta(days=1)
    patient.command("menu")
    patient.press("I'm having a flare")
    patient.press("8")
    assert "boom and bust" in patient.text


def test_breathing_is_offered_before_an_activity_block(patient, database, clock):
    with_baseline(patient, clock)
    patient.press("Start an activity block")
    patient.press("Walking")
    patient.press("Yes, a short breathing exercise")
    assert "Which breathing exercise" in patient.text
    patient.press("Physiological sigh")
    patient.press("1 minute")
    patient.press("5")
    patient.event(Press(patient.outputs[-1].guide_done, patient.message_ids))
    patient.press("3")
    assert "Tension: from 5 to 3." in patient.text
    assert "I'll remind you to take your break in 20 minutes." in patient.text  # then the block starts


def test_a_new_best_within_the_plan_is_a_small_win(patient, database, clock):
    with_baseline(patient, clock)
    for minutes, win in [("18", False), ("20", True), ("19", False), ("30", False)]:
        patient.press("Log today's activity")
        patient.press("Walking")
        patient.say(minutes)
        assert ("That's your longest Walking yet" in patient.text) is win, (minutes, patient.text)


def test_a_baseline_needs_separate_days(patient, database, clock):
    patient.open("Pacing my activities")
    patient.press("Add an activity")
    patient.press("Typing")
    for minutes in ["30", "10", "20"]:  # all on one day: the last one counts
        patient.press("Log today's activity")
        patient.press("Typing")
        patient.say(minutes)
    assert "day 2 of 3" in patient.text
    with database.transaction() as session:
        assert [log.minutes for log in session.scalars(select(PacingLog))] == [20]


def test_minutes_as_people_give_them(patient, database, clock):
    patient.open("Pacing my activities")
    patient.press("Add an activity")
    patient.press("Standing")
    patient.press("Log today's activity")
    patient.press("Standing")
    patient.say("0")
    assert "Even a minute counts." in patient.text
    patient.say("1,5 hours")
    with database.transaction() as session:
        assert [log.minutes for log in session.scalars(select(PacingLog))] == [90]


async def test_planned_breaks_come_even_when_reminders_are_paused(patient, database, clock):
    from test_scheduler import Phone

    with_baseline(patient, clock)
    patient.command("menu")
    patient.open("Pause reminders")
    patient.press("Pause reminders")
    patient.command("menu")
    patient.open("Pacing my activities")
    patient.press("Start an activity block")
    patient.press("Walking")
    patient.press("No, start now")
    clock.at += timedelta(minutes=20)
    phone = Phone()
    assert await Dispatcher(database, patient.engine, phone.deliver, clock=clock).tick() == 1
    assert "planned break from Walking" in phone.texts()[-1]
