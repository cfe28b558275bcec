"""Flare plans written in advance, and a flare: the plan shown back, the pain recorded, help offered."""
from __future__ import annotations

from sqlalchemy import select

from onboard import onboard
from storage.models import FlareEpisode, FlarePlan, ThoughtRecord

PLAN = ["Stiff neck in the morning", "Heat, short walks, my breathing drill", "Heavy shopping and long drives",
        "My partner, so they can take over the school run", "If I get numbness or it lasts over a week: my GP"]


def test_writing_a_flare_plan_and_changing_one_part(chat, database):
    onboard(chat)
    chat.open("My flare plan")
    assert "early warning signs" in chat.text
    for part in PLAN:
        chat.say(part)
    assert "Your flare plan is saved." in chat.text and "Heavy shopping and long drives" in chat.text
    chat.open("My flare plan")
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
    chat.open("My flare plan")
    for part in PLAN:
        chat.say(part)
    chat.press("I'm having a flare")
    assert "I'm sorry it's flaring" in chat.text and "Heat, short walks, my breathing drill" in chat.text
    chat.say("8/10")
    assert "Would something help right now?" in chat.text
    chat.press("A quick thought-check")
    chat.say("This will never get better")
    assert "Is that happening for you?" in chat.text  # a hopeless thought is asked about first
    chat.press("No")
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
    assert "you can write a flare plan for next time under Plan and pace" in chat.text
    assert "Here is your plan" not in chat.text  # no plan announced before an empty one
    assert "How strong is the pain right now" in chat.text


def test_flare_words_in_free_text_bring_an_offer_not_a_detour(chat, database):
    onboard(chat)
    chat.open("My pain story")
    chat.say("honestly my back is flaring up again")  # where a button was expected: the offer first...
    assert chat.texts[0].startswith("It sounds like a flare.")  # ...which they may ignore
    assert "Please choose one of the buttons below." not in chat.text and "Your pain story" in chat.text
    chat.press("Yes, I'm having a flare")
    assert "I'm sorry it's flaring" in chat.text


def test_the_offer_comes_in_spanish_and_german_too():
    from dialogs.flares import mentions_flare

    assert mentions_flare("Tengo un brote desde ayer") and mentions_flare("Seit gestern ein Schmerzschub")
    assert not mentions_flare("I had a good walk") and not mentions_flare("Hoy caminé bien")


def test_a_daily_pain_two_points_above_the_week_offers_the_flare_steps(chat, database, engine):
    from datetime import timedelta

    from conftest import NOW
    from factories import daily_answers

    onboard(chat)
    daily_answers(database, [(NOW - timedelta(days=d), {"pain_now": p}) for d, p in [(1, 4), (2, 5), (3, 4), (4, 3)]])  # mean 4
    chat.open("Check in now")
    chat.press("Daily check-in")
    chat.press("6")
    for _ in range(4):
        chat.press("Skip")
    assert "It sounds like a flare." in chat.text


def test_negated_flare_words_are_not_a_flare():
    from dialogs.flares import mentions_flare

    for text in ["No flare today, thankfully", "My pain is not worse than yesterday", "Hoy sin brote", "Heute kein Schub"]:
        assert not mentions_flare(text), text
    for text in ["My pain has got worse since Monday", "El dolor ha empeorado", "Mein Schmerz ist viel schlimmer"]:
        assert mentions_flare(text), text


def test_four_check_ins_in_one_afternoon_are_one_day_not_four(chat, database):
    from datetime import timedelta

    from conftest import NOW
    from factories import daily_answers

    onboard(chat)
    daily_answers(database, [(NOW - timedelta(days=1, minutes=m), {"pain_now": 3}) for m in (10, 20, 30, 40)])
    chat.open("Check in now")
    chat.press("Daily check-in")
    chat.press("6")
    for _ in range(4):
        chat.press("Skip")
    assert "It sounds like a flare." not in chat.text
