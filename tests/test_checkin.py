"""Check-ins through the engine: typed and pressed answers, skips, re-asks, scores, resuming."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from content.instruments import instrument, score
from onboard import onboard
from storage.models import Answer, Response


def responses(database, instrument_id: str) -> list[Response]:
    with database.transaction() as session:
        return list(session.scalars(select(Response).where(Response.instrument == instrument_id).order_by(Response.id)))


def answers(database, response_id: int) -> dict[str, tuple[float | None, bool]]:
    with database.transaction() as session:
        return {a.item_id: (a.value, a.skipped) for a in session.scalars(select(Answer).where(Answer.response_id == response_id))}


def open_checkin(chat, which: str) -> None:
    chat.open("Check in now")
    assert "Which check-in" in chat.text
    chat.press(which)


def test_daily_check_in_with_typed_answers_and_skips(chat, database):
    onboard(chat)
    open_checkin(chat, "Daily check-in")
    assert "How strong is your pain right now?" in chat.text
    assert chat.buttons == [str(n) for n in range(11)]
    chat.say(" 7/10 ")
    assert "How many hours did you sleep last night?" in chat.text
    chat.say("6,5")
    chat.press("Skip")  # active minutes
    chat.say("4,500 steps")
    assert "Did you pace your activities yesterday" in chat.text
    chat.press("Partly")
    assert "that's your check-in done" in chat.text
    assert "What would you like to do?" in chat.texts[-1]  # back at the menu

    [response] = responses(database, "daily")
    assert response.completed_at is not None and response.source == "self" and response.score is None
    assert answers(database, response.id) == {
        "pain_now": (7.0, False),
        "sleep_hours": (6.5, False),
        "active_minutes": (None, True),  # a skip is recorded as skipped, never as zero
        "steps": (4500.0, False),
        "pacing_followed": (1.0, False),
    }


@pytest.mark.parametrize("typed, expected", [("11", "from 0 to 10"), ("seven", "from 0 to 10"), ("-3", "from 0 to 10"), ("7.5", "from 0 to 10"),
                                             ("1e309", "from 0 to 10"), ("2E1", "from 0 to 10"), ("nan", "from 0 to 10"), ("inf", "from 0 to 10"),
                                             ("-0", "from 0 to 10"), ("10⁹", "from 0 to 10"), ("1000000000", "from 0 to 10")])
def test_out_of_range_or_unreadable_answers_are_asked_again_naming_the_range(chat, database, typed, expected):
    onboard(chat)
    open_checkin(chat, "Daily check-in")
    chat.say(typed)
    assert f"Please send a whole number {expected}." in chat.text
    assert "How strong is your pain right now?" in chat.text
    assert answers(database, responses(database, "daily")[0].id) == {}


def test_hours_out_of_range(chat, database):
    onboard(chat)
    open_checkin(chat, "Daily check-in")
    chat.press("3")
    chat.say("25")
    assert "Please send a number from 0 to 24." in chat.text
    chat.say("1e309")  # once stored as 1 hour
    assert "Please send a number from 0 to 24." in chat.text
    assert answers(database, responses(database, "daily")[0].id) == {"pain_now": (3.0, False)}


def test_peg_is_scored_on_its_last_item_and_cannot_be_skipped(chat, database):
    onboard(chat)
    open_checkin(chat, "Pain this week (PEG)")
    assert "on average in the past week" in chat.text and "Skip" not in chat.buttons
    chat.say("skip")
    assert "Please send a whole number from 0 to 10." in chat.text
    chat.press("6")
    chat.press("5")
    assert responses(database, "peg3")[0].score is None  # not before the last item
    chat.press("5")
    assert "Your PEG score this week: 5.3 (0 to 10; lower is better)." in chat.text  # as /progress rounds it
    [response] = responses(database, "peg3")
    assert response.score == {"score": 5.33}


def test_a_check_in_left_halfway_is_resumed(chat, database):
    onboard(chat)
    open_checkin(chat, "Pain this week (PEG)")
    chat.press("8")
    chat.command("cancel")
    assert "What would you like to do?" in chat.text
    open_checkin(chat, "Pain this week (PEG)")
    assert "interfered with your enjoyment of life" in chat.text  # the next unanswered item
    chat.press("4")
    chat.press("6")
    [response] = responses(database, "peg3")
    assert response.score == {"score": 6.0}


def test_phq4_is_scored_with_bands_and_subscales(chat, database):
    onboard(chat)
    open_checkin(chat, "Mood (PHQ-4)")
    assert "Over the last 2 weeks" in chat.text
    assert chat.buttons == ["Not at all", "Several days", "More than half the days", "Nearly every day"]
    for label in ["More than half the days", "Several days", "Nearly every day", "Nearly every day"]:
        chat.press(label)
    [response] = responses(database, "phq4")
    assert response.score == {
        "total": 9, "band": "severe", "anxiety": 3, "anxiety_positive": True, "depression": 6, "depression_positive": True,
    }


@pytest.mark.parametrize(
    "values, total, band, anxiety_positive, depression_positive",
    [
        ((0, 0, 0, 0), 0, "normal", False, False),
        ((1, 1, 0, 0), 2, "normal", False, False),
        ((1, 1, 1, 0), 3, "mild", False, False),
        ((2, 1, 1, 1), 5, "mild", True, False),
        ((1, 2, 2, 1), 6, "moderate", True, True),
        ((2, 2, 2, 2), 8, "moderate", True, True),
        ((3, 3, 3, 0), 9, "severe", True, True),
        ((3, 3, 3, 3), 12, "severe", True, True),
    ],
)
def test_phq4_scoring_against_hand_computed_cases(values, total, band, anxiety_positive, depression_positive):
    phq4 = instrument("phq4")
    result = score(phq4, dict(zip([item.id for item in phq4.items], values)))
    assert (result["total"], result["band"]) == (total, band)
    assert (result["anxiety_positive"], result["depression_positive"]) == (anxiety_positive, depression_positive)


@pytest.mark.parametrize("values, expected", [((0, 0, 0), 0.0), ((10, 10, 10), 10.0), ((7, 5, 6), 6.0), ((3, 4, 4), 3.67)])
def test_peg_scoring_against_hand_computed_cases(values, expected):
    peg = instrument("peg3")
    assert score(peg, dict(zip([item.id for item in peg.items], values))) == {"score": expected}


def test_more_sleep_than_usual_is_noticed(chat, database):
    from datetime import timedelta

    from conftest import NOW
    from factories import daily_answers

    onboard(chat)
    daily_answers(database, [(NOW - timedelta(days=d), {"sleep_hours": h}) for d, h in [(1, 5), (2, 6), (3, 5.5), (4, 5.5)]])  # mean 5.5
    open_checkin(chat, "Daily check-in")
    chat.press("4")
    chat.say("7")
    for _ in range(3):
        chat.press("Skip")
    assert "More sleep than your recent average: 7 hours last night." in chat.text
