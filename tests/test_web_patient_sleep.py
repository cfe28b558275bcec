"""The sleep diary on a patient's page: each night answered in the range, when it was answered in the
clinician's zone, bedtime and wake time as the patient's own clock times, quality, and how regular it
all was; in the clinician's language."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import NOW
from storage.models import Clinician, Patient
from test_web_patient import CODE, client, desk, response, signed_in  # noqa: F401 - fixtures

NARROW = "\u202f"


@pytest.fixture
def diary(database, signed_in):
    """Two nights in the last four weeks (bedtime round midnight), one 40 days ago, one with the quality skipped."""
    with database.transaction() as session:
        pid = session.scalars(select(Patient)).one().id
        response(session, pid, "sleep_diary", 3, {"bedtime": 23 * 60 + 30, "wake_time": 7 * 60, "sleep_quality": 6})
        response(session, pid, "sleep_diary", 2, {"bedtime": 30, "wake_time": 7 * 60 + 30, "sleep_quality": 8})
        response(session, pid, "sleep_diary", 1, {"bedtime": 0, "wake_time": 7 * 60 + 15, "sleep_quality": None})
        response(session, pid, "sleep_diary", 40, {"bedtime": 21 * 60, "wake_time": 5 * 60, "sleep_quality": 2})


def test_the_diary_shows_each_night_and_its_regularity(database, client, diary):
    text = client.get(f"/patients/{CODE}").text
    assert "<h3>Sleep diary</h3>" in text
    assert "<th scope=\"col\">Went to bed</th><th scope=\"col\">Got up</th><th scope=\"col\">Sleep quality, 0 to 10</th>" in text
    # Answered in the clinician's zone (Berlin); the times slept are the patient's own clock times (Madrid).
    assert f"<td>Nov 25, 2026, 2:05{NARROW}PM CET</td><td>11:30{NARROW}PM</td><td>7:00{NARROW}AM</td><td>6</td>" in text
    assert f"<td>Nov 26, 2026, 2:05{NARROW}PM CET</td><td>12:30{NARROW}AM</td><td>7:30{NARROW}AM</td><td>8</td>" in text
    assert f"<td>12:00{NARROW}AM</td><td>7:15{NARROW}AM</td><td></td>" in text  # quality skipped: blank, not zero
    assert f"9:00{NARROW}PM" not in text  # 40 days ago: outside four weeks
    # Bedtimes either side of midnight average round the clock, not to noon.
    assert f"3 nights · bedtime 12:00{NARROW}AM (±24 min) · up at 7:15{NARROW}AM (±12 min) · quality 7.0 of 10 on average" in text


def test_a_longer_range_takes_in_the_older_night(database, client, diary):
    text = client.get(f"/patients/{CODE}?range=3m").text
    assert f"<td>9:00{NARROW}PM</td><td>5:00{NARROW}AM</td><td>2</td>" in text and "4 nights" in text


def test_the_clinicians_own_zone_moves_when_answered_never_the_patients_bedtime(database, client, diary):
    with database.transaction() as session:
        session.scalars(select(Clinician)).one().timezone = "America/New_York"
    text = client.get(f"/patients/{CODE}").text
    assert f"<td>Nov 25, 2026, 8:05{NARROW}AM EST</td><td>11:30{NARROW}PM</td><td>7:00{NARROW}AM</td><td>6</td>" in text


@pytest.mark.parametrize("language, heading, row, summary", [
    ("de", "Schlaftagebuch", "<td>23:30</td><td>07:00</td><td>6</td>", "3 Nächte · zu Bett 00:00 (±24 Min.) · auf um 07:15 (±12 Min.)"),
    ("es", "Diario de sueño", "<td>23:30</td><td>7:00</td><td>6</td>", "3 noches · se acuesta a las 0:00 (±24 min)"),
])
def test_the_diary_in_the_clinicians_language(database, client, diary, language, heading, row, summary):
    with database.transaction() as session:
        session.scalars(select(Clinician)).one().language = language
    text = client.get(f"/patients/{CODE}").text
    assert f"<h3>{heading}</h3>" in text and row in text and summary in text


def test_no_diary_says_none_in_this_range(database, client, signed_in):
    text = client.get(f"/patients/{CODE}").text
    section = text[text.index("<h3>Sleep diary</h3>"):text.index("<h3>Pacing</h3>")]
    assert "None in this range." in section and "<table>" not in section


def test_each_night_is_a_bar_from_bedtime_down_to_wake_time(database, client, diary):
    text = client.get(f"/patients/{CODE}").text
    assert text.count("<svg ") == 3 and 'aria-label="Sleep diary: in bed, on the patient&#39;s clock"' in text
    # 23:30 to 07:00 on a day running from 18:00 (top) to 18:00 (bottom), 168 units tall from y=10.
    assert 'y="48.5" width="4" height="52.5"' in text
    assert f">6:00{NARROW}PM</text>" in text and f">2:00{NARROW}AM</text>" in text


def test_a_night_past_the_charts_edge_wraps_rather_than_vanishing():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from web.history import diary_chart

    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    chart = diary_chart([(start + timedelta(days=1), 17 * 60, 60)], start, start + timedelta(days=2), ZoneInfo("UTC"))
    (x1, top1, h1), (x2, top2, h2) = chart["bars"]  # 17:00 to the bottom edge, then the top edge to 01:00
    assert x1 == x2 and top1 == 171.0 and round(top1 + h1, 1) == 178.0 and top2 == 10.0 and h2 == 49.0
