"""/progress: the chart is a real phone-sized PNG, and the words under it add up for known data."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import matplotlib.image
from sqlalchemy import select

import locales
from conftest import NOW
from dialogs.buttons import Signer
from dialogs.engine import region_of
from dialogs.turn import Turn
from dialogs.io import File, Message
from dialogs.charts import drawn, render_chart
from dialogs.progress import Entry, load, peg_change, prepare, progress, streak, summary
from onboard import onboard
from storage.models import Answer, Patient, Response

ZONE = "America/Los_Angeles"  # 8 h behind UTC in November: local and UTC dates often differ
LA = ZoneInfo(ZONE)
TODAY = date(2026, 11, 28)  # NOW is 05:05 on the 28th in Los Angeles
FIRST = TODAY - timedelta(days=40)  # ~6 weeks of history: a 6-week window
MISSED = {date(2026, 11, d) for d in (5, 12, 13, 20, 25)}
SLEEP_SKIPPED = {date(2026, 11, d) for d in (3, 10, 27)}
PEGS = {  # local date -> score; Oct 31 is exactly four weeks before the latest
    date(2026, 10, 24): 6.0,
    date(2026, 10, 31): 5.67,
    date(2026, 11, 7): 5.33,
    date(2026, 11, 14): 5.0,
    date(2026, 11, 21): 4.67,
    date(2026, 11, 28): 4.33,
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LA).astimezone(timezone.utc)


def pain_on(day: date) -> float:
    return float(3 + day.toordinal() % 5)


def add(session, patient_id: int, instrument: str, when: datetime, answers: dict, score=None, completed: bool = True) -> None:
    response = Response(patient_id=patient_id, instrument=instrument, source="self", language="en", started_at=when,
                        completed_at=when if completed else None, score=score)
    session.add(response)
    session.flush()
    for item, value in answers.items():
        session.add(Answer(response_id=response.id, item_id=item, value=value, skipped=value is None, answered_at=when))


def six_weeks(database) -> None:
    """Daily check-ins from FIRST to today but for MISSED days, some sleep skipped, weekly PEGs."""
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        patient.timezone = ZONE
        day = FIRST
        while day <= TODAY:
            if day not in MISSED:
                # Nov 26 at 22:00 local is already Nov 27 in UTC: it must still count for the 26th.
                when = at(day, 22) if day == date(2026, 11, 26) else at(day, 5) if day == TODAY else at(day, 9, 30)
                sleep = None if day in SLEEP_SKIPPED else 6.5
                add(session, patient.id, "daily", when, {"pain_now": pain_on(day), "sleep_hours": sleep, "steps": 3000.0})
            day += timedelta(days=1)
        for day, score in PEGS.items():
            add(session, patient.id, "peg3", at(day, 4), {"peg_pain": score}, score={"score": score})
        # Left halfway: neither its answers nor its day count.
        add(session, patient.id, "daily", at(date(2026, 11, 25), 10), {"pain_now": 9.0}, completed=False)


def run(database, language: str | None = None, country: str | None = None) -> list:
    """`progress` through a real Turn, as the engine runs a step: one transaction, the patient's language and region."""
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        patient.language, patient.country = language or patient.language, country or patient.country
        with locales.use(patient.language, region_of(patient)):
            turn = Turn(session, patient, NOW, Signer({"1": bytes(32)}))
            progress(turn)
            step_outputs = turn.outputs
    # Inside the step's transaction the chart is only a recipe; it is drawn after the commit.
    assert all(o.data == b"" and o.recipe for o in step_outputs if isinstance(o, File))
    return drawn(step_outputs)


def series(database):
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        return prepare(load(session, patient.id, NOW), LA, TODAY)


def test_chart_is_a_phone_sized_png_with_a_summary_that_adds_up(chat, database):
    onboard(chat)
    six_weeks(database)
    [output] = run(database)
    assert isinstance(output, File)
    assert output.filename == "progress.png" and output.mime_type == "image/png"
    assert output.data.startswith(b"\x89PNG")
    assert matplotlib.image.imread(io.BytesIO(output.data)).shape[:2] == (1350, 1080)  # portrait, 1080 wide
    assert output.caption.splitlines() == [
        "PEG 4.3, down 1.4 from four weeks ago.",  # 4.33 now, 5.67 on Oct 31
        "You checked in on 23 of the last 28 days. 3 days in a row.",  # Nov 1-28 less 5 days; Nov 26-28
    ]


def test_data_prep_keeps_skips_and_missing_days_as_gaps_by_local_date(chat, database):
    onboard(chat)
    six_weeks(database)
    s = series(database)
    assert len(s.days) == 42 and s.days[0] == TODAY - timedelta(days=41) and s.days[-1] == TODAY
    sleep = dict(zip(s.days, s.sleep))
    pain = dict(zip(s.days, s.pain))
    for day in SLEEP_SKIPPED:
        assert sleep[day] is None and pain[day] == pain_on(day)  # skipped: a gap, not 0
    for day in MISSED:
        assert sleep[day] is None and pain[day] is None and day not in s.checked  # incl. the unfinished Nov 25
    assert sleep[date(2026, 11, 26)] == 6.5 and pain[date(2026, 11, 26)] == pain_on(date(2026, 11, 26))
    assert s.days[0] not in s.checked and sleep[s.days[0]] is None  # before the first check-in
    assert s.peg_weeks == sorted(PEGS) and s.peg == [PEGS[d] for d in sorted(PEGS)]
    assert 0 not in [v for v in s.sleep if v is not None]


def test_no_data_yet_is_a_kind_text_and_no_chart(chat, database):
    onboard(chat)
    outputs = run(database)
    assert not [o for o in outputs if isinstance(o, File)]
    [message] = outputs
    assert isinstance(message, Message) and "after a few check-ins" in message.text


def test_spanish_uses_a_decimal_comma(chat, database):
    onboard(chat)
    six_weeks(database)
    [output] = run(database, language="es", country="ES")  # Spanish in Spain (es_US would write 4.3)
    assert "4,3" in output.caption and "1,4" in output.caption
    assert "4.3" not in output.caption and "1.4" not in output.caption
    assert output.data.startswith(b"\x89PNG")


def test_window_runs_from_the_first_check_in_between_4_and_12_weeks():
    utc = ZoneInfo("UTC")

    def days(first: date) -> int:
        entry = Entry("daily", datetime.combine(first, time(12), timezone.utc), pain=5.0)
        return len(prepare([entry], utc, TODAY).days)

    assert days(TODAY) == 28 and days(TODAY - timedelta(days=30)) == 35 and days(TODAY - timedelta(days=300)) == 84
    assert prepare([], utc, TODAY).empty


def test_peg_change_compares_with_about_four_weeks_before_the_latest():
    d = date(2026, 11, 28)
    assert peg_change([]) is None
    assert peg_change([(d, 5.0)]) == (5.0, None)
    assert peg_change([(d - timedelta(days=7), 6.0), (d, 5.0)]) == (5.0, None)  # a week is not four weeks
    assert peg_change([(d - timedelta(days=29), 4.0), (d - timedelta(days=14), 9.0), (d, 5.04)]) == (5.04, 1.0)
    assert peg_change([(d - timedelta(days=28), 5.01), (d, 4.98)]) == (4.98, 0.0)


def test_wording_for_up_the_same_a_first_day_and_a_streak_today_has_not_continued_yet():
    def words(pegs, checked):
        s = prepare([], ZoneInfo("UTC"), TODAY)
        s.all_pegs, s.checked, s.first = pegs, set(checked), min(checked)
        return summary(s, TODAY)

    four_weeks = TODAY - timedelta(days=28)
    assert words([(four_weeks, 4.0), (TODAY, 5.5)], [TODAY]) == "PEG 5.5, up 1.5 from four weeks ago.\nYou checked in today."
    assert words([(four_weeks, 5.0), (TODAY, 5.0)], [TODAY]).startswith("PEG 5.0, the same as four weeks ago.")
    last_five = [TODAY - timedelta(days=n) for n in range(1, 6)]  # not yet today: the run still counts
    assert streak(set(last_five), TODAY) == 5
    assert words([], last_five) == "You checked in on 5 of the last 6 days. 5 days in a row."
    assert words([], [TODAY - timedelta(days=9), TODAY - timedelta(days=2)]) == "You checked in on 2 of the last 10 days."


def test_render_chart_copes_with_sparse_data():
    days = [TODAY - timedelta(days=n) for n in range(27, -1, -1)]
    labels = {"title": "t", "pain_axis": "p", "pain": "d", "peg": "g", "sleep_axis": "s"}
    png = render_chart(days, [None] * 27 + [4.0], [None] * 28, [], [], labels)
    assert matplotlib.image.imread(io.BytesIO(png)).shape[:2] == (1350, 1080)
