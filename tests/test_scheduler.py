"""Check-in timing and dispatch: DST, planning, snooze, reminder, expiry, restarts, races."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dialogs.engine import Engine
from dialogs.io import Message
from factories import due_prompts
from onboard import onboard
from scheduler import planner
from scheduler.dispatcher import Blocked, Dispatcher
from scheduler.times import instant, occurrences
from storage import open_database
from storage.models import Patient, Prompt, Response

UTC = timezone.utc


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


class Phone:
    """Stands in for Telegram's servers: records what would be delivered, by patient."""

    def __init__(self, fail_for: set[str] = frozenset()):
        self.sent: list[tuple[str, Message]] = []
        self.fail_for = set(fail_for)
        self.next_id = 1000

    async def deliver(self, external_id: str, outputs) -> int:
        if external_id in self.fail_for:
            raise Blocked("Forbidden: bot was blocked by the user")
        for output in outputs:
            self.sent.append((external_id, output))
        self.next_id += 1
        return self.next_id

    def texts(self, external_id: str = "1001") -> list[str]:
        return [m.text for who, m in self.sent if who == external_id]


# -- wall-clock times across DST ------------------------------------------------------------------

DST_CASES = [
    # zone, local day, local time, expected UTC: a skipped time moves to the end of the gap; a repeated one fires at its first occurrence
    ("Europe/Berlin", date(2026, 3, 29), time(2, 30), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ("Europe/Berlin", date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ("Europe/Berlin", date(2027, 3, 28), time(2, 0), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
    ("Europe/Berlin", date(2027, 10, 31), time(2, 59), datetime(2027, 10, 31, 0, 59, tzinfo=UTC)),
    ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ("America/New_York", date(2027, 3, 14), time(2, 0), datetime(2027, 3, 14, 7, 0, tzinfo=UTC)),
    ("America/New_York", date(2027, 11, 7), time(1, 0), datetime(2027, 11, 7, 5, 0, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 10, 4), time(2, 15), datetime(2026, 10, 3, 16, 0, tzinfo=UTC)),
    ("Australia/Sydney", date(2026, 4, 5), time(2, 30), datetime(2026, 4, 4, 15, 30, tzinfo=UTC)),
    ("Australia/Sydney", date(2027, 10, 3), time(2, 0), datetime(2027, 10, 2, 16, 0, tzinfo=UTC)),
    ("Australia/Sydney", date(2027, 4, 4), time(2, 0), datetime(2027, 4, 3, 15, 0, tzinfo=UTC)),
    ("Europe/Berlin", date(2026, 3, 29), time(9, 0), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),  # the same day, after the change
]


@pytest.mark.parametrize("zone, day, at, expected", DST_CASES)
def test_local_times_across_dst_changes(zone, day, at, expected):
    assert instant(day, at, ZoneInfo(zone)) == expected


@pytest.mark.parametrize("zone, day", [("Europe/Berlin", date(2026, 10, 25)), ("America/New_York", date(2026, 11, 1)), ("Australia/Sydney", date(2026, 4, 5))])
def test_a_repeated_hour_fires_once(zone, day):
    start = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(zone)) - timedelta(hours=1)
    fired = list(occurrences(time(1, 30), ZoneInfo(zone), start, start + timedelta(hours=30)))
    assert [d for d, _moment in fired].count(day) == 1


@pytest.mark.parametrize("zone, day", [("Europe/Berlin", date(2026, 3, 29)), ("America/New_York", date(2027, 3, 14)), ("Australia/Sydney", date(2026, 10, 4))])
def test_a_skipped_hour_still_fires_that_day(zone, day):
    start = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(zone)) - timedelta(hours=1)
    fired = list(occurrences(time(2, 30), ZoneInfo(zone), start, start + timedelta(hours=30)))
    assert [d for d, _moment in fired].count(day) == 1


# -- planning and dispatch ----------------------------------------------------------------------


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 28, 13, 5, tzinfo=UTC))  # a Saturday


@pytest.fixture
def engine(database, clock):
    return Engine(database, clock=clock)


@pytest.fixture
def phone():
    return Phone()


@pytest.fixture
def dispatcher(database, engine, phone, clock):
    return Dispatcher(database, engine, phone.deliver, clock=clock)


def prompts(database) -> list[Prompt]:
    with database.transaction() as session:
        return list(session.scalars(select(Prompt).order_by(Prompt.scheduled_for)))


def plan(database, clock) -> None:
    with database.transaction() as session:
        planner.plan(session, clock())


def test_onboarding_plans_the_next_check_ins_in_the_patients_zone(chat_at, database, clock):
    onboard(chat_at, zone_button="New York")  # at 08:05 on Saturday in New York
    saturday, sunday = prompts(database)
    assert saturday.scheduled_for == datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 09:00 in New York
    assert sunday.scheduled_for == datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
    assert sunday.instruments == ["daily"] and sunday.status == "scheduled"
    assert sunday.expires_at == sunday.scheduled_for + timedelta(hours=12)


def test_mondays_come_as_one_sitting_and_phq4_every_other_week(chat_at, database, clock):
    onboard(chat_at)
    for _ in range(17):
        clock.advance(days=1)
        plan(database, clock)
    by_day = {p.local_date: p.instruments for p in prompts(database)}
    assert by_day[date(2026, 11, 30)] == ["daily", "peg3", "phq4"]  # a Monday: one sitting
    assert by_day[date(2026, 12, 7)] == ["daily", "peg3"]
    assert by_day[date(2026, 12, 14)] == ["daily", "peg3", "phq4"]
    assert by_day[date(2026, 12, 1)] == ["daily"]
    assert len(by_day) == len(prompts(database))  # one prompt a day, never two


def test_planning_twice_creates_nothing_new(chat_at, database, clock):
    onboard(chat_at)
    plan(database, clock)
    plan(database, clock)
    assert len(prompts(database)) == 1


async def test_a_due_prompt_is_sent_then_started_and_answered(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, 30, tzinfo=UTC)
    assert await dispatcher.tick() == 1
    assert phone.texts() == ["Hello Sam, time for your check-in: 5 short questions."]
    prompt, following = prompts(database)  # the next day's is planned as this one is recorded sent
    assert (prompt.status, prompt.sent_at, prompt.message_id) == ("sent", clock(), phone.next_id)
    assert (following.status, following.scheduled_for) == ("scheduled", datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert await dispatcher.tick() == 0  # never twice

    chat_at.receive(phone.next_id, phone.sent[-1][1])
    chat_at.press("Start now")
    assert "How strong is your pain right now?" in chat_at.text
    for step in ["3", "7", "30", "2000", "Yes"]:
        chat_at.press(step) if step in chat_at.buttons else chat_at.say(step)
    assert "that's your check-in done" in chat_at.text
    prompt = prompts(database)[0]
    assert (prompt.status, prompt.answered_at) == ("answered", clock())
    with database.transaction() as session:
        response = session.scalars(select(Response)).one()
        assert (response.source, response.prompt_id) == ("scheduled", prompt.id)


async def test_snooze_then_the_prompt_comes_back(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    chat_at.receive(phone.next_id, phone.sent[-1][1])
    chat_at.press("In 30 minutes")
    assert "I'll ask again at 09:30." in chat_at.text  # London writes 24-hour time
    assert prompts(database)[0].status == "snoozed"
    clock.advance(minutes=20)
    assert await dispatcher.tick() == 0
    clock.advance(minutes=11)
    assert await dispatcher.tick() == 1
    assert phone.texts()[-1].startswith("Hello Sam, time for your check-in")
    assert prompts(database)[0].status == "sent"


async def test_one_reminder_then_expiry(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    clock.advance(hours=2, minutes=59)
    await dispatcher.tick()
    assert len(phone.texts()) == 1
    clock.advance(minutes=1)
    await dispatcher.tick()
    assert phone.texts()[-1] == "A gentle reminder: your check-in is still open until 21:00."
    clock.advance(hours=1)
    await dispatcher.tick()
    assert len(phone.texts()) == 2  # one reminder only
    clock.at = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
    await dispatcher.tick()
    prompt = prompts(database)[0]
    assert (prompt.status, prompt.reason) == ("expired", "missed: no answer before it expired")

    chat_at.receive(1, phone.sent[0][1])
    chat_at.press("Start now")
    assert "This check-in has closed" in chat_at.text


async def test_after_a_restart_due_prompts_are_sent_and_old_ones_recorded_as_missed(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    for _ in range(2):
        clock.advance(days=1)
        plan(database, clock)
    # The bot was down from Sunday 08:00 to Monday 22:00 (UTC, London): Sunday's prompt expired, Monday's is due.
    clock.at = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert await dispatcher.tick() == 1
    sunday, monday, *_later = prompts(database)
    assert (sunday.status, sunday.reason) == ("expired", "not sent: expired before it could go")
    assert monday.status == "sent" and monday.instruments == ["daily", "peg3", "phq4"]
    assert phone.texts() == ["Hello Sam, time for your check-in: 12 short questions."]


async def test_a_prompt_claimed_by_a_process_that_died_is_never_resent(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert dispatcher.claim_one(clock()) is not None  # claimed... and the process died before sending
    clock.advance(seconds=30)
    assert await dispatcher.tick() == 0
    assert prompts(database)[0].status == "claimed"
    clock.advance(seconds=31)
    await dispatcher.tick()
    assert prompts(database)[0].status == "unknown"
    clock.advance(minutes=30)
    assert await dispatcher.tick() == 0
    assert phone.sent == []


async def test_a_patient_who_blocked_the_bot_is_not_messaged_until_they_write(chat_at, database, clock, engine):
    onboard(chat_at)
    phone = Phone(fail_for={"1001"})
    dispatcher = Dispatcher(database, engine, phone.deliver, clock=clock)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    assert prompts(database)[0].status == "blocked"
    with database.transaction() as session:
        assert session.scalars(select(Patient)).one().reachable is False
    clock.advance(days=1)
    plan(database, clock)
    assert len(prompts(database)) == 1  # nothing new planned
    chat_at.command("menu")
    plan(database, clock)
    with database.transaction() as session:
        assert session.scalars(select(Patient)).one().reachable is True
    assert len(prompts(database)) == 2


async def test_changing_time_zone_moves_prompts_without_repeating_today(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)  # London
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()  # Sunday's daily sent at 09:00 London
    chat_at.command("timezone")
    chat_at.press("New York")
    chat_at.press("Yes, that's right")
    plan(database, clock)
    by_day = [(p.local_date, p.scheduled_for, p.status) for p in prompts(database)]
    # Sunday is done; the next prompt is Monday 09:00 in New York, not a second one on Sunday.
    assert by_day == [
        (date(2026, 11, 29), datetime(2026, 11, 29, 9, 0, tzinfo=UTC), "sent"),
        (date(2026, 11, 30), datetime(2026, 11, 30, 14, 0, tzinfo=UTC), "scheduled"),
    ]


async def test_two_dispatchers_racing_over_1000_due_prompts_deliver_each_exactly_once(database_url, clock):
    databases = [open_database(database_url), open_database(database_url, migrate=False)]
    due_prompts(databases[0], [9000 + i for i in range(100)], clock(), per_patient=10)
    with databases[0].transaction() as session:  # ten a day each, allowed (the cap's own race: tests/test_daily_cap.py)
        clinic = databases[0].default_clinic(session)
        clinic.settings = {**clinic.settings, "daily_message_cap": 10}
    phone = Phone()
    dispatchers = [Dispatcher(db, Engine(db, clock=clock), phone.deliver, clock=clock) for db in databases]

    async def drain(dispatcher: Dispatcher) -> int:
        total = 0
        while sent := await dispatcher.tick():
            total += sent
        return total

    counts = await asyncio.gather(*(drain(d) for d in dispatchers))
    assert sum(counts) == 1000
    assert len(phone.sent) == 1000
    with databases[0].transaction() as session:
        invited = [b.id for _who, m in phone.sent for row in m.buttons for b in row if "start:" in b.id]
        assert len(invited) == 1000 and len(set(invited)) == 1000  # each prompt invited exactly once
        assert session.scalar(select(func.count()).select_from(Prompt).where(Prompt.status == "sent")) == 1000
    for db in databases:
        db.dispose()


def open_schedule(chat) -> None:
    chat.command("menu")
    chat.open("Check-in times")
    assert "Your check-ins:" in chat.text


async def test_patients_choose_their_times_and_prompts_move(chat_at, database, clock):
    onboard(chat_at)  # London, Saturday 13:05 UTC
    open_schedule(chat_at)
    assert "Daily check-in: 09:00" in chat_at.text and "Weekly check-in: Monday at 09:00" in chat_at.text
    chat_at.press("Daily time")
    chat_at.say("8 pm")
    assert "Saved." in chat_at.text and "Daily check-in: 20:00" in chat_at.text
    chat_at.press("Weekly day and time")
    chat_at.press("Wednesday")
    chat_at.say("7:30")
    assert "Weekly check-in: Wednesday at 07:30" in chat_at.text
    for _ in range(4):
        clock.advance(days=1)
        plan(database, clock)
    by_day: dict[date, list] = {}
    for p in prompts(database):
        by_day.setdefault(p.local_date, []).append((p.scheduled_for, p.instruments))
    assert by_day[date(2026, 11, 28)] == [(datetime(2026, 11, 28, 20, 0, tzinfo=UTC), ["daily"])]  # moved to this evening
    assert by_day[date(2026, 12, 2)] == [  # Wednesday: the weekly ones at 07:30, the daily at 20:00
        (datetime(2026, 12, 2, 7, 30, tzinfo=UTC), ["peg3", "phq4"]),
        (datetime(2026, 12, 2, 20, 0, tzinfo=UTC), ["daily"]),
    ]


async def test_pause_and_resume(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    chat_at.command("menu")
    chat_at.open("Pause reminders")
    chat_at.press("Pause reminders")
    assert "Reminders are paused" in chat_at.text
    assert prompts(database) == []
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    plan(database, clock)
    assert await dispatcher.tick() == 0 and phone.sent == []
    chat_at.press("Resume reminders")
    assert "Reminders are back on." in chat_at.text
    # Nothing is sent for the paused time afterwards; planning goes on from now (Monday 09:00).
    assert [(p.local_date, p.status) for p in prompts(database)] == [(date(2026, 11, 30), "scheduled")]


async def test_quiet_hours_hold_a_prompt_until_they_end(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    open_schedule(chat_at)
    chat_at.press("Quiet hours")
    chat_at.say("nonsense")
    assert "Please send two times" in chat_at.text
    chat_at.say("22:00-09:30")
    assert "Quiet hours: 22:00 to 09:30" in chat_at.text
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert await dispatcher.tick() == 0
    [prompt, *_] = prompts(database)
    assert (prompt.status, prompt.snoozed_until, prompt.reason) == ("snoozed", datetime(2026, 11, 29, 9, 30, tzinfo=UTC), "quiet hours")
    clock.advance(minutes=30)
    assert await dispatcher.tick() == 1


def press_prompt(chat, phone, label: str, index: int = -1) -> None:
    """Press a button on the `index`-th invitation the patient received."""
    message = [m for _who, m in phone.sent if m.buttons][index]
    chat.last_buttons = {b.label: (b.id, None) for row in message.buttons for b in row}
    chat.press(label)


async def monday_sitting(chat_at, database, clock, dispatcher) -> None:
    """Onboard on Saturday; Sunday's daily is sent; it is now Monday 09:00 and that sitting is sent too."""
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    plan(database, clock)
    clock.at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    await dispatcher.tick()


async def test_an_old_open_sitting_does_not_take_over_a_new_prompt(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    press_prompt(chat_at, phone, "Start now")  # Sunday's: one answer, then left open
    chat_at.press("4")
    plan(database, clock)
    clock.at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    press_prompt(chat_at, phone, "Start now")  # Monday's, while Sunday's sitting is still open
    assert "Question 1 of 12" in chat_at.text


async def test_a_sitting_resumes_after_what_it_already_finished(chat_at, database, clock, dispatcher, phone):
    await monday_sitting(chat_at, database, clock, dispatcher)
    press_prompt(chat_at, phone, "Start now", 1)
    for answer in ["4", "7", "30", "2000", "Yes", "5"]:  # the daily, then one PEG item
        chat_at.press(answer) if answer in chat_at.buttons else chat_at.say(answer)
    chat_at.command("cancel")
    chat_at.open("Check in now")
    assert "Question 1 of 6" in chat_at.text  # two PEG items and the PHQ-4; not the daily again
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Response).where(Response.instrument == "daily")) == 1


async def test_a_started_prompt_gets_no_reminder_and_a_snooze_is_cancelled_by_starting(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    press_prompt(chat_at, phone, "In 30 minutes")
    press_prompt(chat_at, phone, "Start now")
    chat_at.press("4")
    clock.advance(hours=4)
    assert await dispatcher.tick() == 0  # no second invitation, no reminder
    assert len(phone.texts()) == 1
    clock.at = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
    await dispatcher.tick()
    [prompt, *_later] = prompts(database)
    assert (prompt.status, prompt.reason) == ("expired", "missed: partly answered before it expired")


async def test_pauses_hold_reminders_and_invitations(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    chat_at.command("menu")
    chat_at.open("Pause reminders")
    chat_at.press("Pause reminders")
    clock.advance(hours=4)
    assert await dispatcher.tick() == 0 and len(phone.texts()) == 1  # no reminder while paused
    chat_at.press("Resume reminders")
    chat_at.say("I want to end my life")  # a crisis pause holds check-ins too
    clock.at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    plan(database, clock)
    assert await dispatcher.tick() == 0


async def test_a_patient_who_writes_again_after_blocking_gets_their_check_ins(chat_at, database, clock, engine):
    onboard(chat_at)
    blocked = Phone(fail_for={"1001"})
    await Dispatcher(database, engine, blocked.deliver, clock=clock).tick()  # Saturday: nothing due yet
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await Dispatcher(database, engine, blocked.deliver, clock=clock).tick()  # Sunday's: blocked
    clock.at = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    chat_at.command("menu")  # writes again
    phone = Phone()
    clock.at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert await Dispatcher(database, engine, phone.deliver, clock=clock).tick() == 1
    assert phone.texts() == ["Hello Sam, time for your check-in: 12 short questions."]


async def test_snoozes_are_offered_only_when_they_come_back_in_time(chat_at, database, clock, dispatcher, phone):
    onboard(chat_at)
    clock.at = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    await dispatcher.tick()
    assert [b.label for row in phone.sent[-1][1].buttons for b in row] == ["Start now", "In 30 minutes", "In 2 hours"]
    clock.at = datetime(2026, 11, 29, 19, 50, tzinfo=UTC)  # 70 minutes before it closes
    await dispatcher.tick()  # the reminder
    assert [b.label for row in phone.sent[-1][1].buttons for b in row] == ["Start now", "In 30 minutes"]


async def test_moving_the_weekly_day_keeps_phq4_fortnightly(chat_at, database, clock):
    onboard(chat_at)  # PHQ-4 on Monday 30 November, then 14 December
    chat_at.command("menu")
    chat_at.open("Check-in times")
    chat_at.press("Weekly day and time")
    chat_at.press("Tuesday")
    chat_at.press("09:00")
    for _ in range(20):
        clock.advance(days=1)
        plan(database, clock)
    phq4 = [p.local_date for p in prompts(database) if "phq4" in p.instruments]
    assert phq4 == [date(2026, 12, 1), date(2026, 12, 15)]


async def test_a_flare_is_followed_up_two_days_later(chat_at, database, clock, dispatcher, phone):
    from storage.models import FlareEpisode

    onboard(chat_at)
    chat_at.press("I'm having a flare")
    chat_at.press("7")
    chat_at.press("I'm all right for now")
    clock.advance(hours=47)
    await dispatcher.tick()
    assert not any("Two days ago" in text for text in phone.texts())
    clock.advance(hours=1)
    await dispatcher.tick()
    assert "Could you tell me how the flare is going?" in phone.texts()[-1]
    press_prompt(chat_at, phone, "Start now")
    assert "You told me about a flare 2 days ago. How is it now?" in chat_at.text
    chat_at.press("Better")
    chat_at.say("Heat and short walks")
    assert "You came through that flare." in chat_at.text
    with database.transaction() as session:
        episode = session.scalars(select(FlareEpisode)).one()
        assert (episode.peak_pain, episode.what_helped, episode.ended_at) == (7, "Heat and short walks", clock())
        follow_up = session.scalars(select(Prompt).where(Prompt.kind == "flare_followup")).one()
        assert follow_up.status == "answered"



async def test_a_flare_that_goes_on_is_asked_about_again_and_told_once(chat_at, database, clock, dispatcher, phone):
    from storage.models import FlareEpisode

    onboard(chat_at)
    chat_at.press("I'm having a flare")
    chat_at.press("6")
    chat_at.press("I'm all right for now")
    clock.advance(hours=5)
    chat_at.press("I'm having a flare")  # the same flare, worse
    chat_at.press("8")
    chat_at.press("I'm all right for now")
    clock.advance(hours=43)
    await dispatcher.tick()
    press_prompt(chat_at, phone, "Start now")
    chat_at.press("About the same")
    chat_at.press("Skip this question")
    assert "I'll ask again in two days" in chat_at.text
    with database.transaction() as session:
        [episode] = session.scalars(select(FlareEpisode)).all()
        assert (episode.peak_pain, episode.ended_at) == (8, None)
        follow_ups = session.scalars(select(Prompt).where(Prompt.kind == "flare_followup").order_by(Prompt.scheduled_for)).all()
        assert [p.status for p in follow_ups] == ["answered", "scheduled"]
