"""The one-page visit report: the facts add up for known data, and the page is one readable A4 page."""
from __future__ import annotations

import io
import math
import re
from datetime import date, datetime, timedelta, timezone

import matplotlib.image
from matplotlib.text import Text
from sqlalchemy import select

from conftest import NOW
from exports.report import STORY, Facts, draw, figure, gather, render
from factories import daily_answers
from onboard import onboard
from storage.models import (Answer, BreathingSession, FlareEpisode, PainStory, Patient, Prompt, Response, Sprint,
                            ThoughtRecord, VisitPrep)

import locales

UTC = timezone.utc
TODAY = date(2026, 11, 28)  # NOW in London (UTC in November)
DAYS = 8 * 7


def the_patient(session) -> Patient:
    patient = session.scalars(select(Patient)).one()
    if patient.study_code is None:  # until enrolment gives every patient one
        patient.study_code = "PC-TEST"
    return patient


def ago(days: float, hour: int = 9) -> datetime:
    return datetime(2026, 11, 28, hour, 0, tzinfo=UTC) - timedelta(days=days)


def prepare_visit(chat) -> None:
    """Through the dialog, as a patient does it: changes, goals, no questions, a treatment."""
    chat.open("Prepare for a visit")
    chat.say("Sleeping better, but mornings are stiff")
    chat.say("A plan for the mornings")
    chat.press("Skip this question")
    chat.say("Physiotherapy group programme")


def eight_weeks(database, reference: str | None = "H-0042 J.D.") -> None:
    """Eight weeks of a patient's life in the app, with known counts and means (see the tests below)."""
    # Daily pain and sleep, a few days missed and a few sleep answers skipped; a PEG every week.
    daily_answers(database, [
        (ago(n), {"pain_now": float(3 + n % 5), **({} if n % 9 == 4 else {"sleep_hours": 5.5 + n % 3})})
        for n in range(DAYS) if n % 11 != 6
    ])
    with database.transaction() as session:
        patient = the_patient(session)
        patient.clinic_reference = reference
        pid = patient.id
        for week in range(8):
            score = 6.5 - week * 0.3
            response = Response(patient_id=pid, instrument="peg3", source="scheduled", language="en", started_at=ago(7 * (7 - week)),
                                completed_at=ago(7 * (7 - week)), score={"score": score})
            session.add(response)
            session.flush()
            session.add(Answer(response_id=response.id, item_id="peg_pain", value=score))
        tell_story(session, pid, where_it_hurts="Lower back, down the left leg", since_when="A fall in spring 2021",
                   what_makes_it_worse="Sitting for long, cold mornings, carrying the shopping home " * 3,
                   what_has_been_tried="Physiotherapy (helped a little), ibuprofen, a TENS machine", good_day="")
        # Check-in invitations in the last 28 days: 15 answered, 3 expired, 1 snoozed, 1 sent and not answered yet.
        statuses = ["answered"] * 15 + ["expired"] * 3 + ["snoozed", "sent"]
        for n, status in enumerate(statuses):
            session.add(checkin(pid, ago(n + 0.5), status, sent=True))
        # Not counted: not delivered, not yet due, too old, or not a check-in.
        session.add(checkin(pid, ago(3, hour=20), "failed", sent=False))
        session.add(checkin(pid, ago(-1, hour=12), "scheduled", sent=False))
        session.add(checkin(pid, ago(40), "answered", sent=True))
        session.add(checkin(pid, ago(2, hour=18), "answered", sent=True, kind="flare_followup"))
        session.add_all([
            FlareEpisode(patient_id=pid, started_at=ago(30), ended_at=ago(27), peak_pain=7),
            FlareEpisode(patient_id=pid, started_at=ago(2), peak_pain=8),  # still going
            FlareEpisode(patient_id=pid, started_at=ago(150), ended_at=ago(148), peak_pain=9),  # before the 12 weeks
            drill(pid, ago(20), completed=True, tension_before=5, tension_after=3),
            drill(pid, ago(10), completed=True, tension_before=6, tension_after=4),
            drill(pid, ago(5), completed=False, tension_before=7),  # stopped: no "after"
            drill(pid, ago(100), completed=True, tension_before=9, tension_after=0),  # before the 12 weeks
            ThoughtRecord(patient_id=pid, kind="full", belief_before=80, belief_after=50, created_at=ago(25), completed_at=ago(25)),
            ThoughtRecord(patient_id=pid, kind="quick", belief_before=60, belief_after=40, created_at=ago(12), completed_at=ago(12)),
            ThoughtRecord(patient_id=pid, kind="full", belief_before=70, created_at=ago(1)),
            Sprint(patient_id=pid, metrics=["pain"], weeks=4, started_on=TODAY - timedelta(days=80), ends_on=TODAY - timedelta(days=52),
                   review={"pain": {"first": 6, "last": 5}}, reviewed_at=ago(52)),
            Sprint(patient_id=pid, metrics=["sleep", "pain"], weeks=4, started_on=TODAY - timedelta(days=28), ends_on=TODAY,
                   review={"sleep": {"first": 5.0, "last": 6.5}, "pain": {"first": 6.0, "last": None}}, reviewed_at=ago(0)),
        ])


def tell_story(session, pid: int, **fields) -> None:
    """The pain story row onboarding made (with the questions skipped), now answered."""
    story = session.get(PainStory, pid) or PainStory(patient_id=pid)
    for name, value in fields.items():
        setattr(story, name, value)
    session.add(story)


def drill(pid: int, at: datetime, **kw) -> BreathingSession:
    return BreathingSession(patient_id=pid, pattern="box", planned_seconds=120, started_at=at, created_at=at, **kw)


def checkin(pid: int, at: datetime, status: str, *, sent: bool, kind: str = "checkin") -> Prompt:
    return Prompt(patient_id=pid, kind=kind, instruments=["daily"], local_date=at.date(), scheduled_for=at,
                  expires_at=at + timedelta(hours=6), status=status, sent_at=at if sent else None,
                  answered_at=at + timedelta(minutes=5) if status == "answered" else None)


def facts(database) -> Facts:
    with database.transaction() as session:
        return gather(session, the_patient(session), NOW)


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def reads(fig) -> str:
    """The page's words in one string, so a phrase wrapped over two lines is still found."""
    return " ".join(texts(fig))


def test_the_facts_add_up(chat, database):
    onboard(chat)
    prepare_visit(chat)
    eight_weeks(database)
    f = facts(database)
    assert (f.first_day, f.today) == (TODAY - timedelta(days=83), TODAY)
    assert (f.checkins_answered, f.checkins_sent) == (15, 20)
    assert (f.flares, f.flare_open, f.flare_peaks) == (2, True, [7, 8])
    assert (f.breathing, f.breathing_completed, f.tension_change) == (3, 2, -2.0)
    assert (f.thoughts, f.thoughts_completed, f.belief_change) == (3, 2, -25.0)
    assert f.visit == {"goals": "A plan for the mornings", "changes": "Sleeping better, but mornings are stiff",
                       "treatment": "Physiotherapy group programme"}
    assert f.visit_day == TODAY
    assert list(f.story) == ["where_it_hurts", "since_when", "what_makes_it_worse", "what_has_been_tried"]  # the empty one left out
    assert f.sprint.metrics == ["sleep", "pain"] and f.sprint.review["sleep"] == {"first": 5.0, "last": 6.5}
    # The chart data, up to today; a missed day and a skipped sleep answer are gaps, not zeros.
    assert f.series.days[0] >= f.first_day and f.series.days[-1] == TODAY
    assert f.series.pain[-1] == 3.0 and f.series.pain[-1 - 6] is None and f.series.sleep[-1 - 4] is None
    assert 0.0 not in f.series.sleep and len(f.series.peg) == 8


def test_the_latest_visit_preparation_counts(chat, database):
    onboard(chat)
    with database.transaction() as session:
        pid = the_patient(session).id
        session.add(VisitPrep(patient_id=pid, goals="Old goals", created_at=ago(60)))
        session.flush()
        session.add(VisitPrep(patient_id=pid, goals="Walk to the market", questions="Can I swim?", created_at=ago(3)))
    f = facts(database)
    assert f.visit == {"goals": "Walk to the market", "questions": "Can I swim?"} and f.visit_day == TODAY - timedelta(days=3)


def test_the_page_shows_the_study_code_and_the_reference_only_when_asked(chat, database):
    onboard(chat)
    prepare_visit(chat)
    eight_weeks(database)
    with database.transaction() as session:
        patient = the_patient(session)
        code = patient.study_code
        hidden, shown = (figure(session, patient, NOW, show_reference=show) for show in (False, True))
    for fig in (hidden, shown):
        assert "Visit report" in texts(fig) and code in texts(fig) and "75%" in texts(fig)
        words = reads(fig)
        assert "A plan for the mornings" in words and "Lower back, down the left leg" in words
        assert "15 of 20 invitations answered" in words and "peak pain 7, 8" in words
        assert "tension −2.0 on average (0–10)" in words and "belief −25.0 points on average (0–100)" in words
        assert "first week 5.0 → last week 6.5" in words and "not enough answers to compare" in words
        assert "No flares recorded" not in words
    # Missed days and skipped answers are gaps in the chart, not zeros.
    pain_ax, sleep_ax = hidden.axes
    daily = list(pain_ax.lines[0].get_ydata())
    assert any(math.isnan(v) for v in daily) and min(v for v in daily if not math.isnan(v)) == 3.0
    assert [p.get_height() for p in sleep_ax.patches] and min(p.get_height() for p in sleep_ax.patches) == 5.5
    assert "H-0042" not in reads(hidden)
    assert "Clinic reference: H-0042 J.D." in texts(shown)


def test_pdf_and_png_are_one_readable_page(chat, database):
    onboard(chat)
    prepare_visit(chat)
    eight_weeks(database)
    with database.transaction() as session:
        patient = the_patient(session)
        pdf = render(session, patient, NOW, "pdf")
        png = render(session, patient, NOW, "png", show_reference=True)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width = matplotlib.image.imread(io.BytesIO(png)).shape[:2]
    assert (width, height) == (1240, 1753)  # A4 at 150 dpi
    assert abs(height / width - 297 / 210) < 0.01


def test_long_answers_are_cut_to_keep_one_page(chat, database):
    onboard(chat)
    eight_weeks(database, reference=None)
    words = "Every morning the pain is worst when I get up and it takes an hour to ease. " * 12
    with database.transaction() as session:
        pid = the_patient(session).id
        tell_story(session, pid, **dict.fromkeys(STORY, words))
        session.add(VisitPrep(patient_id=pid, changes=words, goals=words, questions=words, treatment=words, created_at=ago(1)))
    with database.transaction() as session:
        fig = figure(session, the_patient(session), NOW, show_reference=True)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for text in fig.findobj(Text):
        if text.get_text():
            box = text.get_window_extent(renderer)
            assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, text.get_text()
    assert any(t.endswith("…") for t in texts(fig))
    assert not any(t.startswith("Clinic reference") for t in texts(fig))  # asked for, but there is none


def test_a_patient_with_no_data_gets_a_page_that_says_so(chat, database):
    onboard(chat)
    with database.transaction() as session:
        the_patient(session).timezone = None  # read as UTC
    f = facts(database)
    assert (f.first_day, f.today) == (NOW.date() - timedelta(days=83), NOW.date())
    assert (f.checkins_sent, f.flares, f.breathing, f.thoughts, f.sprint, f.story, f.visit) == (0, 0, 0, 0, None, {}, {})
    assert f.series.empty and f.tension_change is None and f.belief_change is None
    fig = draw(f, show_reference=False)
    words = reads(fig)
    for empty in ("No check-ins sent", "No flares recorded", "No breathing drills", "No thought-checks",
                  "No check-ins in these 12 weeks", "No visit notes prepared", "No sprint started", "No pain story given"):
        assert empty in words
    assert not fig.axes  # no empty chart
    with database.transaction() as session:
        patient = the_patient(session)
        assert render(session, patient, NOW, "png").startswith(b"\x89PNG")
        assert render(session, patient, NOW, "pdf").startswith(b"%PDF")


def test_safety_events_lead_the_report(chat, database):
    from conftest import NOW
    from exports.report import gather, safety_line

    onboard(chat)
    chat.say("I want to die")
    chat.press("Continue")
    chat.say("since this morning I can't control my bladder")
    with database.transaction() as session:
        from sqlalchemy import select

        from storage.models import Patient

        facts = gather(session, session.scalars(select(Patient)).one(), NOW)
    line = safety_line(facts)
    # Categories never merge: two events of two categories, two alerts.
    assert "crisis messages: 1" in line and "red-flag symptoms: 1" in line and "alerts not acknowledged: 2" in line


def phq4(session, pid: int, at: datetime, anxiety: tuple[int, int], depression: tuple[int, int], source: str = "scheduled") -> None:
    from content.instruments import instrument, score

    values = dict(zip(("phq4_nervous", "phq4_worry", "phq4_interest", "phq4_down"), (*anxiety, *depression)))
    response = Response(patient_id=pid, instrument="phq4", source=source, language="en", started_at=at, completed_at=at,
                        score=score(instrument("phq4"), values))
    session.add(response)
    session.flush()
    session.add_all(Answer(response_id=response.id, item_id=item, value=value) for item, value in values.items())


def a_month_of_it_all(chat, database, *, discharged: bool = False) -> None:
    """Eight weeks, two PHQ-4s, two drills and a single thought-check this time, words a page can't draw
    as they are, and check-ins the patient started from the menu."""
    onboard(chat)
    eight_weeks(database)
    with database.transaction() as session:
        patient = the_patient(session)
        pid = patient.id
        for model in (BreathingSession, ThoughtRecord, Sprint):
            for row in session.scalars(select(model).where(model.patient_id == pid)):
                session.delete(row)
        # Tension is kept in whole points: two drills make a mean with a decimal to format.
        session.add(drill(pid, ago(10), completed=True, tension_before=6, tension_after=4))
        session.add(drill(pid, ago(9), completed=True, tension_before=6, tension_after=5))
        session.add(ThoughtRecord(patient_id=pid, kind="full", belief_before=80, belief_after=55, created_at=ago(12), completed_at=ago(12)))
        session.add(Sprint(patient_id=pid, metrics=["pain"], weeks=1, started_on=TODAY - timedelta(days=7), ends_on=TODAY, review=None))
        phq4(session, pid, ago(30), (1, 1), (0, 1))
        phq4(session, pid, ago(3), (2, 2), (1, 2), source="self")
        session.add(VisitPrep(patient_id=pid, goals="🙏🙏 walks 💪🏽 😊", questions="Is $\\foo$ or $x^2$ a problem?",
                              created_at=ago(1)))
        if discharged:
            patient.discharged_at = ago(2)


def test_the_page_reads_right_for_a_clinician_in_their_language(chat, database):
    a_month_of_it_all(chat, database, discharged=True)
    f = facts(database)  # started from the menu in 28 days: 26 daily check-ins and a PHQ-4
    assert f.self_started == 27 and [(p.total, p.band, p.anxiety, p.depression) for p in f.phq4] == [(7, "moderate", 4, 3), (3, "mild", 2, 1)]
    assert f.discharged == TODAY - timedelta(days=2)
    with database.transaction() as session:
        patient = the_patient(session)
        with locales.use("en"):
            en = reads(figure(session, patient, NOW, show_reference=False))
        with locales.use("de"):
            de = reads(figure(session, patient, NOW, show_reference=False))
        assert render(session, patient, NOW, "png", language="de").startswith(b"\x89PNG")  # mathtext would raise here
    assert "discharged Nov 26, 2026" in en and "entlassen am 26.11.2026" in de
    assert "2 drills completed" in en and "1 thought-check completed" in en and "(1 week)" in en
    assert "tension −1.5 on average" in en and "Anspannung im Mittel −1,5" in de and not re.search(r"\d,\d", en)
    assert "15 of 20 invitations answered" in en and "27 more started by the patient" in en
    assert "Nov 25, 2026: total 7 of 12, moderate · anxiety (GAD-2) 4 of 6, positive screen · depression (PHQ-2) 3 of 6, " \
           "positive screen" in en and "Before: Oct 29, 2026: 3, mild" in en
    assert "normal 0–2, mild 3–5, moderate 6–8, severe 9–12; a subscale of 3 or more screens positive" in en
    assert "Is $\\foo$ or $x^2$ a problem?" in en  # as written, not as mathtext
    assert "[person with folded hands ×2] walks [flexed biceps] 😊" in en  # named, not empty boxes


def test_check_ins_the_patient_started_are_not_reported_as_none(chat, database):
    onboard(chat)
    daily_answers(database, [(ago(n), {"pain_now": 4.0}) for n in range(3)])  # from the menu: no invitation
    f = facts(database)
    assert (f.checkins_sent, f.self_started) == (0, 3)
    words = reads(draw(f, show_reference=False))
    assert "No check-ins sent" not in words and "No invitations sent" in words and "3 started by the patient" in words
    assert "No PHQ-4 answered in these 12 weeks" in words
