"""Thought-checks through the engine: the full record, the quick one for a flare, looking back."""
from __future__ import annotations

from sqlalchemy import select

from onboard import onboard
from storage.models import ThoughtRecord


def records(database) -> list[ThoughtRecord]:
    with database.transaction() as session:
        return list(session.scalars(select(ThoughtRecord).order_by(ThoughtRecord.id)))


def open_thoughts(chat) -> None:
    chat.command("menu")
    chat.open("Thought-check")
    assert "look at a painful thought" in chat.text


def test_a_full_thought_check_shows_the_change_in_belief(chat, database):
    onboard(chat)
    open_thoughts(chat)
    chat.press("New thought-check")
    assert "What happened?" in chat.text
    chat.say("My back seized up while I was gardening")
    chat.say("scared")
    assert "How strong was that feeling" in chat.text and "100" in chat.buttons
    chat.press("70")
    chat.say("I'll never be able to garden again")
    chat.say("85")  # typed
    assert "thinking traps" in chat.text and "Catastrophizing" in chat.buttons
    chat.press("What do these mean?")
    assert "Fortune-telling: Predicting the future as if it were certain." in chat.text
    chat.press("Catastrophizing")
    chat.say("It hurts a lot right now")
    chat.say("Last spring I gardened an hour a day after a flare like this")
    chat.say("This is a flare; I can garden in short spells again when it settles")
    chat.say("140")
    assert "Please send a number from 0 to 100." in chat.text
    chat.press("40")
    assert "(scared)" in chat.text
    chat.press("30")
    assert "Your belief in the thought went from 85 to 40, and the feeling from 70 to 30." in chat.text
    assert "What would you like to do?" in chat.texts[-1]
    [row] = records(database)
    assert (row.kind, row.trap, row.belief_before, row.belief_after, row.emotion_before, row.emotion_after) == (
        "full", "catastrophizing", 85, 40, 70, 30)
    assert row.thought == "I'll never be able to garden again" and row.completed_at is not None

    open_thoughts(chat)
    chat.press("My last thought-checks")
    assert "“I'll never be able to garden again”" in chat.text and "belief 85 → 40 · Catastrophizing" in chat.text


def test_the_quick_check_for_a_flare(chat, database):
    onboard(chat)
    open_thoughts(chat)
    chat.press("Quick check during a flare")
    assert "afraid will happen" in chat.text
    chat.say("I'll be stuck in bed all week")
    chat.press("20")
    chat.say("Flares pass; take it an hour at a time")
    chat.say("A warm shower and a short walk to the corner")
    assert "Your next step: A warm shower and a short walk to the corner" in chat.text
    [row] = records(database)
    assert (row.kind, row.belief_before, row.next_step) == ("quick", 20, "A warm shower and a short walk to the corner")


def test_a_thought_check_left_halfway_keeps_what_was_written(chat, database):
    onboard(chat)
    open_thoughts(chat)
    chat.press("New thought-check")
    chat.say("Cancelled plans with a friend")
    chat.say("?")
    assert "A few words are enough" in chat.text
    chat.say("guilty")
    chat.command("cancel")
    assert "What would you like to do?" in chat.text
    [row] = records(database)
    assert (row.situation, row.emotion, row.completed_at) == ("Cancelled plans with a friend", "guilty", None)
    open_thoughts(chat)
    chat.press("My last thought-checks")
    assert "You haven't finished a thought-check yet." in chat.text
