"""Every coaching dialog, walked end to end with wrong input at every step, left midway with
/cancel, and continued by a new engine (as after a restart)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from conftest import Chat
from dialogs.engine import Engine
from dialogs.io import Media, Press
from onboard import onboard
from storage.models import DialogState, Prompt

UTC = timezone.utc

# (menu entry, steps): each step is ("press", label) or ("say", text) or ("done", None) for a guide that plays out
WALKS = {
    "breathing": ("Breathing exercise", [("press", "Box breathing (4-4-4-4)"), ("press", "1 minute"), ("press", "6"),
                                         ("done", None), ("say", "3")]),
    "thoughtcheck": ("Thought-check", [("press", "New thought-check"), ("say", "Argument at work"), ("say", "angry"), ("press", "80"),
                                       ("say", "They think I'm lazy"), ("press", "70"), ("press", "Mind reading"), ("say", "She sighed"),
                                       ("say", "She thanked me yesterday"), ("say", "I don't know what she thinks"), ("press", "30"),
                                       ("press", "40")]),
    "flareplan": ("My flare plan", [("say", "Stiff neck"), ("say", "Heat"), ("say", "Lifting"), ("say", "My sister"), ("say", "After a week")]),
    "flare": ("I'm having a flare", [("press", "7"), ("press", "I'm all right for now")]),
    "visit": ("Prepare for a visit", [("say", "Better sleep"), ("say", "A plan"), ("say", "Can I swim?"), ("press", "No treatment is being considered")]),
    "pacing": ("Pacing my activities", [("press", "Add an activity"), ("press", "Gardening"), ("press", "Log today's activity"),
                                        ("press", "Gardening"), ("say", "30"), ("press", "Back to the menu")]),
    "sprint": ("My sprint", [("press", "Start a sprint"), ("press", "Hours of sleep"), ("press", "Done"), ("press", "5 weeks")]),
}


def position(database) -> tuple[str, str, int]:
    with database.transaction() as session:
        row = session.scalars(select(DialogState)).one()
        return row.dialog, row.state, len(row.stack)


def act(chat: Chat, kind: str, value) -> None:
    if kind == "press":
        chat.press(value)
    elif kind == "say":
        chat.say(value)
    else:
        chat.event(Press(chat.outputs[-1].guide_done, chat.message_ids))


@pytest.mark.parametrize("name", list(WALKS))
def test_walk_with_wrong_input_at_every_step(chat, database, name):
    onboard(chat)
    entry, steps = WALKS[name]
    chat.open(entry)
    for kind, value in steps:
        if kind == "done":  # a guided drill stops with any input: see the next test
            act(chat, kind, value)
            continue
        before = position(database)
        buttons = dict(chat.last_buttons)
        chat.event(Media("sticker"))
        assert "I can only read text" in chat.text and position(database) == before
        chat.last_buttons = dict(buttons)
        chat.say("✨")  # no words, no number, no button
        assert position(database) == before, (name, kind, value, chat.text)
        assert chat.texts, "never silence"
        chat.last_buttons = dict(buttons)
        act(chat, kind, value)
    assert position(database)[0] == "menu", (name, chat.text)


def test_a_sticker_during_a_drill_stops_it(chat, database):
    onboard(chat)
    chat.open("Breathing exercise")
    chat.press("Physiological sigh")
    chat.press("3 minutes")
    chat.press("4")
    chat.event(Media("sticker"))
    assert "How tense do you feel now" in chat.text
    assert position(database)[1] == "tension_after"


@pytest.mark.parametrize("name", list(WALKS))
def test_cancel_midway_returns_to_the_menu(chat, database, name):
    onboard(chat)
    entry, steps = WALKS[name]
    chat.open(entry)
    act(chat, *steps[0])
    chat.command("cancel")
    assert position(database) == ("menu", "main", 0)
    assert "What would you like to do?" in chat.text


@pytest.mark.parametrize("name", list(WALKS))
def test_a_new_engine_continues_midway(chat, database, name):
    onboard(chat)
    entry, steps = WALKS[name]
    chat.open(entry)
    act(chat, *steps[0])
    restarted = Chat(Engine(database, clock=chat.engine.clock), chat.who.external_id)
    restarted.last_buttons, restarted.message_ids, restarted.outputs = chat.last_buttons, chat.message_ids, chat.outputs
    restarted.shown = chat.shown
    for kind, value in steps[1:]:
        act(restarted, kind, value)
    assert position(database)[0] == "menu"


def test_a_flare_during_an_activity_block_brings_the_break_forward(database):
    clock = {"at": datetime(2026, 11, 28, 13, 5, tzinfo=UTC)}
    chat = Chat(Engine(database, clock=lambda: clock["at"]))
    onboard(chat)
    chat.open("Pacing my activities")
    chat.press("Add an activity")
    chat.press("Walking")
    for _ in range(3):
        chat.press("Log today's activity")
        chat.press("Walking")
        chat.say("40")
        clock["at"] += timedelta(days=1)
    chat.press("Start an activity block")
    chat.press("Walking")
    chat.press("No, start now")  # a 32-minute block
    clock["at"] += timedelta(minutes=10)
    chat.command("menu")
    chat.press("I'm having a flare")
    chat.press("8")
    with database.transaction() as session:
        brk = session.scalars(select(Prompt).where(Prompt.kind == "pacing_break")).one()
        assert brk.scheduled_for == clock["at"]  # the break is now, not 22 minutes on
