"""`paincoach run` as a real process: SIGKILL it mid-onboarding, start it again, carry on."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from botapi import BotAPIEmulator
from phone import Phone
from storage.models import Inbox, PainStory, Patient

ROOT = Path(__file__).resolve().parents[1]
USER = 6001


class BotProcess:
    """`paincoach run` against the emulator, as a real process that can be killed and started.

    Its time: the machine's own clock (CI's PostgreSQL half moves it 400 days ahead with faketime,
    which the process inherits). The test process lives on NOW's calendar (conftest), so whatever
    it writes for the bot to act on is dated by the real clock, through time-machine's escape hatch."""

    def __init__(self, emulator: BotAPIEmulator, database_url: str, log: Path, extra: dict | None = None):
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "PAINCOACH_BOT_API_URL": emulator.base_url,
            "PAINCOACH_DATABASE_URL": database_url,
            **(extra or {}),
        }
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> "BotProcess":
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=self.env, stdout=out, stderr=out)
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def settled(database) -> bool:
    """Every fetched update handled and every reply confirmed: nothing in the inbox or the outbox.
    (Waited for, never slept for: a slow machine only takes longer.)"""
    from storage.models import Outbox

    with database.transaction() as session:
        return not session.scalar(select(func.count()).select_from(Inbox)) and not session.scalar(select(func.count()).select_from(Outbox))


STEPS = [("English", "emergency service"), ("Continue", "Do you agree"), ("Yes, I agree", "18 or older"),
         ("Yes, I'm 18 or older", "Which time zone"), (None, "local time"), ("Yes, that's right", "call you")]


def walk_to_story(phone: Phone, bot: BotProcess, *, zone: str, name: str, kill_before: int | None = None) -> None:
    """Onboard through the bot process. With `kill_before`, the bot is SIGKILLed before that
    press, the press is made while it is down (Telegram keeps it), and the bot is started again."""
    phone.send("/start")
    phone.wait("Which language", timeout=30)
    for index, (label, expect) in enumerate(STEPS):
        if index == kill_before:
            bot.kill()
        phone.press(label or zone)
        if index == kill_before:
            bot.start()
        phone.wait(expect, timeout=30)
    phone.send(name)
    phone.wait("Where does it hurt?")


def test_sigkill_between_two_messages_loses_nothing(emulator, database, database_url, tmp_path):
    phone = Phone(emulator, USER)
    bot = BotProcess(emulator, database_url, tmp_path / "bot.log").start()
    try:
        walk_to_story(phone, bot, zone="Sydney", name="Robin", kill_before=2)
        phone.send("Both knees")
        phone.wait("Since when")
        emulator.wait_for(lambda: settled(database), timeout=30)  # the reply confirmed: a kill now must repeat nothing
        bot.kill()
        bot.start()
        phone.send("About five years")
        phone.wait("What makes it worse?", timeout=30)
        emulator.wait_for(lambda: settled(database), timeout=30)  # nothing left to handle or send before the last kill
    finally:
        bot.kill()

    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        assert (patient.consent, patient.timezone, patient.preferred_name) == ("given", "Australia/Sydney", "Robin")
        story = session.get(PainStory, patient.id)
        assert (story.where_it_hurts, story.since_when) == ("Both knees", "About five years")
        assert session.scalar(select(func.count()).select_from(Inbox)) == 0  # nothing left unhandled
    # Each question was asked once: no step was replayed after a restart.
    texts = [m["text"] for m in emulator.messages(USER)]
    assert sum(t.startswith("Are you 18 or older?") for t in texts) == 1, texts
    assert sum(t.startswith("Since when") for t in texts) == 1
    assert emulator.token not in (tmp_path / "bot.log").read_text()


def test_a_question_answered_while_the_bot_was_down_is_not_asked_again(emulator, database, database_url, tmp_path):
    """Telegram delivered the next question, but the bot was SIGKILLed before it heard so: the
    question is still in the outbox. The patient answers it while the bot is down. On restart
    their answer is handled first and supersedes the kept question: they get the one after it,
    and the one they answered only once."""
    phone = Phone(emulator, USER)
    bot = BotProcess(emulator, database_url, tmp_path / "bot.log").start()
    try:
        walk_to_story(phone, bot, zone="Denver", name="Jo")
        emulator.wait_for(lambda: settled(database), timeout=30)
        emulator.stall_next("sendMessage", applied=True)
        phone.send("Both knees")
        phone.wait("Since when")  # on the phone, while the bot still waits for Telegram's answer
        with database.transaction() as session:
            from storage.models import Outbox

            kept = session.scalar(select(func.count()).select_from(Outbox))
        bot.kill()
        emulator.release_stalled()
        phone.send("About five years")
        bot.start()
        phone.wait("What makes it worse?", timeout=30)
        emulator.wait_for(lambda: settled(database), timeout=30)
    finally:
        bot.kill()
    assert kept == 1  # at the kill, the question was kept unconfirmed
    texts = [m["text"] for m in emulator.messages(USER)]
    assert sum(t.startswith("Since when") for t in texts) == 1, texts
    assert sum(t.startswith("What makes it worse?") for t in texts) == 1, texts
    with database.transaction() as session:
        story = session.scalars(select(PainStory)).one()
        assert (story.where_it_hurts, story.since_when) == ("Both knees", "About five years")


def test_updates_fetched_but_not_handled_survive_a_kill(emulator, database, database_url, tmp_path):
    """Four quick answers, SIGKILL right after the first reply: the other three are handled on restart."""
    phone = Phone(emulator, USER)
    bot = BotProcess(emulator, database_url, tmp_path / "bot.log").start()
    try:
        walk_to_story(phone, bot, zone="Denver", name="Jo")
        for answer in ["one", "two", "three", "four"]:
            emulator.send_text(USER, answer)
        phone.wait("Since when")  # the first answer is handled; the rest are queued behind it
        bot.kill()
        bot.start()
        phone.wait("What does a good day look like for you?", timeout=30)
    finally:
        bot.kill()
    with database.transaction() as session:
        story = session.scalars(select(PainStory)).one()
        assert [story.where_it_hurts, story.since_when, story.what_makes_it_worse, story.what_has_been_tried] == ["one", "two", "three", "four"]


def test_sigkill_amid_crisis_messages_leaves_no_safety_event_without_its_alert(emulator, database, database_url, tmp_path):
    """Twenty patients send a crisis message at once; the bot is SIGKILLed as the first replies go
    out and started again. At the kill and after: every safety event has its alert (they are written
    in the step's one transaction), and every patient has exactly one of each (nothing lost, nothing
    applied twice)."""
    from datetime import timezone

    from time_machine import escape_hatch

    from factories import due_prompts
    from storage.models import Alert, SafetyEvent

    chats = [7300 + i for i in range(20)]
    due_prompts(database, chats, escape_hatch.datetime.datetime.now(timezone.utc), per_patient=0)
    bot = BotProcess(emulator, database_url, tmp_path / "bot.log", {"PAINCOACH_DISPATCH_SECONDS": "0"}).start()

    def counts() -> tuple[dict[int, int], dict[int, int]]:
        with database.transaction() as session:
            events = dict(session.execute(select(SafetyEvent.patient_id, func.count()).where(SafetyEvent.category == "crisis")
                                          .group_by(SafetyEvent.patient_id)).all())
            alerts = dict(session.execute(select(Alert.patient_id, func.count()).where(Alert.category == "crisis")
                                          .group_by(Alert.patient_id)).all())
        return events, alerts

    try:
        emulator.wait_for(lambda: len(emulator.calls_to("getUpdates")) >= 1, timeout=30)
        for chat in chats:
            emulator.send_text(chat, "I can't take this pain anymore, I want to kill myself tonight")
        emulator.wait_for(lambda: len(emulator.calls_to("sendMessage")) >= 1, timeout=30)
        bot.kill()
        at_kill = counts()
        replied_at_kill = len({call["chat_id"] for call in emulator.calls_to("sendMessage")})
        bot.start()
        # (On PostgreSQL, where several processes may run, replies a dead one kept wait out its lease: 30 s.)
        emulator.wait_for(lambda: len({call["chat_id"] for call in emulator.calls_to("sendMessage")}) == len(chats), timeout=90)
        emulator.wait_for(lambda: settled(database), timeout=30)
    finally:
        bot.kill()
    events, alerts = at_kill
    assert events == alerts and set(events.values()) <= {1}  # at the kill: no event without its alert
    assert replied_at_kill < len(chats)  # the kill came before every patient was answered
    events, alerts = counts()
    assert len(events) == len(chats) and events == alerts and set(events.values()) == {1}
    for chat in chats:
        # The crisis reply, or (for a step recorded just before the kill) the pause it left, with the lines again.
        assert any("When you feel ready, tap Continue" in m["text"] for m in emulator.messages(chat))


def test_sigkill_between_the_step_and_its_reply_sends_the_very_reply_on_restart(emulator, database, database_url, tmp_path):
    """A crisis message is handled (its step, safety event, alert and reply committed together,
    the reply in the outbox); the bot is SIGKILLed while Telegram has not yet taken the reply. The
    next start sends that reply itself, once, not a question asked again."""
    from datetime import timezone

    from time_machine import escape_hatch

    from factories import due_prompts
    from storage.models import Alert, Outbox, SafetyEvent

    chat = 7400
    due_prompts(database, [chat], escape_hatch.datetime.datetime.now(timezone.utc), per_patient=0)
    bot = BotProcess(emulator, database_url, tmp_path / "bot.log", {"PAINCOACH_DISPATCH_SECONDS": "0"}).start()
    try:
        emulator.wait_for(lambda: len(emulator.calls_to("getUpdates")) >= 1, timeout=30)
        emulator.stall_next("sendMessage")
        emulator.send_text(chat, "I can't take this pain anymore, I want to kill myself tonight")
        emulator.wait_for(lambda: emulator.stalled >= 1, timeout=30)  # the reply is on its way
        with database.transaction() as session:
            kept = session.scalar(select(func.count()).select_from(Outbox))
            events = session.scalar(select(func.count()).select_from(SafetyEvent))
        bot.kill()
        emulator.release_stalled()
        assert emulator.messages(chat) == []  # Telegram never took it
        bot.start()
        # On SQLite at once; on PostgreSQL once the dead process's 30 s lease on it has run out.
        emulator.wait_for(lambda: any("Our coaching is paused" in m["text"] for m in emulator.messages(chat)), timeout=90)
        emulator.wait_for(lambda: settled(database), timeout=30)  # the resent reply confirmed
    finally:
        bot.kill()
    assert kept >= 1 and events == 1  # at the kill: the step was done and its reply kept
    texts = [m["text"] for m in emulator.messages(chat)]
    assert sum("Our coaching is paused" in t for t in texts) == 1 and not any("I'm still here" in t for t in texts)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Outbox)) == 0
        assert session.scalar(select(func.count()).select_from(SafetyEvent)) == 1  # applied once
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
