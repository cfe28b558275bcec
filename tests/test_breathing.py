"""Breathing drills: the frames, the player's timing on a controllable clock, the dialog, Telegram."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.guide import GuidePlayer
from content.breathing import drills
from dialogs.breathing import guide_frames
from dialogs.io import Edit, Message, Press
from onboard import onboard
from storage.models import BreathingSession


@pytest.mark.parametrize("pattern, minutes, cycles", [("paced", 1, 6), ("box", 3, 12), ("sigh", 5, 30)])
def test_frames_follow_the_pattern_for_the_chosen_length(pattern, minutes, cycles):
    frames = guide_frames(drills()[1][pattern], minutes)
    times = [at for at, _text in frames]
    assert times == sorted(times) and times[0] == 0
    assert min(b - a for a, b in zip(times, times[1:])) >= 1  # never more than one edit a second
    assert times[-1] == pytest.approx(minutes * 60, abs=drills()[1][pattern].cycle_seconds)
    assert f"Cycle {cycles} of {cycles}" in frames[-2][1] and frames[-1][1] == "Well done. Breathe normally now."
    assert frames[0][1].startswith("Breathe in") and "If you feel dizzy, stop and breathe normally." in frames[0][1]


class FakeTime:
    """A clock that only moves when the player sleeps."""

    def __init__(self):
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_the_player_edits_in_order_at_the_phase_times_then_finishes():
    time = FakeTime()
    player = GuidePlayer(sleep=time.sleep, clock=time.clock)
    frames = guide_frames(drills()[1]["box"], 1)
    edits: list[tuple[float, str]] = []
    finished = asyncio.Event()

    async def edit(text, last):
        edits.append((time.now, text))

    async def finish():
        finished.set()

    player.start(42, frames, edit, finish)
    await asyncio.wait_for(finished.wait(), 1)
    assert edits == list(frames[1:])  # every later frame, at its own time, in order


async def test_a_failed_edit_does_not_freeze_the_drill():
    time = FakeTime()
    player = GuidePlayer(sleep=time.sleep, clock=time.clock)
    frames = guide_frames(drills()[1]["paced"], 1)
    edits, finished = [], asyncio.Event()

    async def edit(text, last):
        edits.append(text)
        if len(edits) == 2:
            raise TimeoutError("Telegram did not answer")

    async def finish():
        finished.set()

    player.start(1, frames, edit, finish)
    await asyncio.wait_for(finished.wait(), 1)
    assert len(edits) == len(frames) - 1


async def test_stop_is_honoured_within_one_phase():
    time = FakeTime()
    player = GuidePlayer(sleep=time.sleep, clock=time.clock)
    frames = guide_frames(drills()[1]["paced"], 1)
    edits, finishes = [], []

    async def edit(text, last):
        edits.append(time.now)
        if len(edits) == 3:
            player.stop(7)  # the patient pressed Stop during the third phase

    async def finish():
        finishes.append(time.now)

    player.start(7, frames, edit, finish)
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(edits) == 3 and finishes == []


async def test_stopping_names_the_message_only_while_it_shows_its_buttons():
    time = FakeTime()
    player = GuidePlayer(sleep=time.sleep, clock=time.clock)
    frames = guide_frames(drills()[1]["paced"], 1)
    stopped, finished = [], asyncio.Event()

    async def edit(text, last):
        if not last and len(stopped) == 0 and text == frames[2][1]:
            stopped.append(player.stop(7))  # mid-drill: the Stop button is still up

    async def finish():
        finished.set()

    player.start(7, frames, edit, finish, message=42)
    for _ in range(50):
        await asyncio.sleep(0)
    assert stopped == [42] and player.stop(7) is None

    closing = asyncio.Event()

    async def last_edit(text, last):
        if last:
            closing.set()

    async def wait_after_the_end():
        await asyncio.sleep(3600)  # the finishing step, still under way when the patient writes

    player.start(8, frames, last_edit, wait_after_the_end, message=43)
    await asyncio.wait_for(closing.wait(), 1)
    await asyncio.sleep(0)
    assert player.stop(8) is None  # the closing frame took the button away already


def test_a_drill_walked_through_the_engine(chat, database, engine):
    onboard(chat)
    chat.open("Breathing exercise")
    assert "Physiological sigh" in chat.buttons
    chat.press("Slow paced breathing (4 in, 6 out)")
    chat.press("1 minute")
    chat.press("6")
    guide = chat.outputs[-1]
    assert isinstance(guide, Message) and guide.guide and guide.guide_done and chat.buttons == ["Stop"]
    chat.event(Press(guide.guide_done, chat.message_ids))  # played out
    assert "How tense do you feel now" in chat.text
    chat.press("3")
    assert "Tension: from 6 to 3." in chat.text
    with database.transaction() as session:
        row = session.scalars(select(BreathingSession)).one()
        assert (row.pattern, row.planned_seconds, row.actual_seconds, row.completed, row.tension_before, row.tension_after) == (
            "paced", 60, 60, True, 6, 3)


def test_typing_done_does_not_finish_a_drill(chat, database):
    onboard(chat)
    chat.open("Breathing exercise")
    chat.press("Box breathing (4-4-4-4)")
    chat.press("5 minutes")
    chat.press("6")
    chat.say("done")
    with database.transaction() as session:
        assert session.scalars(select(BreathingSession)).one().completed is False  # stopped, not completed


def test_stopping_records_how_long_it_lasted(new_chat, database, engine):
    from conftest import NOW

    clock = {"now": NOW}
    engine.clock = lambda: clock["now"]
    chat = new_chat("8008")
    onboard(chat)
    chat.open("Breathing exercise")
    chat.press("Box breathing (4-4-4-4)")
    chat.press("3 minutes")
    chat.press("7")
    clock["now"] = NOW + timedelta(seconds=37)
    chat.press("Stop")
    chat.press("5")
    with database.transaction() as session:
        row = session.scalars(select(BreathingSession)).one()
        assert (row.completed, row.actual_seconds, row.planned_seconds) == (False, 37, 192)


def start_a_drill(chat) -> tuple[int, str]:
    """At the drill: its message id and its Stop button's callback data."""
    onboard(chat)
    chat.open("Breathing exercise")
    chat.press("Box breathing (4-4-4-4)")
    chat.press("5 minutes")
    chat.press("6")
    assert chat.buttons == ["Stop"] and chat.playing is not None
    return chat.playing, chat.last_buttons["Stop"][0]


def breathing_rows(database) -> list[tuple]:
    with database.transaction() as session:
        return [(r.completed, r.actual_seconds, r.tension_after) for r in session.scalars(select(BreathingSession))]


def test_cancel_during_a_drill_takes_its_stop_button_away(chat, database):
    drill, _stop = start_a_drill(chat)
    chat.command("cancel")
    assert Edit(drill, "Exercise stopped.") in chat.outputs  # the same message, no buttons left
    assert chat.edits[0].buttons == ()
    assert "Cancelled." in chat.text and "What would you like to do?" in chat.texts[-1]
    assert "How tense" not in chat.text  # left, not on to the next question
    assert breathing_rows(database) == [(False, 0, None)]  # stopped, its length recorded


@pytest.mark.parametrize("command", ["menu", "start"])
def test_any_command_that_leaves_the_drill_takes_its_stop_button_away(chat, database, command):
    drill, _stop = start_a_drill(chat)
    chat.command(command)
    assert chat.edits == [Edit(drill, "Exercise stopped.")]
    assert "What would you like to do?" in chat.texts[-1]
    assert breathing_rows(database) == [(False, 0, None)]


def test_help_during_a_drill_stops_it_and_goes_on_after_it(chat, database):
    drill, _stop = start_a_drill(chat)
    chat.command("help")
    assert chat.edits == [Edit(drill, "Exercise stopped.")]
    assert "/menu – the main menu" in chat.text and "How tense do you feel now" in chat.texts[-1]  # not the drill again
    assert all(not (isinstance(o, Message) and o.guide) for o in chat.outputs)


def test_a_press_on_the_stop_of_an_ended_drill_does_nothing_but_say_so(chat, database):
    drill, stop = start_a_drill(chat)
    chat.command("cancel")
    before = breathing_rows(database)
    chat.event(Press(stop, drill, "Box 4", shown=()))  # the button, pressed after it was taken away
    assert chat.texts[0] == "That exercise has already ended."
    assert "What would you like to do?" in chat.texts[-1] and "This button has expired." not in chat.text
    assert breathing_rows(database) == before
    chat.event(Press(stop, drill, "Box 4", shown=(stop,)))  # (an edit that never arrived: it goes now)
    assert chat.edits == [Edit(drill, "Box 4")] and chat.texts[0] == "That exercise has already ended."
    assert breathing_rows(database) == before


def test_typing_during_a_drill_takes_its_stop_button_away_too(chat, database):
    drill, _stop = start_a_drill(chat)
    chat.say("I feel dizzy")
    assert chat.edits == [Edit(drill, "Exercise stopped.")] and "Let's stop here." in chat.text


def test_the_stop_button_itself_leaves_the_answer_on_its_message(chat, database):
    drill, _stop = start_a_drill(chat)
    chat.press("Stop")
    assert chat.edits == [Edit(drill, "question\n\n✓ Stop")]  # (the test chat's message text), no second edit


def test_a_crisis_message_during_a_drill_stops_it_and_it_is_not_played_again(new_chat, database, engine):
    from conftest import NOW

    clock = {"now": NOW}
    engine.clock = lambda: clock["now"]
    chat = new_chat("8009")
    drill, _stop = start_a_drill(chat)
    clock["now"] = NOW + timedelta(seconds=25)
    chat.say("honestly I just want to die")
    assert chat.edits == [Edit(drill, "Exercise stopped.")] and chat.buttons == ["Continue"]
    assert breathing_rows(database) == [(False, 25, None)]  # stopped, its length recorded, at once
    chat.say("ok")  # still paused: nothing moves
    assert "I'm still here" in chat.text and breathing_rows(database) == [(False, 25, None)]
    chat.press("Continue")
    assert "Let's carry on." in chat.text and "How tense do you feel now" in chat.texts[-1]
    assert chat.playing is None and all(not (isinstance(o, Message) and o.guide) for o in chat.outputs)  # not played again
    chat.press("4")
    assert "Tension: from 6 to 4." in chat.text and "What would you like to do?" in chat.texts[-1]
    assert breathing_rows(database) == [(False, 25, 4)]


def test_the_direct_question_during_a_drill_stops_it_and_a_no_goes_on_after_it(chat, database):
    drill, _stop = start_a_drill(chat)
    chat.say("I can't go on like this")
    assert chat.edits == [Edit(drill, "Exercise stopped.")] and "Is that happening for you?" in chat.text
    assert breathing_rows(database) == [(False, 0, None)]
    chat.press("No")
    assert "How tense do you feel now" in chat.texts[-1] and "Please send a whole number" not in chat.text
    assert chat.playing is None
