"""The visit report's "Between check-ins" block: the sleep diary's regularity, relaxation and
mindfulness, the pain education course and home exercise adherence, in the clinician's language,
and only what the patient has."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import NOW
from exports.report import draw
from exports.report_routines import clock
from factories import daily_answers
from onboard import onboard
from storage.models import Exercise, ExerciseLog, LessonProgress, PracticeRun
from test_report import TODAY, ago, facts, reads, texts, the_patient

import locales



def hhmm(h: int, m: int) -> float:
    return float(h * 60 + m)


def sleep_diary(database) -> None:
    """Four nights round midnight: bedtimes 23:30, 00:30, 23:00, 01:00; up at 07:00, 07:30, 06:30, 07:00."""
    nights = [((23, 30), (7, 0), 6), ((0, 30), (7, 30), 7), ((23, 0), (6, 30), 5), ((1, 0), (7, 0), 8)]
    daily_answers(database, [(ago(n + 1, hour=8), {"bedtime": hhmm(*bed), "wake_time": hhmm(*wake), "sleep_quality": float(q)})
                             for n, (bed, wake, q) in enumerate(nights)], instrument="sleep_diary")
    daily_answers(database, [(ago(100, hour=8), {"bedtime": hhmm(20, 0), "wake_time": hhmm(4, 0), "sleep_quality": 0.0})],
                  instrument="sleep_diary")  # before the 12 weeks


def the_rest(database) -> None:
    with database.transaction() as session:
        pid = the_patient(session).id
        run = lambda family, kind, at, **kw: PracticeRun(patient_id=pid, family=family, kind=kind, planned_seconds=180,  # noqa: E731
                                                         started_at=at, created_at=at, **kw)
        session.add_all([
            run("relaxation", "pmr", ago(9), completed=True, tension_before=6, tension_after=4),
            run("relaxation", "pmr", ago(8), completed=False, tension_before=5),  # stopped: no "after"
            run("mindfulness", "leaves", ago(7), completed=True, tension_before=5, tension_after=4, in_charge_before=7, in_charge_after=5),
            run("mindfulness", "body_scan", ago(120), completed=True, tension_before=9, tension_after=0),  # before the 12 weeks
            LessonProgress(patient_id=pid, lesson="protector", source="asked", sent_at=ago(20), opened_at=ago(20), answered_at=ago(20),
                           answer="a", correct=True),
            LessonProgress(patient_id=pid, lesson="hurt_not_harm", source="asked", sent_at=ago(17), opened_at=ago(17),
                           answered_at=ago(17), answer="b", correct=False),
            LessonProgress(patient_id=pid, lesson="volume", source="asked", sent_at=ago(14), opened_at=ago(14)),
            LessonProgress(patient_id=pid, lesson="flares", source="scheduled", sent_at=ago(11)),  # sent, not opened
        ])
        bridge = Exercise(patient_id=pid, name="Bridge", sets=2, reps=8, days_per_week=3, progression="none", prescribed_by="test",
                          prescribed_at=ago(60))
        session.add(bridge)
        session.flush()
        outcomes = {1: "done", 3: "done", 5: "part", 8: "done", 12: "done", 20: "done", 2: "skipped", 9: "skipped", 40: "done"}
        session.add_all(ExerciseLog(exercise_id=bridge.id, local_date=TODAY - timedelta(days=n), outcome=outcome, pain_before=3,
                                    pain_after=3, logged_at=ago(n)) for n, outcome in outcomes.items())


def test_diary_times_are_averaged_round_the_clock():
    assert clock([hhmm(23, 30), hhmm(0, 30)]).mean == pytest.approx(0, abs=1e-6) or clock([hhmm(23, 30), hhmm(0, 30)]).mean == \
        pytest.approx(1440, abs=1e-6)
    late = clock([hhmm(22, 0), hhmm(23, 0)])
    assert late.mean == pytest.approx(hhmm(22, 30)) and late.spread == pytest.approx(30)
    assert clock([hhmm(7, 0)]).spread is None and clock([]) is None


def test_the_facts_add_up(chat, database):
    onboard(chat)
    sleep_diary(database)
    the_rest(database)
    r = facts(database).routines
    assert r.nights == 4 and r.quality == 6.5
    assert round(r.bedtime.mean) % 1440 == 0 and round(r.bedtime.spread) == 47  # not noon, not 12 hours of spread
    assert round(r.wake.mean) == 7 * 60 and round(r.wake.spread) == 21
    relax, mind = r.practices["relaxation"], r.practices["mindfulness"]
    assert (relax.runs, relax.completed, relax.tension_change, relax.in_charge_change) == (2, 1, -2.0, None)
    assert (mind.runs, mind.completed, mind.tension_change, mind.in_charge_change) == (1, 1, -1.0, -2.0)
    assert (r.lessons_read, r.lessons_total, r.lessons_answered, r.lessons_right) == (3, 11, 2, 1)
    # 28 days of a 3-a-week exercise: 12 sessions prescribed; 6 logged done or part (a skip is not one, day 40 is too old).
    assert (r.exercises, r.sessions, r.prescribed) == (1, 6, 12)


def test_the_block_reads_right_in_each_language(chat, database):
    onboard(chat)
    sleep_diary(database)
    the_rest(database)
    f = facts(database)
    words = {}
    for language in ("en", "es", "de"):
        with locales.use(language):
            words[language] = reads(draw(f, show_reference=False))
    en, es, de = words["en"], words["es"], words["de"]
    assert "Between check-ins" in en and "Sleep diary" in en
    assert "4 nights · bedtime 12:00 AM (±47 min) · up at 7:00 AM (±21 min) · quality 6.5 of 10 on average" in en
    assert "Muscle relaxation" in en and "2 runs, 1 completed · tension −2.0 on average (0–10)" in en
    assert "Mindfulness" in en and "1 run, 1 completed · tension −1.0 on average (0–10) · pain in charge −2.0 on average (0–10)" in en
    assert "more on the patient's page" not in en  # it all fits
    assert "Pain education" in en and "3 of 11 lessons read · 1 of 2 questions answered right" in en
    assert "Home exercises (28 days)" in en and "6 of 12 prescribed sessions logged (50%) · 1 exercise" in en
    assert "Entre check-ins" in es and "Diario de sueño" in es and "4 noches · se acuesta a las 0:00 (±47 min) · se levanta a las 7:00 (±21 min)" in es
    assert "calidad 6,5 de 10 de media" in es and "2 veces (completas: 1)" in es and "3 de 11 lecciones leídas" in es and "Ejercicios en casa (28 días)" in es
    assert "Zwischen den Check-ins" in de and "Schlaftagebuch" in de and "4 Nächte · zu Bett 00:00 (±47 Min.) · auf um 07:00 (±21 Min.)" in de
    assert "Qualität im Mittel 6,5 von 10" in de and "Muskelentspannung" in de and "Achtsamkeit" in de
    assert "3 von 11 Lektionen gelesen · 1 von 2 Fragen richtig beantwortet" in de
    assert "6 von 12 verordneten Einheiten eingetragen (50 %) · 1 Übung" in de


def test_only_what_the_patient_has_shows(chat, database):
    onboard(chat)
    assert "Between check-ins" not in reads(draw(facts(database), show_reference=False))  # nothing: no block at all
    sleep_diary(database)
    f = facts(database)
    assert f.routines.practices == {} and f.routines.exercises == 0 and f.routines.lessons_read == 0
    words = reads(draw(f, show_reference=False))
    assert "Between check-ins" in words and "Sleep diary" in words
    for absent in ("Muscle relaxation", "Mindfulness", "Pain education", "Home exercises"):
        assert absent not in words


def test_a_stopped_exercise_counts_only_for_the_days_it_ran(chat, database):
    onboard(chat)
    with database.transaction() as session:
        pid = the_patient(session).id
        session.add_all([
            Exercise(patient_id=pid, name="Walk", minutes=10, days_per_week=7, progression="none", prescribed_by="test",
                     prescribed_at=ago(100), stopped_at=ago(14, hour=12)),  # 14 of the 28 days (days 27 to 14 ago)
            Exercise(patient_id=pid, name="Old", minutes=10, days_per_week=7, progression="none", prescribed_by="test",
                     prescribed_at=ago(100), stopped_at=ago(40)),  # stopped before the 28 days: left out
        ])
    r = facts(database).routines
    assert (r.exercises, r.sessions, r.prescribed) == (1, 0, 14)
    assert "0 of 14 prescribed sessions logged (0%) · 1 exercise" in reads(draw(facts(database), show_reference=False))


def test_lessons_count_the_whole_course_whenever_read(chat, database):
    onboard(chat)
    with database.transaction() as session:
        pid = the_patient(session).id
        session.add(LessonProgress(patient_id=pid, lesson="protector", source="asked", sent_at=ago(200), opened_at=ago(200)))
    r = facts(database).routines
    assert (r.lessons_read, r.lessons_answered) == (1, 0)
    assert "1 of 11 lessons read · no question answered yet" in reads(draw(facts(database), show_reference=False))
    with database.transaction() as session:
        assert session.scalars(select(LessonProgress)).one().answer is None


def test_the_page_still_holds_everything_with_long_answers_and_every_routine(chat, database):
    from matplotlib.text import Text

    from exports.report import STORY, figure
    from storage.models import VisitPrep
    from test_report import eight_weeks, tell_story

    onboard(chat)
    eight_weeks(database, reference=None)
    sleep_diary(database)
    the_rest(database)
    words = "Every morning the pain is worst when I get up and it takes an hour to ease. " * 12
    with database.transaction() as session:
        pid = the_patient(session).id
        tell_story(session, pid, **dict.fromkeys(STORY, words))
        session.add(VisitPrep(patient_id=pid, changes=words, goals=words, questions=words, treatment=words, created_at=ago(1)))
    with database.transaction() as session:
        fig = figure(session, the_patient(session), NOW, show_reference=False)
    fig.canvas.draw()
    renderer, page = fig.canvas.get_renderer(), fig.bbox
    for text in fig.findobj(Text):
        if text.get_text():
            box = text.get_window_extent(renderer)
            assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, text.get_text()
    assert "Between check-ins" in reads(fig) and "Sleep diary" in reads(fig)
    # A row of figures keeps its two lines (never "pain in …"): what no longer fits is left out whole.
    assert "quality 6.5 of 10 on average" in reads(fig)
    assert "… more on the patient's page of the dashboard" in texts(fig)  # what did not fit is said, not drawn off the page
