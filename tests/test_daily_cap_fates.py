"""What the daily cap does to what the patient asked for again, to a safety follow-up, to reminders,
and how a prompt that never went out is recorded; the cap across DST changes (scheduler/outbound.py,
scheduler/dispatcher.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dialogs.engine import Engine
from onboard import onboard
from scheduler import outbound
from scheduler.dispatcher import Dispatcher
from storage.models import Patient, Prompt, SleepRoutine
from test_daily_cap import add_patient, add_prompt, fates, local, rows, run_at, set_cap
from test_scheduler import Clock, Phone, press_prompt

UTC = timezone.utc


def clinic_settings(database, **settings) -> None:
    with database.transaction() as session:
        clinic = database.default_clinic(session)
        clinic.settings = {**clinic.settings, **settings}


def counted(database, patient_id: int, at: datetime) -> int:
    with database.transaction() as session:
        return outbound.sent_today(session, session.get(Patient, patient_id), at)


def only_patient(database) -> int:
    with database.transaction() as session:
        return session.scalars(select(Patient.id)).one()


# -- a check-in the patient snoozed -------------------------------------------------------------


async def test_a_check_in_the_patient_snoozed_comes_back_even_when_the_cap_is_used_up_and_counts_once(chat, database):
    """Cap 2: the check-in goes (1), the patient snoozes it for two hours, the sprint review takes
    the second slot; at the snooze's end the check-in comes back and its Start button works."""
    onboard(chat)
    set_cap(database, 2)
    clinic_settings(database, snooze_minutes=[120])
    patient = only_patient(database)
    nine = local("Europe/London", 7, 9)
    clock, phone = Clock(nine), Phone()
    engine = Engine(database, clock=clock)
    chat.engine = engine
    dispatcher = Dispatcher(database, engine, phone.deliver, clock=clock)
    checkin = add_prompt(database, patient, nine)
    with database.transaction() as session:
        session.get(Prompt, checkin).expires_at = local("Europe/London", 7, 21)
    review = add_prompt(database, patient, local("Europe/London", 7, 10), "sprint_review")
    assert await dispatcher.tick() == 1
    press_prompt(chat, phone, "In 2 hours")
    assert "I'll ask again at 11:00." in chat.text
    clock.at = local("Europe/London", 7, 10)
    assert await dispatcher.tick() == 1  # the review: the second of two
    assert counted(database, patient, clock.at) == 2
    clock.at = local("Europe/London", 7, 11)
    assert await dispatcher.tick() == 1  # asked for again: neither held nor counted again
    assert phone.texts()[-1].startswith("Hello Sam, time for your check-in")
    assert counted(database, patient, clock.at) == 2
    with database.transaction() as session:
        prompt = session.get(Prompt, checkin)
        assert (prompt.status, prompt.sent_at, prompt.reason) == ("sent", nine, None)
        assert session.get(Prompt, review).sent_at == local("Europe/London", 7, 10)
    press_prompt(chat, phone, "Start now")
    assert "This check-in has closed" not in chat.text and "Question 1 of" in chat.text
    assert "capped" not in fates(database)


async def test_a_re_send_that_fails_still_counts_the_first_send(chat, database):
    onboard(chat)
    set_cap(database, 2)
    clinic_settings(database, snooze_minutes=[120])
    patient = only_patient(database)
    nine = local("Europe/London", 7, 9)
    clock, phone = Clock(nine), Phone()
    chat.engine = engine = Engine(database, clock=clock)
    dispatcher = Dispatcher(database, engine, phone.deliver, clock=clock)
    checkin = add_prompt(database, patient, nine)
    with database.transaction() as session:
        session.get(Prompt, checkin).expires_at = local("Europe/London", 7, 21)
    await dispatcher.tick()
    press_prompt(chat, phone, "In 2 hours")
    phone.fail_for = {"1001"}  # blocked by the time it comes back
    clock.at = local("Europe/London", 7, 11)
    await dispatcher.tick()
    assert counted(database, patient, clock.at) == 1  # it did reach the patient at 09:00


# -- a safety follow-up -------------------------------------------------------------------------


async def test_a_flare_follow_up_goes_out_over_the_cap_and_counts(database):
    patient = add_patient(database, "1001", "Europe/London")
    hours = {8: "checkin", 9: "checkin", 10: "wind_down", 11: "checkin", 13: "flare_followup", 14: "checkin"}
    ids = {hour: add_prompt(database, patient, local("Europe/London", 7, hour), kind) for hour, kind in hours.items()}
    with database.transaction() as session:
        session.add(SleepRoutine(patient_id=patient, wake_time="07:00", bedtime="22:30", wind_down=["screens"], nudge_minutes=30))
    _phone, sent = await run_at(database, [local("Europe/London", 7, hour) for hour in hours])
    assert sent == [1, 1, 1, 1, 1, 0]  # the follow-up is never held back; it is the fifth
    with database.transaction() as session:
        follow_up, last = session.get(Prompt, ids[13]), session.get(Prompt, ids[14])
        assert follow_up.sent_at == local("Europe/London", 7, 13) and not follow_up.reason.startswith(("deferred", "not sent"))
        assert last.status == "capped" and last.reason.endswith("5 of 4 proactive messages already sent on 2026-12-07")


def test_safety_kinds_are_never_deferred():
    assert not set(outbound.SAFETY) & set(outbound.DEFERRED)


# -- reminders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wind_down", "flare_followup", "sprint_review"])
async def test_only_a_check_in_gets_a_reminder_even_when_reminders_come_soon(database, kind):
    patient = add_patient(database, "1001", "Europe/London")
    clinic_settings(database, reminder_after_minutes=10)
    at = local("Europe/London", 7, 18)
    prompt_id = add_prompt(database, patient, at, kind)
    with database.transaction() as session:
        session.add(SleepRoutine(patient_id=patient, wake_time="07:00", bedtime="22:30", wind_down=["screens"], nudge_minutes=30))
    _phone, sent = await run_at(database, [at, at + timedelta(minutes=15), at + timedelta(minutes=20)])
    assert sent == [1, 0, 0]
    with database.transaction() as session:
        prompt = session.get(Prompt, prompt_id)
        assert prompt.reminded_at is None and prompt.reason is None
    assert counted(database, patient, at + timedelta(minutes=20)) == 1


async def test_a_check_in_still_gets_its_reminder_when_reminders_come_soon(database):
    patient = add_patient(database, "1001", "Europe/London")
    clinic_settings(database, reminder_after_minutes=10)
    at = local("Europe/London", 7, 18)
    prompt_id = add_prompt(database, patient, at)
    phone, sent = await run_at(database, [at, at + timedelta(minutes=15)])
    assert sent == [1, 1] and phone.texts()[-1].startswith("A gentle reminder")
    with database.transaction() as session:
        assert session.get(Prompt, prompt_id).reminded_at == at + timedelta(minutes=15)


# -- what never went out ------------------------------------------------------------------------


async def test_a_nudge_held_by_quiet_hours_until_it_expired_was_not_sent_not_missed(database):
    patient = add_patient(database, "1001", "Europe/London")
    with database.transaction() as session:
        row = session.get(Patient, patient)
        row.quiet_start, row.quiet_end = "21:00", "07:00"
        session.add(SleepRoutine(patient_id=patient, wake_time="07:00", bedtime="22:30", wind_down=["screens"], nudge_minutes=30))
    nudge = add_prompt(database, patient, local("Europe/London", 7, 22), "wind_down")
    late = add_prompt(database, patient, local("Europe/London", 7, 12))  # due while nothing ran
    _phone, sent = await run_at(database, [local("Europe/London", 7, 22), local("Europe/London", 7, 23)])
    assert sent == [0, 0]
    with database.transaction() as session:
        assert (session.get(Prompt, nudge).status, session.get(Prompt, nudge).reason) == ("expired", "not sent: quiet hours until it expired")
        assert (session.get(Prompt, late).status, session.get(Prompt, late).reason) == ("expired", "not sent: expired before it could go")


# -- the cap across DST changes -----------------------------------------------------------------


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, fold=fold, tzinfo=ZoneInfo(zone)).astimezone(UTC)


DST_DAYS = {
    # London's autumn change: a 25-hour day, 01:30 twice; the five span it from 00:30 BST to 23:30 GMT.
    "Europe/London": ("2026-10-25", [(2026, 10, 25, 0, 30, 0), (2026, 10, 25, 1, 30, 0), (2026, 10, 25, 1, 30, 1),
                                     (2026, 10, 25, 12, 0, 0), (2026, 10, 25, 23, 30, 0)], (2026, 10, 26, 0, 30, 0)),
    # Santiago's autumn change: 23:00-24:00 on 4 April twice, a 25-hour day.
    "America/Santiago": ("2026-04-04", [(2026, 4, 4, 0, 30, 0), (2026, 4, 4, 9, 0, 0), (2026, 4, 4, 23, 15, 0),
                                        (2026, 4, 4, 23, 30, 1), (2026, 4, 4, 23, 45, 1)], (2026, 4, 5, 0, 15, 0)),
}


@pytest.mark.parametrize("zone", list(DST_DAYS))
async def test_the_cap_counts_a_25_hour_day_as_one_day(database, zone):
    day, five, next_day = DST_DAYS[zone]
    patient = add_patient(database, "1001", zone)
    times = [at(zone, *t[:5], fold=t[5]) for t in [*five, next_day]]
    assert times == sorted(times) and times[-1] - times[0] > timedelta(hours=24)
    for moment in times:
        add_prompt(database, patient, moment)
    _phone, sent = await run_at(database, times)
    assert sent == [1, 1, 1, 1, 0, 1]
    assert fates(database) == ["sent"] * 4 + ["capped", "sent"]
    assert rows(database)[4].reason.endswith(f"on {day}")


async def test_in_santiago_a_day_that_begins_at_one_in_the_morning_starts_a_new_count(database):
    """On 6 September 2026 Santiago's clocks jump from 00:00 to 01:00: the 5th's 23:30 is the old
    day (capped), 01:15 the new one (sent)."""
    zone = "America/Santiago"
    patient = add_patient(database, "1001", zone)
    times = [at(zone, 2026, 9, 5, hour, 30) for hour in (19, 20, 21, 22, 23)] + [at(zone, 2026, 9, 6, 1, 15)]
    assert times[-1] - times[-2] == timedelta(minutes=45)
    for moment in times:
        add_prompt(database, patient, moment)
    _phone, sent = await run_at(database, times)
    assert sent == [1, 1, 1, 1, 0, 1]
    assert rows(database)[4].reason.endswith("on 2026-09-05")
