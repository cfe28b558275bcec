"""Flare plans written in advance, and a flare: the plan shown back, the pain recorded, help offered."""
from __future__ import annotations

from sqlalchemy import select

from onboard import onboard
from storage.models import FlareEpisode, FlarePlan, ThoughtRecord

PLAN = ["Stiff neck in the morning", "Heat, short walks, my breathing drill", "Heavy shopping and long drives",
        "My partner, so they can take over the school run", "If I get numbness or it lasts over a week: my GP"]


def test_writing_a_flare_plan_and_changing_one_part(chat, database):
    onboard(chat)
    chat.press("My flare plan")
    assert "early warning signs" in chat.text
    for part in PLAN:
        chat.say(part)
    assert "Your flare plan is saved." in chat.text and "Heavy shopping and long drives" in chat.text
    chat.press("My flare plan")
    assert "Now: Stiff neck in the morning" in chat.text
    chat.press("Keep it as it is")
    chat.say("Heat, a warm bath, short walks")
    for _ in range(3):
        chat.press("Keep it as it is")
    with database.transaction() as session:
        plan = session.scalars(select(FlarePlan)).one()
        assert (plan.warning_signs, plan.what_helps, plan.when_to_seek_care) == (PLAN[0], "Heat, a warm bath, short walks", PLAN[4])


def test_a_flare_shows_the_plan_records_the_pain_and_offers_a_quick_check(chat, database):
    onboard(chat)
    chat.press("My flare plan")
    for part in PLAN:
        chat.say(part)
    chat.press("I'm having a flare")
    assert "I'm sorry it's flaring" in chat.text and "Heat, short walks, my breathing drill" in chat.text
    chat.say("8/10")
    assert "Would something help right now?" in chat.text
    chat.press("A quick thought-check")
    chat.say("This will never get better")
    chat.press("10")
    chat.say("You've had flares before and they eased")
    chat.say("Lie on the floor with my knees up for ten minutes")
    assert "Your next step" in chat.text and "Would something help right now?" in chat.text
    chat.press("I'm all right for now")
    assert "What would you like to do?" in chat.texts[-1]
    with database.transaction() as session:
        episode = session.scalars(select(FlareEpisode)).one()
        assert episode.peak_pain == 8 and episode.ended_at is None
        assert session.scalars(select(ThoughtRecord)).one().kind == "quick"


def test_a_flare_without_a_plan_yet(chat, database):
    onboard(chat)
    chat.press("I'm having a flare")
    assert "You haven't written a flare plan yet." in chat.text
