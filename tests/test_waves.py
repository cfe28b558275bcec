"""Staggered waves (the clinic's wave_spread_minutes) and a prompt's time to answer counted from its send."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clinic.settings import SettingRefused, set_setting
from conftest import NOW
from dialogs.engine import Engine
from scheduler import planner, runner
from scheduler.dispatcher import Dispatcher
from scheduler.times import instant, parse_hhmm, within
from storage.models import Clinic, Patient, Prompt
from test_sweep import Phone, add_patients

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
ZONES = ["Europe/London", "America/Santiago", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/Berlin"]


def set_wave(database, minutes: int) -> None:
    with database.transaction() as session:
        set_setting(session.scalars(select(Clinic)).first(), planner.WAVE, str(minutes))


def checkins(database) -> dict[int, list[Prompt]]:
    with database.transaction() as session:
        found: dict[int, list[Prompt]] = {}
        for prompt in session.scalars(select(Prompt).where(Prompt.kind == "checkin").order_by(Prompt.scheduled_for)):
            found.setdefault(prompt.patient_id, []).append(prompt)
        return found


# -- the spread itself ----------------------------------------------------------------------------

quiet_windows = st.one_of(st.none(), st.tuples(st.sampled_from(["21:00", "22:00", "23:30", "08:00", "09:10"]),
                                                 st.sampled_from(["06:00", "07:00", "09:05", "12:00"])))


@settings(max_examples=300, deadline=None)
@given(patient_id=st.integers(1, 10**9), zone=st.sampled_from(ZONES), day=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
       clock=st.times().map(lambda t: t.replace(second=0, microsecond=0)), minutes=st.integers(0, 120), quiet=quiet_windows)
def test_a_spread_is_stable_never_earlier_within_the_window_in_whole_minutes_and_never_into_quiet_hours(
        patient_id, zone, day, clock, minutes, quiet):
    patient = SimpleNamespace(id=patient_id, timezone=zone, quiet_start=quiet and quiet[0], quiet_end=quiet and quiet[1])
    chosen = instant(day, clock, ZoneInfo(zone))
    due = planner.spread(patient, day, chosen, minutes)
    assert due == planner.spread(patient, day, chosen, minutes)  # the same every time, in every process
    assert chosen <= due <= chosen + timedelta(minutes=minutes)
    assert (due - chosen) % timedelta(minutes=1) == timedelta(0)
    if minutes == 0:
        assert due == chosen
    if quiet:
        in_quiet = lambda moment: within(moment.astimezone(ZoneInfo(zone)).time(), *map(parse_hhmm, quiet))  # noqa: E731
        assert not in_quiet(due) or (in_quiet(chosen) and due == chosen)


def test_patients_are_spread_over_the_window():
    day = date(2026, 11, 30)
    chosen = instant(day, time(9), LONDON)
    patients = [SimpleNamespace(id=n, timezone="Europe/London", quiet_start=None, quiet_end=None) for n in range(1, 2001)]
    offsets = [(planner.spread(p, day, chosen, 30) - chosen) // timedelta(minutes=1) for p in patients]
    assert set(offsets) == set(range(31))  # every minute of 09:00-09:30 is used...
    assert max(offsets.count(m) for m in range(31)) < 2 * len(patients) / 31  # ...about evenly
    next_day = [(planner.spread(p, day + timedelta(days=1), chosen + timedelta(days=1), 30) - chosen - timedelta(days=1))
                // timedelta(minutes=1) for p in patients]
    assert next_day != offsets  # the same patient is not always last


def test_a_spread_stops_before_quiet_hours_begin():
    day = date(2026, 11, 30)
    chosen = instant(day, time(21, 50), LONDON)
    latest = max(planner.spread(SimpleNamespace(id=n, timezone="Europe/London", quiet_start="22:00", quiet_end="07:00"),
                                day, chosen, 60) for n in range(1, 500))
    assert latest == instant(day, time(21, 59), LONDON)


# -- in planning ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["-1", "121", "ten", "1.5"])
def test_the_setting_is_refused_outside_0_to_120_whole_minutes(database, raw):
    with database.transaction() as session:
        clinic = session.scalars(select(Clinic)).first()
        with pytest.raises(SettingRefused):
            set_setting(clinic, planner.WAVE, raw)
        assert clinic.setting(planner.WAVE) == 0


def test_without_a_wave_every_check_in_is_due_at_the_chosen_time(database):
    ids = add_patients(database, 8)
    runner.sweep(database, lambda: NOW)
    for patient_id in ids:
        with database.transaction() as session:
            zone = ZoneInfo(session.get(Patient, patient_id).timezone)
        assert all(p.scheduled_for.astimezone(zone).time() == time(9) for p in checkins(database)[patient_id])


def test_a_wave_spreads_check_ins_and_planning_again_moves_none_and_adds_none(database):
    set_wave(database, 30)
    ids = add_patients(database, 40)
    runner.sweep(database, lambda: NOW)
    first = {pid: [(p.local_date, p.scheduled_for) for p in prompts] for pid, prompts in checkins(database).items()}
    offsets = set()
    for pid in ids:
        with database.transaction() as session:
            zone = ZoneInfo(session.get(Patient, pid).timezone)
        for local_date, due in first[pid]:
            chosen = instant(local_date, time(9), zone)
            assert chosen <= due <= chosen + timedelta(minutes=30)
            offsets.add(due - chosen)
    assert len(offsets) > 5
    with database.transaction() as session:  # a patient's schedule saved again: the same instants
        for pid in ids:
            planner.replan(session, session.get(Patient, pid), NOW)
    runner.sweep(database, lambda: NOW + timedelta(minutes=10))
    assert {pid: [(p.local_date, p.scheduled_for) for p in prompts] for pid, prompts in checkins(database).items()} == first


async def test_replanning_inside_a_wave_never_prompts_an_instrument_twice_a_local_day(database):
    set_wave(database, 60)
    ids = add_patients(database, 12)
    london = [pid for n, pid in enumerate(ids) if n % 4 == 0]
    runner.sweep(database, lambda: NOW)
    day = date(2026, 11, 29)
    chosen = instant(day, time(9), LONDON)
    # Past 09:00 but before some patients' spread instant: those not sent yet are dropped and planned again.
    clock = lambda: chosen + timedelta(minutes=30)  # noqa: E731
    await Dispatcher(database, Engine(database, clock=clock), Phone().deliver, clock=clock).tick()
    with database.transaction() as session:
        for pid in london:
            planner.replan(session, session.get(Patient, pid), clock())
    later = lambda: chosen + timedelta(minutes=61)  # noqa: E731
    await Dispatcher(database, Engine(database, clock=later), Phone().deliver, clock=later).tick()
    with database.transaction() as session:
        for pid in london:
            planner.replan(session, session.get(Patient, pid), later())
    for pid in london:
        on_the_day = [p for p in checkins(database)[pid] if p.local_date == day]
        assert len(on_the_day) == 1 and on_the_day[0].sent_at is not None


# -- the time to answer counts from the send ------------------------------------------------------


async def test_a_prompt_sent_late_keeps_its_whole_time_to_answer_from_the_send(database):
    [patient_id] = add_patients(database, 1)
    due = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    with database.transaction() as session:
        for offset in (0, 1):
            at = due + timedelta(days=offset)
            session.add(Prompt(patient_id=patient_id, instruments=["daily"], local_date=at.date(), scheduled_for=at,
                               expires_at=at + timedelta(minutes=720), status="scheduled"))
    for sent_at in (due + timedelta(minutes=90), due + timedelta(days=1)):  # late in a long wave; on time
        clock = lambda at=sent_at: at  # noqa: E731
        assert await Dispatcher(database, Engine(database, clock=clock), Phone().deliver, clock=clock).tick() == 1
    late, on_time = checkins(database)[patient_id][:2]
    assert late.expires_at == late.sent_at + timedelta(minutes=720)  # 22:30, not 21:00
    assert late.remind_at == late.sent_at + timedelta(minutes=180)
    assert on_time.expires_at == on_time.scheduled_for + timedelta(minutes=720)  # unchanged
