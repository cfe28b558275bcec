"""Muscle relaxation and mindfulness, guided in chat: the content, and the practices walked through
the real Application and the Bot API emulator in English, Spanish and German (played out, stopped
and started again, stopped by a word, bad ratings), and what the clinic's export shows of them."""
from __future__ import annotations

import asyncio
import csv
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.guide import GuidePlayer
from bot.sender import Sender
from bot.telegram import build_application
from conftest import NOW
from content.files import ContentError
from content.practices import parse, practices
from dialogs.engine import Engine
from dialogs.practices import guide_frames
from exports import bundle
from exports.source import Filters
from phone import Phone
from storage.erase import erase_patient
from storage.models import Patient, PracticeRun
from test_menu import at_the_menu, buttons_of_last
from test_telegram import running
from test_web_patient import CODE, client, desk, signed_in  # noqa: F401  (fixtures)

USER = 7101
WORDS = {
    "en": {
        "calm": "Calm now", "relaxation": "Muscle relaxation", "mindfulness": "Mindfulness",
        "pick": "Which practice would you like?", "body_scan": "Body scan", "noticing": "Making room for pain", "leaves": "Leaves on a stream",
        "lightly": "Tense lightly; skip any painful or injured area.",
        "tension_before": "how tense do you feel right now", "in_charge_before": "how much is the pain in charge of you right now",
        "pmr_first": "Sit or lie comfortably.", "scan_first": "Settle into a comfortable position.",
        "leaves_first": "Picture yourself beside a gentle stream",
        "pmr_closing": "Well done. Move gently when you are ready.", "scan_closing": "Well done. Come back to the room at your own pace.",
        "tension_after": "How tense do you feel now", "in_charge_after": "How much is the pain in charge of you now",
        "pmr_summary": "Tension: from 6 to 3. Thank you for taking this time for yourself.",
        "scan_summary": "Tension: from 6 to 3. Pain in charge: from 8 to 5.",
        "stopped_summary": "Tension: from 7 to 5.", "stop": "Stop", "menu": "What would you like to do?", "bad": "Please send a whole number from 0 to 10.",
        "dizzy": "I feel dizzy", "settle": "Let's stop here.", "words": "quite tense",
    },
    "es": {
        "calm": "Calmarme ahora", "relaxation": "Relajación muscular", "mindfulness": "Atención plena",
        "pick": "¿Qué práctica te gustaría hacer?", "body_scan": "Recorrido corporal", "noticing": "Hacer sitio al dolor", "leaves": "Hojas en el arroyo",
        "lightly": "Tensa solo ligeramente; sáltate cualquier zona dolorida o lesionada.",
        "tension_before": "qué tanta tensión sientes ahora mismo", "in_charge_before": "cuánto te está dominando el dolor ahora mismo",
        "pmr_first": "Siéntate o túmbate cómodamente.", "scan_first": "Ponte en una postura cómoda.",
        "leaves_first": "Imagínate junto a un arroyo tranquilo",
        "pmr_closing": "Muy bien. Muévete con suavidad cuando quieras.", "scan_closing": "Muy bien. Vuelve a la habitación a tu ritmo.",
        "tension_after": "¿Qué tanta tensión sientes ahora", "in_charge_after": "¿Cuánto te está dominando el dolor ahora,",
        "pmr_summary": "Tensión: de 6 a 3. Gracias por dedicarte este tiempo.",
        "scan_summary": "Tensión: de 6 a 3. Cuánto te domina el dolor: de 8 a 5.",
        "stopped_summary": "Tensión: de 7 a 5.", "stop": "Parar", "menu": "¿Qué te gustaría hacer?", "bad": "Por favor, envía un número entero del 0 al 10.",
        "dizzy": "me mareo", "settle": "Paremos aquí.", "words": "bastante tenso",
    },
    "de": {
        "calm": "Jetzt zur Ruhe kommen", "relaxation": "Muskelentspannung", "mindfulness": "Achtsamkeit",
        "pick": "Welche Übung möchten Sie machen?", "body_scan": "Body-Scan", "noticing": "Dem Schmerz Raum geben", "leaves": "Blätter auf dem Fluss",
        "lightly": "Spannen Sie nur leicht an; lassen Sie schmerzende oder verletzte Stellen aus.",
        "tension_before": "Wie angespannt fühlen Sie sich gerade", "in_charge_before": "wie sehr bestimmt der Schmerz gerade über Sie",
        "pmr_first": "Setzen oder legen Sie sich bequem hin.", "scan_first": "Machen Sie es sich bequem.",
        "leaves_first": "Stellen Sie sich vor, Sie sitzen an einem ruhigen Fluss",
        "pmr_closing": "Gut gemacht. Bewegen Sie sich sanft, wenn Sie so weit sind.",
        "scan_closing": "Gut gemacht. Kommen Sie in Ihrem eigenen Tempo in den Raum zurück.",
        "tension_after": "Wie angespannt fühlen Sie sich jetzt", "in_charge_after": "Wie sehr bestimmt der Schmerz jetzt über Sie",
        "pmr_summary": "Anspannung: von 6 auf 3. Danke, dass Sie sich diese Zeit für sich genommen haben.",
        "scan_summary": "Anspannung: von 6 auf 3. Wie sehr der Schmerz bestimmt: von 8 auf 5.",
        "stopped_summary": "Anspannung: von 7 auf 5.", "stop": "Stopp", "menu": "Was möchten Sie tun?", "bad": "Bitte senden Sie eine ganze Zahl von 0 bis 10.",
        "dizzy": "mir ist schwindlig", "settle": "Hören wir hier auf.", "words": "ziemlich angespannt",
    },
}
LANGUAGES = list(WORDS)


# The content ---------------------------------------------------------------------------------
def test_every_practice_is_paced_like_a_drill_and_relaxation_says_to_tense_lightly():
    assert {p.family for p in practices().values()} == {"relaxation", "mindfulness"}
    assert {"body_scan", "pain_noticing", "leaves"} <= {p.id for p in practices().values() if p.family == "mindfulness"}
    for practice in practices().values():
        frames = guide_frames(practice)
        times = [at for at, _text in frames]
        assert times[0] == 0 and min(b - a for a, b in zip(times, times[1:])) >= 1  # at most one edit a second
        assert times[-1] == practice.seconds <= 5 * 60 and frames[-1][1] == practice.closing
        assert all("Stop at any moment." in text for _at, text in frames[:-1])
    assert "Tense lightly; skip any painful or injured area." in practices()["pmr"].footer


@pytest.mark.parametrize("broken, says", [
    ({"practices": [{"id": "x", "family": "yoga", "label": "X", "text": "x", "footer": {"text": "f"}, "closing": {"text": "c"},
                     "steps": [{"text": "s", "seconds": 5}]}]}, "family"),
    ({"practices": [{"id": "x", "family": "relaxation", "label": "X", "text": "x", "footer": {"text": "f"}, "closing": {"text": "c"},
                     "steps": [{"text": "s", "seconds": 0}]}]}, "seconds"),
    ({"practices": [{"id": "x", "family": "relaxation", "label": "X", "text": "x", "footer": {"text": "f"}, "closing": {"text": "c"},
                     "steps": [{"text": "s", "seconds": 5}]}]}, "no practice for mindfulness"),
])
def test_a_broken_practices_file_names_what_is_wrong(broken, says):
    with pytest.raises(ContentError, match=says):
        parse(broken)


# Through Telegram ----------------------------------------------------------------------------
@asynccontextmanager
async def the_bot(emulator, database, database_url, language: str, clock: dict | None = None, time_scale: float = 0.005,
                  new: bool = True, guides: GuidePlayer | None = None):
    settings = Settings(database_url=database_url, token=emulator.token, bot_api_url=emulator.base_url, dispatch_seconds=0)
    engine = Engine(database, clock=(lambda: clock["now"]) if clock is not None else (lambda: NOW))
    app = build_application(settings, engine, sender=Sender(per_chat_interval=0.02), guides=guides or GuidePlayer(time_scale=time_scale))
    if new:
        at_the_menu(database, USER, language)
    async with running(app, database):
        phone = Phone(emulator, USER, language)
        phone.send("/menu")
        await phone.expect(WORDS[language]["menu"])
        yield phone


async def open_tool(phone: Phone, emulator, words: dict, tool: str, expect: str) -> None:
    phone.press(words["calm"])
    await emulator.until(lambda: words[tool] in buttons_of_last(emulator, USER))
    phone.press(words[tool])
    await phone.expect(expect)


async def rate(phone: Phone, value: str, expect: str) -> None:
    phone.press(value)
    await phone.expect(expect)


def practice_rows(database) -> list[tuple]:
    with database.transaction() as session:
        return [(r.family, r.kind, r.completed, r.tension_before, r.tension_after, r.in_charge_before, r.in_charge_after)
                for r in session.scalars(select(PracticeRun).order_by(PracticeRun.id))]


class GuideTime:
    """The guide player's clock, moved on by the test: a step comes when the test says its time has
    come, never because the machine was slow or quick."""

    def __init__(self):
        self.now = 0.0
        self.sleepers: list[tuple[float, asyncio.Future]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        entry = (self.now + seconds, asyncio.get_running_loop().create_future())
        self.sleepers.append(entry)
        try:
            await entry[1]
        finally:
            self.sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for at, woken in self.sleepers:
            if at <= self.now and not woken.done():
                woken.set_result(None)

    def waiting(self) -> bool:
        """The player waits for a step still to come (it has made every edit that was due)."""
        return any(at > self.now for at, _woken in self.sleepers)


def the_message(emulator, message_id: int) -> dict:
    return next(m for m in emulator.messages(USER) if m["message_id"] == message_id)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_body_scan_played_out_with_both_ratings_kept(emulator, database, database_url, language):
    w = WORDS[language]
    async with the_bot(emulator, database, database_url, language) as phone:
        await open_tool(phone, emulator, w, "mindfulness", w["pick"])
        assert buttons_of_last(emulator, USER) == [w["body_scan"], w["noticing"], w["leaves"]]
        await rate(phone, w["body_scan"], w["tension_before"])
        await rate(phone, "6", w["in_charge_before"])
        await rate(phone, "8", w["scan_first"])
        guide = emulator.last_message(USER)
        assert buttons_of_last(emulator, USER) == [w["stop"]]
        await phone.expect(w["tension_after"], timeout=15)  # played out by itself
        shown = the_message(emulator, guide["message_id"])
        assert shown["text"] == w["scan_closing"] and shown["edits"] == len(practices()["body_scan"].steps)
        await rate(phone, "3", w["in_charge_after"])
        await rate(phone, "5", w["scan_summary"])
        await phone.expect(w["menu"])
    assert practice_rows(database) == [("mindfulness", "body_scan", True, 6, 3, 8, 5)]
    with database.transaction() as session:
        row = session.scalars(select(PracticeRun)).one()
        assert (row.planned_seconds, row.actual_seconds, row.started_at, row.ended_at) == (130, 130, NOW, NOW)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_relaxation_stopped_mid_way_then_started_again_and_played_out(emulator, database, database_url, language):
    w = WORDS[language]
    clock = {"now": NOW}
    player, time = GuidePlayer(), GuideTime()
    player.sleep, player.clock = time.sleep, time
    async with the_bot(emulator, database, database_url, language, clock, guides=player) as phone:
        await open_tool(phone, emulator, w, "relaxation", w["lightly"])
        await rate(phone, "7", w["pmr_first"])
        guide = emulator.last_message(USER)["message_id"]
        await emulator.until(time.waiting)  # playing: the next step is due when the test says so
        clock["now"] = NOW + timedelta(seconds=40)
        phone.press(w["stop"])
        await phone.expect(w["tension_after"])
        await emulator.until(lambda: f"✓ {w['stop']}" in the_message(emulator, guide)["text"])  # the Stop's own mark
        edits = the_message(emulator, guide)["edits"]
        time.advance(practices()["pmr"].seconds + 1)  # every step's time has come: a guide still playing edits now
        await emulator.until(lambda: not player.plays(USER) or time.waiting())
        assert not player.plays(USER) and the_message(emulator, guide)["edits"] == edits  # it stopped
        with database.transaction() as session:
            row = session.scalars(select(PracticeRun)).one()
            assert (row.completed, row.actual_seconds, row.ended_at) == (False, 40, NOW + timedelta(seconds=40))
        await rate(phone, "5", w["stopped_summary"])
        await phone.expect(w["menu"])
        with database.transaction() as session:
            row = session.scalars(select(PracticeRun)).one()
            assert (row.completed, row.actual_seconds, row.tension_before, row.tension_after) == (False, 40, 7, 5)
            assert row.ended_at == NOW + timedelta(seconds=40)

    async with the_bot(emulator, database, database_url, language, clock, new=False) as phone:  # again, after a restart
        await open_tool(phone, emulator, w, "relaxation", w["lightly"])
        await rate(phone, "6", w["pmr_first"])
        guide = emulator.last_message(USER)
        await phone.expect(w["tension_after"], timeout=15)
        assert the_message(emulator, guide["message_id"])["text"] == w["pmr_closing"]
        await rate(phone, "3", w["pmr_summary"])
    assert practice_rows(database) == [("relaxation", "pmr", False, 7, 5, None, None), ("relaxation", "pmr", True, 6, 3, None, None)]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_dizzy_word_stops_a_practice_at_once(emulator, database, database_url, language):
    w = WORDS[language]
    async with the_bot(emulator, database, database_url, language, time_scale=0.2) as phone:
        await open_tool(phone, emulator, w, "mindfulness", w["pick"])
        await rate(phone, w["leaves"], w["tension_before"])
        await rate(phone, "6", w["in_charge_before"])
        await rate(phone, "8", w["leaves_first"])
        phone.send(w["dizzy"])
        text = await phone.expect(w["tension_after"])
        assert w["settle"] in text
        assert practice_rows(database) == [("mindfulness", "leaves", False, 6, None, 8, None)]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_words_or_a_number_out_of_range_for_a_rating_get_a_kind_reply_and_lose_nothing(emulator, database, database_url, language):
    w = WORDS[language]
    async with the_bot(emulator, database, database_url, language, time_scale=0.2) as phone:
        await open_tool(phone, emulator, w, "relaxation", w["lightly"])
        for typed in (w["words"], "15", "-2"):
            phone.send(typed)
            text = await phone.expect(w["bad"])
            await phone.expect(w["tension_before"])  # asked again
            assert w["pmr_first"] not in text
        assert practice_rows(database) == []
        phone.send("7")  # a typed number is as good as a button
        await phone.expect(w["pmr_first"])
        phone.press(w["stop"])
        await phone.expect(w["tension_after"])
        phone.send("11")
        await phone.expect(w["bad"])
        phone.send(w["words"])
        await phone.expect(w["bad"])
        phone.send("2")
        await phone.expect(w["menu"])
    assert practice_rows(database) == [("relaxation", "pmr", False, 7, 2, None, None)]


# For the clinic ------------------------------------------------------------------------------
def walk_a_body_scan(chat, stop: bool = False) -> None:
    from dialogs.io import Press
    from onboard import onboard

    onboard(chat)
    chat.open("Mindfulness")
    chat.press("Body scan")
    chat.press("6")
    chat.press("8")
    if stop:
        chat.press("Stop")
    else:
        chat.event(Press(chat.outputs[-1].guide_done, chat.message_ids))
    chat.press("3")
    chat.press("5")


def test_the_activity_export_carries_each_run_with_its_ratings(chat, database, tmp_path):
    walk_a_body_scan(chat)
    bundle.export(database, Filters(), ("activity",), tmp_path, actor="cli:test", now=NOW)
    rows = [r for r in csv.DictReader(open(tmp_path / "activity.csv")) if r["activity"] == "practice"]
    measures = {r["measure"]: r["value"] for r in rows}
    assert measures == {"family": "mindfulness", "kind": "body_scan", "planned_seconds": "130", "actual_seconds": "130", "completed": "1",
                        "ended_at": measures["ended_at"], "tension_before": "6", "tension_after": "3", "in_charge_before": "8", "in_charge_after": "5"}
    assert measures["ended_at"].startswith(NOW.date().isoformat()) and len({r["record_id"] for r in rows}) == 1
    described = {r["name"] for r in csv.DictReader(open(tmp_path / "data_dictionary.csv")) if r["file"] == "activity.csv"}
    assert "practice" in described


def test_a_run_is_dated_by_the_dialogs_clock_and_found_in_its_range(new_chat, database, engine):
    from storage import practices as runs

    then = NOW - timedelta(days=60)
    engine.clock = lambda: then
    walk_a_body_scan(new_chat("8101"))
    with database.transaction() as session:
        row = session.scalars(select(PracticeRun)).one()
        assert (row.created_at, row.started_at, row.ended_at) == (then, then, then)
        found = runs.runs(session, row.patient_id, since=then - timedelta(days=1), until=then + timedelta(days=1))
        assert [r.id for r in found] == [row.id]
        assert runs.runs(session, row.patient_id, since=NOW - timedelta(days=28)) == []


def test_erasing_a_patient_erases_their_practices(chat, database):
    walk_a_body_scan(chat, stop=True)
    with database.transaction() as session:
        patient = session.scalars(select(Patient)).one()
        assert erase_patient(session, patient)["practice_runs"] == 1
    with database.transaction() as session:
        assert session.scalars(select(PracticeRun)).all() == []


def test_the_patient_page_shows_relaxation_and_mindfulness_before_and_after(database, client, signed_in):
    with database.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.study_code == CODE)).one()
        session.add_all([
            PracticeRun(patient_id=patient.id, family="relaxation", kind="pmr", planned_seconds=181, actual_seconds=40, completed=False,
                        tension_before=7, tension_after=5, started_at=NOW - timedelta(days=2), ended_at=NOW - timedelta(days=2),
                        created_at=NOW - timedelta(days=2)),
            PracticeRun(patient_id=patient.id, family="mindfulness", kind="leaves", planned_seconds=110, actual_seconds=110, completed=True,
                        tension_before=6, tension_after=3, in_charge_before=8, in_charge_after=5, started_at=NOW - timedelta(days=1),
                        created_at=NOW - timedelta(days=1)),
            PracticeRun(patient_id=patient.id, family="mindfulness", kind="body_scan", planned_seconds=130, tension_before=6,
                        started_at=NOW - timedelta(days=60), created_at=NOW - timedelta(days=60)),  # outside four weeks
        ])
    text = client.get(f"/patients/{CODE}").text
    assert "<h3>Relaxation and mindfulness</h3>" in text
    assert "<td>Progressive muscle relaxation</td><td>3:01</td><td>0:40</td><td>stopped</td><td>7</td><td>5</td><td></td><td></td>" in text
    assert "<td>Leaves on a stream</td><td>1:50</td><td>1:50</td><td>completed</td><td>6</td><td>3</td><td>8</td><td>5</td>" in text
    assert "Body scan" not in text
    assert "Body scan" in client.get(f"/patients/{CODE}?range=3m").text


@pytest.mark.parametrize("command", ["cancel", "menu"])
def test_a_command_during_a_practice_stops_it_takes_its_stop_button_away_and_keeps_the_run(chat, database, command):
    from dialogs.io import Edit
    from onboard import onboard

    onboard(chat)
    chat.open("Muscle relaxation")
    chat.press("4")
    drill = chat.playing
    assert chat.buttons == ["Stop"] and drill is not None
    chat.command(command)
    assert Edit(drill, "Exercise stopped.") in chat.outputs and "What would you like to do?" in chat.texts[-1]
    assert "How tense" not in chat.text
    assert practice_rows(database) == [("relaxation", "pmr", False, 4, None, None, None)]


def practice_sent(emulator, words: dict) -> list[dict]:
    """Each time the practice's first step was sent as a new message (its edits are not counted)."""
    return [c for c in emulator.calls_to("sendMessage") if words["pmr_first"] in str(c["params"].get("text"))]


CRISIS = {  # what a patient in crisis might write, the pause's button, and the word after it
    "en": ("honestly I just want to die", "Continue", "Let's carry on."),
    "es": ("quiero morirme", "Continuar", "Sigamos."),
    "de": ("Ich will sterben", "Weiter", "Machen wir weiter."),
}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_crisis_message_during_a_practice_stops_it_and_it_is_not_played_again(emulator, database, database_url, language):
    w = WORDS[language]
    words, resume, carry_on = CRISIS[language]
    clock = {"now": NOW}
    async with the_bot(emulator, database, database_url, language, clock, time_scale=0.2) as phone:
        await open_tool(phone, emulator, w, "relaxation", w["lightly"])
        await rate(phone, "7", w["pmr_first"])
        guides = len(practice_sent(emulator, w))
        clock["now"] = NOW + timedelta(seconds=30)
        phone.send(words)
        await emulator.until(lambda: resume in buttons_of_last(emulator, USER))
        with database.transaction() as session:  # stopped where it was, before anything else
            row = session.scalars(select(PracticeRun)).one()
            assert (row.completed, row.actual_seconds, row.ended_at) == (False, 30, NOW + timedelta(seconds=30))
        phone.press(resume)
        text = await phone.expect(w["tension_after"])
        assert carry_on in text and w["pmr_first"] not in text  # on to the rating after it, not the practice again
        assert len(practice_sent(emulator, w)) == guides == 1
        await rate(phone, "5", w["stopped_summary"])
        await phone.expect(w["menu"])
    assert practice_rows(database) == [("relaxation", "pmr", False, 7, 5, None, None)]


def test_text_at_the_practice_picker_says_the_way_back(chat):
    # The picker has no Back button: a patient who types "back" is told how to leave, not only to press.
    from onboard import onboard

    onboard(chat)
    chat.open("Mindfulness")
    chat.say("back")
    assert "Please choose one of the buttons below. (/menu takes you back to the menu.)" in chat.texts
    assert "Which practice would you like?" in chat.text
    chat.command("menu")
    assert "What would you like to do?" in chat.text
