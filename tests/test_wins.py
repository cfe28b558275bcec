"""Small wins: kept in the step that says them, listed newest first in the patient's language of the
day with what made them possible, in /mydata and the activity export, and erased with the patient."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from conftest import NOW
from dialogs.io import File
from exports import bundle
from exports.source import Filters
from factories import daily_answers
from onboard import onboard
from storage.models import PacingActivity, Patient, SmallWin

UTC = timezone.utc


def open_checkin(chat) -> None:
    chat.open("Check in now")
    chat.press("Daily check-in")


def a_night_of_more_sleep(chat, database) -> None:
    """Four nights averaging 5.5 hours, then a daily check-in with 7: all but its last answer."""
    daily_answers(database, [(NOW - timedelta(days=d), {"sleep_hours": h}) for d, h in [(1, 5), (2, 6), (3, 5.5), (4, 5.5)]])
    open_checkin(chat)
    chat.press("4")
    chat.say("7")
    chat.press("Skip")
    chat.press("Skip")


def wins(database) -> list[SmallWin]:
    with database.transaction() as session:
        return list(session.scalars(select(SmallWin).order_by(SmallWin.id)))


def test_a_win_is_kept_in_the_step_that_says_it_as_facts_not_words(chat, database):
    onboard(chat)
    a_night_of_more_sleep(chat, database)
    assert wins(database) == []
    chat.press("Skip")  # the check-in's last answer: the win is said
    assert "More sleep than your recent average: 7 hours last night." in chat.text
    [win] = wins(database)
    assert (win.kind, win.facts, win.activity_id, win.said_at) == ("more_sleep", {"hours": 7.0, "average_hours": 5.5, "nights": 4}, None, NOW)


def test_a_step_that_fails_after_the_win_keeps_no_win_and_says_nothing(chat, database, monkeypatch):
    from dialogs.turn import Turn

    onboard(chat)
    a_night_of_more_sleep(chat, database)
    finish = Turn.finish

    def broken(self):
        raise RuntimeError("the step fails after the win was said")

    monkeypatch.setattr(Turn, "finish", broken)
    with pytest.raises(RuntimeError):
        chat.press("Skip")
    assert wins(database) == []  # rolled back with the step: nothing was said, nothing kept
    monkeypatch.setattr(Turn, "finish", finish)
    chat.press("Skip")  # the same button again, now that the step goes through
    assert "More sleep than your recent average" in chat.text
    assert [w.kind for w in wins(database)] == ["more_sleep"]


def test_a_new_best_in_pacing_is_kept_with_its_activity_and_quota(database):
    from test_pacing import Clock, with_baseline

    from conftest import Chat
    from dialogs.engine import Engine

    clock = Clock()
    chat = Chat(Engine(database, clock=clock))
    onboard(chat)
    with_baseline(chat, clock)  # quota 20 minutes
    for minutes in ("18", "19"):  # a first spell sets the best; the next one beats it
        chat.press("Log today's activity")
        chat.press("Walking")
        chat.say(minutes)
    assert "That's your longest Walking yet, within your plan: 19 minutes." in chat.text
    [win] = wins(database)
    with database.transaction() as session:
        activity = session.scalars(select(PacingActivity)).one()
    assert (win.kind, win.activity_id, win.said_at) == ("longest_yet", activity.id, clock.at)
    assert win.facts == {"minutes": 19, "quota_minutes": 20.0, "previous_best": 18}
    chat.command("menu")
    chat.open("My small wins")
    assert "Your longest Walking yet, within your plan: 19 minutes." in chat.text
    assert "What made it possible: pacing Walking, 19 of your 20 planned minutes (your best before: 18)." in chat.text


def test_no_wins_yet_gets_a_kind_word_and_the_menu(chat, database):
    onboard(chat)
    chat.open("My small wins")
    assert "No small wins noted yet, and that's all right." in chat.texts[0]
    assert "What would you like to do?" in chat.texts[-1]


def keep_wins(database, *wins: tuple[datetime, str, dict, bool]) -> None:
    """Wins said at these moments, as the dialogs keep them (with the patient's activity where `paced`)."""
    with database.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.external_id == "1001")).one()  # the `chat` fixture's
        activity = PacingActivity(patient_id=patient.id, name="Gardening", quota_minutes=20)
        session.add(activity)
        session.flush()
        session.add_all(SmallWin(patient_id=patient.id, kind=kind, facts=facts, activity_id=activity.id if paced else None, said_at=at)
                        for at, kind, facts, paced in wins)


def test_my_small_wins_newest_first_dated_in_the_patients_zone_and_worded_in_their_language_of_the_day(chat, database):
    onboard(chat, zone_button="Denver")
    keep_wins(database, (datetime(2026, 11, 20, 18, 0, tzinfo=UTC), "more_sleep", {"hours": 7.5, "average_hours": 6.1, "nights": 5}, False),
              (datetime(2026, 11, 28, 3, 0, tzinfo=UTC), "longest_yet", {"minutes": 25, "quota_minutes": 27.5, "previous_best": 22}, True))
    chat.open("My small wins")
    listing = chat.texts[0]
    assert listing.startswith("Your small wins, newest first:")
    assert listing.index("Nov 27, 2026: Your longest Gardening yet") < listing.index("Nov 20, 2026: More sleep")  # Denver's evening of the 27th
    assert "Nov 27, 2026: Your longest Gardening yet, within your plan: 25 minutes.\n" \
           "What made it possible: pacing Gardening, 25 of your 27.5 planned minutes (your best before: 22)." in listing
    assert "Nov 20, 2026: More sleep than your recent average: 7.5 hours.\n" \
           "What made it possible: your daily check-ins: 5 nights before it, 6.1 hours on average." in listing

    chat.command("language")
    chat.press("Español")  # (numbers stay as written in Denver's region: 27.5)
    chat.press("Mis números")
    chat.press("Mis pequeños logros")
    listing = chat.texts[0]
    assert listing.startswith("Tus pequeños logros, del más reciente al más antiguo:")
    assert "27 nov 2026: El mayor tiempo que has dedicado hasta ahora a “Gardening”, dentro de tu plan: 25 minutos.\n" \
           "Lo que lo hizo posible: dosificar “Gardening”, 25 de los 27.5 minutos de tu plan (tu mejor marca anterior: 22)." in listing
    assert "20 nov 2026: Dormiste más que tu promedio de los últimos días: 7.5 horas.\n" \
           "Lo que lo hizo posible: tus preguntas diarias: las 5 noches anteriores, con 6.1 horas de media." in listing
    assert "¿Qué te gustaría hacer?" in chat.texts[-1]


def test_only_the_last_ten_are_shown(chat, database):
    onboard(chat)
    keep_wins(database, *((NOW - timedelta(days=day), "more_sleep", {"hours": day, "average_hours": 1, "nights": 4}, False)
                          for day in range(1, 13)))
    chat.open("My small wins")
    assert chat.texts[0].count("What made it possible") == 10
    assert "1 hours." in chat.texts[0] and "10 hours." in chat.texts[0] and "11 hours." not in chat.texts[0]


def test_mydata_and_the_activity_export_carry_them_and_deletion_erases_them(chat, new_chat, database, tmp_path):
    onboard(chat)
    other = new_chat("2002")
    onboard(other, name="Kim")
    keep_wins(database, (NOW, "longest_yet", {"minutes": 25, "quota_minutes": 27.5, "previous_best": 22}, True))

    chat.command("mydata")
    [file] = [o for o in chat.outputs if isinstance(o, File)]
    [kept] = json.loads(file.data)["small_wins"]
    assert (kept["kind"], kept["facts"], kept["said_at"]) == ("longest_yet", {"minutes": 25, "quota_minutes": 27.5, "previous_best": 22},
                                                               NOW.isoformat())

    bundle.export(database, Filters(), ("activity",), tmp_path, actor="cli:test", now=NOW)
    rows = [r for r in csv.DictReader(open(tmp_path / "activity.csv")) if r["activity"] == "small_win"]
    assert {r["measure"]: r["value"] for r in rows} == {"kind": "longest_yet", "activity_id": str(kept["activity_id"]), "minutes": "25",
                                                        "quota_minutes": "27.5", "previous_best": "22"}

    with database.transaction() as session:
        kim = session.scalars(select(Patient).where(Patient.external_id == "2002")).one()
        session.add(SmallWin(patient_id=kim.id, kind="more_sleep", facts={"hours": 8, "average_hours": 6, "nights": 4}, said_at=NOW))
    chat.command("delete")
    chat.press("Yes, delete everything")
    assert [(w.patient_id, w.kind) for w in wins(database)] == [(kim.id, "more_sleep")]  # theirs gone, Kim's kept
