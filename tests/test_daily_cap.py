"""Not too much: at most the clinic's daily number of messages the bot sends on its own, in each
patient's own day, and one switch that pauses reminders (scheduler/outbound.py, dialogs/pausing.py)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main
from dialogs.engine import Engine
from factories import due_prompts
from onboard import onboard
from scheduler import outbound
from scheduler.dispatcher import IN_FLIGHT, Dispatcher
from storage import enrollment, open_database
from storage.models import DialogState, FlareEpisode, PacingActivity, Patient, Prompt
from test_clinic import command_line_uses_the_test_database  # noqa: F401
from test_scheduler import Clock, Phone

UTC = timezone.utc
DAY = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # a Monday


def add_patient(database, chat: str, zone: str, clinic_id: int | None = None) -> int:
    with database.transaction() as session:
        patient = Patient(clinic_id=clinic_id or database.default_clinic(session).id, channel="telegram", external_id=chat,
                          consent="given", timezone=zone, onboarded_at=DAY - timedelta(days=3), preferred_name="P")
        session.add(patient)
        session.flush()
        return patient.id


def add_prompt(database, patient_id: int, at: datetime, kind: str = "checkin", open_for: timedelta = timedelta(minutes=30)) -> int:
    """A prompt of this kind due at `at`, open for half an hour (or `open_for`)."""
    with database.transaction() as session:
        zone = ZoneInfo(session.get(Patient, patient_id).timezone)
        prompt = Prompt(patient_id=patient_id, kind=kind, instruments=["daily"] if kind == "checkin" else [],
                        local_date=at.astimezone(zone).date(), scheduled_for=at, expires_at=at + open_for, status="scheduled")
        if kind == "pacing_break":
            activity = PacingActivity(patient_id=patient_id, name="gardening")
            session.add(activity)
            session.flush()
            prompt.pacing_activity_id = activity.id
        elif kind == "flare_followup":
            episode = FlareEpisode(patient_id=patient_id, started_at=at - timedelta(days=2))
            session.add(episode)
            session.flush()
            prompt.flare_episode_id = episode.id
        session.add(prompt)
        session.flush()
        return prompt.id


def at_the_menu(database) -> None:
    """Every patient made by the factory waits at the menu, as an onboarded patient does (so that
    invitations worded at the same moment do not each create their dialog state)."""
    with database.transaction() as session:
        for patient_id in session.scalars(select(Patient.id)):
            session.add(DialogState(patient_id=patient_id, dialog="menu", state="main", data={}, stack=[], step=1))


def rows(database, patient_id: int | None = None) -> list[Prompt]:
    with database.transaction() as session:
        query = select(Prompt).order_by(Prompt.scheduled_for, Prompt.id)
        if patient_id is not None:
            query = query.where(Prompt.patient_id == patient_id)
        return list(session.scalars(query))


def fates(database, patient_id: int | None = None) -> list[str]:
    """Each prompt, in order: "sent" if it went out (it may have expired unanswered since), else its status."""
    return ["sent" if p.sent_at is not None else p.status for p in rows(database, patient_id)]


def local(zone: str, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def set_cap(database, cap: int) -> None:
    with database.transaction() as session:
        clinic = database.default_clinic(session)
        clinic.settings = {**clinic.settings, outbound.CAP: cap}


async def run_at(database, instants: list[datetime], *, in_flight: int = IN_FLIGHT) -> tuple[Phone, list[int]]:
    """The dispatcher ticking at each instant in turn; what it sent at each."""
    clock, phone = Clock(instants[0]), Phone()
    dispatcher = Dispatcher(database, Engine(database, clock=clock), phone.deliver, clock=clock, in_flight=in_flight)
    sent = []
    for at in instants:
        clock.at = at
        sent.append(await dispatcher.tick())
    return phone, sent


# -- the cap ------------------------------------------------------------------------------------


async def test_five_due_on_one_local_day_four_go_and_the_fifth_is_kept_back_with_its_reason(database):
    patient = add_patient(database, "1001", "Europe/London")
    times = [local("Europe/London", 7, hour) for hour in (8, 10, 12, 14, 16)]
    for at in times:
        add_prompt(database, patient, at)
    phone, sent = await run_at(database, times)
    assert sent == [1, 1, 1, 1, 0] and len(phone.texts()) == 4
    fifth = rows(database)[-1]
    assert fates(database) == ["sent"] * 4 + ["capped"]
    assert fifth.reason == "not sent: over the daily cap: 4 of 4 proactive messages already sent on 2026-12-07"
    assert fifth.claimed_at is None and fifth.sent_at is None


async def test_five_due_at_once_four_go(database):
    due_prompts(database, [1001], DAY, per_patient=5)
    at_the_menu(database)
    phone, sent = await run_at(database, [DAY])
    assert sent == [4] and sorted(fates(database)) == ["capped"] + ["sent"] * 4


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Australia/Brisbane"])  # UTC-8 and UTC+10 in December
async def test_the_count_starts_again_at_the_patients_own_midnight(database, zone):
    patient = add_patient(database, "1001", zone)
    evening = [local(zone, 7, hour, 30) for hour in (19, 20, 21, 22, 23)]  # five on the 7th, local
    after_midnight = local(zone, 8, 0, 30)
    for at in [*evening, after_midnight]:
        add_prompt(database, patient, at)
    _phone, sent = await run_at(database, [*evening, after_midnight])
    assert sent == [1, 1, 1, 1, 0, 1]
    assert fates(database) == ["sent"] * 4 + ["capped", "sent"]
    # In UTC the six fall on one day (LA) or straddle two at another hour (Brisbane): only the local day counts.
    assert rows(database)[4].reason.endswith("on 2026-12-07")


async def test_two_patients_half_the_world_apart_are_counted_in_their_own_days(database):
    west, east = add_patient(database, "1001", "America/Los_Angeles"), add_patient(database, "1002", "Australia/Brisbane")
    times = []
    for patient, zone in ((west, "America/Los_Angeles"), (east, "Australia/Brisbane")):
        for at in [local(zone, 7, hour, 30) for hour in (19, 20, 21, 22, 23)] + [local(zone, 8, 0, 30)]:
            add_prompt(database, patient, at)
            times.append(at)
    await run_at(database, sorted(times))
    for patient in (west, east):
        assert fates(database, patient) == ["sent"] * 4 + ["capped", "sent"]


async def test_reminders_count_what_the_patient_asked_for_does_not_and_a_flare_follow_up_is_never_held(database):
    patient = add_patient(database, "1001", "Europe/London")
    hours = {8: "checkin", 9: "checkin", 10: "checkin", 12: "pacing_break", 13: "flare_followup"}
    ids = {hour: add_prompt(database, patient, local("Europe/London", 7, hour), kind) for hour, kind in hours.items()}
    with database.transaction() as session:  # the 08:00 check-in has its reminder due at 11:00
        session.get(Prompt, ids[8]).expires_at = local("Europe/London", 7, 20)
    ticks = [local("Europe/London", 7, hour) for hour in (8, 9, 10, 11, 12, 13)]
    phone, sent = await run_at(database, ticks)
    assert sent == [1, 1, 1, 1, 1, 1]  # three check-ins, one reminder (four), the planned break (not counted), the follow-up
    with database.transaction() as session:
        first, follow_up = session.get(Prompt, ids[8]), session.get(Prompt, ids[13])
        assert first.reminded_at == local("Europe/London", 7, 11)
        assert session.get(Prompt, ids[12]).sent_at == local("Europe/London", 7, 12)
        assert follow_up.sent_at == local("Europe/London", 7, 13) and follow_up.snoozed_until is None
        assert outbound.sent_today(session, session.get(Patient, patient), local("Europe/London", 7, 13)) == 5


async def test_a_lesson_over_the_cap_waits_for_the_next_day_and_a_wind_down_nudge_is_dropped(database):
    # A lesson belongs to no day, so it waits; a nudge comes at its time or not at all.
    patient = add_patient(database, "1001", "Europe/London")
    hours = {8: "checkin", 9: "checkin", 10: "checkin", 11: "checkin", 12: "lesson", 21: "wind_down"}
    ids = {hour: add_prompt(database, patient, local("Europe/London", 7, hour), kind) for hour, kind in hours.items()}
    _phone, sent = await run_at(database, [local("Europe/London", 7, hour) for hour in hours])
    assert sent == [1, 1, 1, 1, 0, 0]
    with database.transaction() as session:
        lesson, nudge = session.get(Prompt, ids[12]), session.get(Prompt, ids[21])
        assert lesson.status == "snoozed" and lesson.snoozed_until == local("Europe/London", 8, 12)
        assert nudge.status == "capped" and nudge.reason.startswith("not sent: over the daily cap")
    _phone, sent = await run_at(database, [local("Europe/London", 8, 12)])
    assert sent == [1]


async def test_a_reminder_over_the_cap_is_dropped_with_its_reason(database):
    patient = add_patient(database, "1001", "Europe/London")
    ids = [add_prompt(database, patient, local("Europe/London", 7, hour)) for hour in (8, 9, 10, 11)]
    with database.transaction() as session:
        session.get(Prompt, ids[0]).expires_at = local("Europe/London", 7, 20)
    # One sender: at 11:00 the fourth check-in and the first one's reminder are both due, and this
    # is about the reminder coming second. (With several senders either may take the last place of
    # the day; that the day never goes over is the racing tests' concern.)
    _phone, sent = await run_at(database, [local("Europe/London", 7, hour) for hour in (8, 9, 10, 11, 12)], in_flight=1)
    assert sent == [1, 1, 1, 1, 0]
    with database.transaction() as session:
        first = session.get(Prompt, ids[0])
        assert first.sent_at is not None and first.reminded_at is None and first.remind_at is None
        assert first.reason.startswith("reminder not sent: over the daily cap")


@pytest.mark.parametrize("patients, due", [(30, 6), (2, 25)])  # many patients; a few with many due at once
async def test_two_dispatchers_racing_never_send_more_than_the_cap(database_url, patients, due):
    databases = [open_database(database_url), open_database(database_url, migrate=False)]
    due_prompts(databases[0], [7000 + i for i in range(patients)], DAY, per_patient=due)
    at_the_menu(databases[0])
    phone = Phone()
    dispatchers = [Dispatcher(db, Engine(db, clock=lambda: DAY), phone.deliver, clock=lambda: DAY) for db in databases]

    async def drain(dispatcher: Dispatcher) -> int:
        total = 0
        while sent := await dispatcher.tick():
            total += sent
        return total

    counts = await asyncio.gather(*(drain(d) for d in dispatchers))
    assert sum(counts) == 4 * patients and len(phone.sent) == 4 * patients
    by_patient: dict[str, int] = {}
    for who, _message in phone.sent:
        by_patient[who] = by_patient.get(who, 0) + 1
    assert set(by_patient.values()) == {4}
    assert fates(databases[0]).count("capped") == (due - 4) * patients
    for db in databases:
        db.dispose()


async def test_withdrawn_patients_get_nothing_and_nothing_is_counted_for_them(database):
    patient = add_patient(database, "1001", "Europe/London")
    times = [local("Europe/London", 7, hour) for hour in (8, 9, 10)]
    for at, kind in zip(times, ["checkin", "flare_followup", "sprint_review"]):
        add_prompt(database, patient, at, kind)
    with database.transaction() as session:
        session.get(Patient, patient).consent = "withdrawn"
    phone, sent = await run_at(database, times)
    assert sent == [0, 0, 0] and phone.sent == []
    assert all(p.claimed_at is None and p.sent_at is None and p.status != "capped" for p in rows(database))


# -- the clinic's setting -----------------------------------------------------------------------


def test_the_cap_is_set_from_the_command_line_and_checked(database, capsys):
    assert main(["clinic", "create", "Riverside"]) == 0
    for refused in ("0", "25", "four", "2.5"):
        assert main(["clinic", "set", "Riverside", "daily_message_cap", refused]) == 2
    err = capsys.readouterr().err
    assert "daily_message_cap must be from 1 to 24" in err and "daily_message_cap must be a whole number, like 4" in err
    assert main(["clinic", "set", "Riverside", "daily_message_cap", "2"]) == 0
    with database.transaction() as session:
        clinic = enrollment.clinic_named(session, "Riverside")
        assert clinic.setting("daily_message_cap") == 2
        clinic_id = clinic.id
    patient = add_patient(database, "1001", "Europe/London", clinic_id)
    times = [local("Europe/London", 7, hour) for hour in (8, 9, 10)]
    for at in times:
        add_prompt(database, patient, at)
    _phone, sent = asyncio.run(run_at(database, times))
    assert sent == [1, 1, 0]


def test_the_cap_defaults_to_four(database):
    with database.transaction() as session:
        assert database.default_clinic(session).setting("daily_message_cap") == 4


# -- the switch ---------------------------------------------------------------------------------

NOW = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)  # the chat fixture's calendar


def one_of_each_due(database, patient_id: int, kind: str) -> int:
    """One prompt of `kind` due now; for the reminder, a check-in sent an hour ago whose reminder is due."""
    prompt_id = add_prompt(database, patient_id, NOW - timedelta(minutes=1), "checkin" if kind == outbound.REMINDER else kind)
    if kind == outbound.REMINDER:
        with database.transaction() as session:
            prompt = session.get(Prompt, prompt_id)
            prompt.status, prompt.sent_at, prompt.remind_at = "sent", NOW - timedelta(hours=1), NOW - timedelta(minutes=1)
    return prompt_id


def patient_id(database) -> int:
    with database.transaction() as session:
        return session.scalars(select(Patient.id)).one()


@pytest.mark.parametrize("kind", outbound.ALL)
async def test_the_pause_stops_every_kind_but_what_was_asked_for_and_safety_follow_ups_and_resume_brings_them_back(chat, database, kind):
    onboard(chat)
    chat.command("pause")
    assert "Reminders are paused" in chat.text and "Still on while paused" in chat.text
    one_of_each_due(database, patient_id(database), kind)
    dispatcher = Dispatcher(database, chat.engine, Phone().deliver, clock=lambda: NOW)
    goes_on = kind in (*outbound.ASKED_FOR, *outbound.SAFETY)
    assert await dispatcher.tick() == (1 if goes_on else 0)
    chat.command("resume")
    assert "Reminders are back on." in chat.text
    assert await dispatcher.tick() == (0 if goes_on else 1)


async def test_what_the_pause_held_back_is_recorded_as_paused_not_missed(database):
    patient = add_patient(database, "1001", "Europe/London")
    times = [local("Europe/London", 7, hour) for hour in (8, 9)]
    held, follow_up = add_prompt(database, patient, times[0]), add_prompt(database, patient, times[1], "flare_followup")
    with database.transaction() as session:
        session.get(Patient, patient).checkins_paused = True
    _phone, sent = await run_at(database, [*times, local("Europe/London", 7, 12)])
    assert sent == [0, 1, 0]  # the follow-up on a flare goes on
    with database.transaction() as session:
        assert (session.get(Prompt, held).status, session.get(Prompt, held).reason) == ("expired", "not sent: the patient paused reminders")
        assert session.get(Prompt, follow_up).sent_at == times[1]


def test_pause_and_resume_said_twice_and_before_taking_part(chat, database):
    chat.command("start")
    chat.command("pause")
    assert "Let's finish setting up first" in chat.text
    chat.press("English")
    chat.press("Continue")
    chat.press("Yes, I agree")
    chat.press("Yes, I'm 18 or older")
    chat.press("London")
    chat.press("Yes, that's right")
    chat.say("Sam")
    for _ in range(5):
        chat.press("Skip this question")
    chat.command("help")
    assert "/pause – pause reminders; /resume – switch them back on" in chat.text
    chat.command("resume")
    assert "Reminders are already on." in chat.text
    chat.command("pause")
    chat.command("pause")
    assert "Reminders are already paused." in chat.text and "Still on while paused" in chat.text
    chat.command("withdraw")
    chat.command("resume")
    assert "You have withdrawn your consent" in chat.text  # nothing to switch on: nothing is sent


SWITCH = {  # the tool, what it shows, its button, what the patient is told, and the way back
    "en": ("Settings", "Pause reminders", "Reminders are on.", "Reminders are paused", "Still on while paused", "Resume reminders",
           "Reminders are back on."),
    "es": ("Ajustes", "Pausar los recordatorios", "Los recordatorios están activados.", "Los recordatorios están en pausa",
           "te seguirán llegando", "Reanudar los recordatorios", "Los recordatorios vuelven a estar activados."),
    "de": ("Einstellungen", "Erinnerungen pausieren", "Die Erinnerungen sind eingeschaltet.", "Die Erinnerungen sind pausiert",
           "Auch während der Pause kommen weiterhin", "Erinnerungen wieder einschalten", "Die Erinnerungen sind wieder eingeschaltet."),
}


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_the_switch_in_settings_in_three_languages(chat, database, language):
    onboard(chat)
    with database.transaction() as session:
        session.scalars(select(Patient)).one().language = language
    group, tool, on, paused, stays, resume, back_on = SWITCH[language]
    chat.command("menu")
    chat.press(group)
    chat.press(tool)
    assert on in chat.text
    chat.say("yes please")  # typed where a button was expected: the question again, nothing changed
    assert on in chat.text and tool in chat.buttons
    with database.transaction() as session:
        assert session.scalars(select(Patient.checkins_paused)).one() is False
    chat.press(tool)
    assert paused in chat.text and stays in chat.text and resume in chat.buttons
    assert len(chat.texts) == 1 and chat.text.count(stays) == 1  # what changed, said once
    with database.transaction() as session:
        assert session.scalars(select(Patient.checkins_paused)).one() is True
    chat.press(resume)
    assert back_on in chat.text
    with database.transaction() as session:
        assert session.scalars(select(Patient.checkins_paused)).one() is False


def test_a_paused_patient_sees_it_among_their_check_in_times(chat):
    onboard(chat)
    chat.command("pause")
    chat.command("menu")
    chat.open("Check-in times")
    assert "Reminders are paused (Settings → Pause reminders, or /resume)." in chat.text
    assert "Pause check-ins" not in chat.buttons  # one switch, in one place



# -- through Telegram ---------------------------------------------------------------------------


async def eventually(condition, within: float = 60.0) -> None:
    """Wait until `condition()` holds: a generous bound, not a guess at how long the work takes."""
    deadline = asyncio.get_running_loop().time() + within
    while not await asyncio.to_thread(condition) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)


async def test_through_telegram_the_switch_holds_everything_back_and_after_it_four_a_day_go(emulator, database, database_url):
    """The real Application, its own scheduler dispatching, against the Bot API emulator."""
    from bot.config import Settings
    from bot.sender import Sender
    from bot.telegram import build_application
    from phone import Phone as TelegramPhone
    from test_telegram import ALICE, running, walk_onboarding

    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0.2)
    engine = Engine(database)
    app = build_application(settings, engine, sender=Sender(per_chat_interval=0.05))
    async with running(app, database):
        alice = TelegramPhone(emulator, ALICE)
        await walk_onboarding(alice)  # New York
        menus = {c["params"].get("language_code") or "en": str(c["params"]["commands"]) for c in emulator.calls_to("setMyCommands")}
        for language, words in (("en", "Pause reminders"), ("es", "Pausar los recordatorios"), ("de", "Erinnerungen pausieren")):
            assert "'pause'" in menus[language] and "'resume'" in menus[language] and words in menus[language]
        alice.send("/pause")
        said = await alice.expect("Reminders are paused")
        assert "Still on while paused: the breaks you planned in an activity" in said
        with database.transaction() as session:
            alice_id = session.scalars(select(Patient.id).where(Patient.external_id == str(ALICE))).one()
        # Due just before the calendar's NOW (08:05 in New York) and open all morning, however long
        # the test itself takes: the Application's scheduler reads the calendar, which moves on.
        ids = [add_prompt(database, alice_id, NOW - timedelta(minutes=minutes), open_for=timedelta(hours=3)) for minutes in range(1, 6)]
        assert await asyncio.to_thread(Dispatcher(database, engine, Phone().deliver, clock=lambda: NOW).claim_one, NOW) is None  # held by the switch
        alice.send("/resume")
        await alice.expect("Reminders are back on.")

        def settled() -> bool:
            mine = [p for p in rows(database, alice_id) if p.id in ids]
            return sorted("sent" if p.sent_at else p.status for p in mine) == ["capped"] + ["sent"] * 4

        await eventually(settled)
        assert settled(), [(p.status, p.reason, p.scheduled_for, p.kind) for p in rows(database, alice_id)]
        await alice.expect("time for your check-in")
        invitations = [m for m in emulator.messages(ALICE) if "time for your check-in" in m["text"]]
        assert len(invitations) == 4
