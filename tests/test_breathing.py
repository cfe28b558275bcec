"""Breathing drills: the frames, the player's timing on a controllable clock, the dialog, Telegram."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.guide import GuidePlayer
from content.breathing import drills
from dialogs.breathing import guide_frames
from dialogs.io import Message, Press
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


def test_a_drill_walked_through_the_engine(chat, database, engine):
    onboard(chat)
    chat.press("Breathing exercise")
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
    chat.press("Breathing exercise")
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
    chat.press("Breathing exercise")
    chat.press("Box breathing (4-4-4-4)")
    chat.press("3 minutes")
    chat.press("7")
    clock["now"] = NOW + timedelta(seconds=37)
    chat.press("Stop")
    chat.press("5")
    with database.transaction() as session:
        row = session.scalars(select(BreathingSession)).one()
        assert (row.completed, row.actual_seconds, row.planned_seconds) == (False, 37, 192)
