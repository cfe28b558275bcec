"""What a patient is told when the screen (v2) finds something: the leading reply first, every other
concern after it, and what is recorded for the clinic (never the patient's words)."""
from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import select

from bot.cli import main
from dialogs.io import Media
from onboard import onboard
from screen import classifier, policy
from screen import screen as screen_text
from storage.models import Alert, NotedQuestion, SafetyEvent


def rows(database, model):
    with database.transaction() as session:
        return list(session.scalars(select(model).order_by(model.id)))


@pytest.fixture
def patient(chat):
    onboard(chat)  # at the menu, in the UK (Samaritans, 999)
    return chat


# -- the policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, leading, also", [
    ("I want to die and my groin has gone numb since this morning", "crisis", "red_flag_emergency"),
    ("I'm going to take the whole box of my tramadol tonight", "crisis", None),
    ("I took the whole box of my tramadol an hour ago", "crisis", "overdose_taken"),  # both replies: the emergency first
    ("my husband hit me again and I'm scared to go home", "abuse", None),
    ("since yesterday I can't feel the toilet paper when I wipe", "red_flag_emergency", None),
    ("I fell off a ladder this morning and my back is agony", "red_flag_today", None),
    ("I had cancer ten years ago and now there's a new pain in my spine", "red_flag_today", None),
    ("Can I take ibuprofen with my tramadol?", "medication", None),
])
def test_the_leading_reply_and_the_concerns_after_it(text, leading, also):
    found = screen_text(text).outcomes()
    assert found[0] == leading, found
    if also:
        assert also in found


@pytest.mark.parametrize("text", [
    "I drove my car to physio", "I walked 5 kms today", "since my fall in 2019 my knee aches",
    "I had cancer years ago, all clear since", "my back is killing me today", "Can I take a break?",
])
def test_everyday_words_near_danger_raise_nothing(text):
    assert screen_text(text).outcomes() == ()


@pytest.mark.parametrize("text, outcome", [
    ("what if I swallowed the whole box of my pregabalin", "crisis"),  # a supply: the crisis path
    ("¿y si me tomo la caja entera de pastillas?", "crisis"),
    ("soll ich die ganze Packung Tramadol nehmen", "crisis"),
    ("should I take all my pregabalin at once tonight", "direct_question"),  # asked about, with the lines
])
def test_a_plan_to_take_a_supply_is_never_a_dosing_question(text, outcome):
    found = screen_text(text).outcomes()
    crisis_path = {"crisis", "overdose_taken"}  # (an overdose reply is followed by the crisis path)
    assert (found[0] in crisis_path if outcome == "crisis" else found[0] == outcome) and "medication" not in found


def test_the_model_is_read_only_on_messages_of_a_few_words():
    assert screen_text("no").scores == {} and screen_text("not sure").scores == {}
    assert screen_text("I feel so tired of everything today").scores  # a sentence: scored


def test_precedence_is_the_documented_order():
    verdicts = []
    assert policy.decide(verdicts, {o: 0.99 for o in policy.OUTCOMES}, {o: 0.5 for o in policy.OUTCOMES}).outcomes() == (
        "crisis", "overdose_taken", "abuse", "eating_disorder", "red_flag_emergency")


# -- the model file -----------------------------------------------------------------------------


def test_a_corrupt_or_tampered_model_is_refused():
    data = (classifier.resources.files("screen") / "model" / classifier.MODEL_FILE).read_bytes()
    assert classifier.parse(data).version == classifier.load().version
    with pytest.raises(classifier.ModelError, match="unreadable"):
        classifier.parse(data[:100])
    document = json.loads(gzip.decompress(data))
    first = next(iter(document["weights"]))
    document["weights"][first] = [w + 1 for w in document["weights"][first]]
    with pytest.raises(classifier.ModelError, match="SHA-256"):
        classifier.parse(gzip.compress(json.dumps(document).encode()))


def test_without_its_model_the_bot_does_not_start(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PAINCOACH_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setattr(classifier, "MODEL_FILE", "missing.json.gz")
    classifier.load.cache_clear()
    try:
        assert main(["chat"]) == 2
    finally:
        classifier.load.cache_clear()
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "safety model is missing" in error


# -- what the patient reads, and what the clinic gets -----------------------------------------------


def test_overdose_taken_gets_the_emergency_first_then_the_crisis_path(patient, database):
    patient.say("I took the whole box of my tramadol an hour ago")
    first, second = patient.texts[0], patient.texts[1]
    assert "emergency department now" in first and "999" in first and "packets" in first
    assert "Samaritans" in second and patient.buttons == ["Continue"]
    assert [e.category for e in rows(database, SafetyEvent)] == ["overdose_taken"]  # recorded as what it is
    assert [a.category for a in rows(database, Alert)] == ["overdose_taken"]


def test_abuse_gets_its_own_discreet_reply_and_an_alert(patient, database):
    patient.say("my partner hit me again last night and I'm scared to go home")
    assert "nobody has the right to hurt" in patient.text
    assert "National Domestic Abuse Helpline: call 0808 2000 247" in patient.text and "999" in patient.text
    assert "delete this chat" in patient.text
    assert "Samaritans" not in patient.text  # not the suicide resources
    assert [e.category for e in rows(database, SafetyEvent)] == ["abuse"]
    assert [a.category for a in rows(database, Alert)] == ["abuse"]


def test_red_flags_come_in_two_tiers(patient, database):
    patient.say("since this morning my bottom and inner thighs are numb")
    assert "emergency department now" in patient.text
    patient.say("I've had a fever and chills since yesterday and my back is worse")
    assert "needs a doctor today" in patient.text
    assert [e.category for e in rows(database, SafetyEvent)] == ["red_flag", "red_flag"]


def test_the_direct_question_always_carries_the_crisis_lines(patient, database):
    patient.say("I can't go on like this")
    assert "Is that happening for you?" in patient.text and "Samaritans: call 116 123" in patient.text
    assert patient.buttons == ["Yes", "Not sure", "No"]


def test_both_concerns_of_one_message_are_answered(patient, database):
    patient.say("I want to die and my groin has gone numb since this morning")
    assert "Samaritans" in patient.text and "emergency department now" in patient.text
    assert sorted(e.category for e in rows(database, SafetyEvent)) == ["crisis", "red_flag"]


def test_every_safety_event_records_the_model_that_screened_it(patient, database):
    patient.say("I've decided. I'm writing letters to my kids tonight and then I'll be gone")
    (event,) = rows(database, SafetyEvent)
    assert event.model_version == classifier.load().version
    assert event.source in ("list", "model") and (event.source == "list") == (event.model_score is None)
    assert "letters" not in (event.phrase or "")  or event.source == "list"


def test_media_gets_the_emergency_number(patient):
    patient.event(Media("sticker"))
    assert "I can only read text" in patient.text and "999" in patient.text


def thought_check_at_the_thought(patient) -> None:
    patient.open("Thought-check")
    patient.press("New thought-check")
    patient.say("my sister cancelled lunch")
    patient.say("sad")
    patient.press("70")
    assert "What went through your mind?" in patient.text


def test_a_dark_thought_only_the_model_reads_as_crisis_gets_the_question_in_a_thought_check(patient, database):
    thought = "I keep wishing I could just fall asleep and stay asleep"  # (the model of this release; the last read another phrasing)
    assert screen_text(thought).get("crisis").source == "model"  # (what this test is about)
    thought_check_at_the_thought(patient)
    patient.say(thought)
    assert "Is that happening for you?" in patient.text and "Samaritans" in patient.text
    patient.press("No")
    assert "How much do you believe that thought" in patient.text  # the thought was the answer


def test_crisis_words_of_the_lists_take_the_crisis_path_even_in_a_thought_check(patient, database):
    thought_check_at_the_thought(patient)
    patient.say("I want to kill myself")
    assert "Samaritans" in patient.text and patient.buttons == ["Continue"]


def test_a_medication_question_found_by_the_lists_can_still_be_noted(patient, database):
    patient.say("Can I take ibuprofen with my tramadol?")
    assert "that's one for your clinician" in patient.text
    patient.press("Note it for my next visit")
    assert [q.noted for q in rows(database, NotedQuestion)] == [True]


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", "   ", "😭😭😭", "🙂" * 2000, "x" * 4096, ("my back hurts and " * 300)[:4096],
    "I WANT TO DIE", "i want to d\u200bie", "\u202eI want to die\u202c", "quiero morirme, I can't anymore, ich will nicht mehr",
    "qiero morirme", "ich will sterben " * 240, "\u0000\u0001\u0002", "شكرا I want to die",
])
def test_any_text_gets_an_answer_and_never_an_error(text):
    result = screen_text(text)
    assert set(result.outcomes()) <= set(policy.OUTCOMES)
    if "die" in text.lower().replace("\u200b", "") or "morir" in text or "sterben" in text:
        assert set(result.outcomes()) & policy.DANGER, text[:40]


# -- found in review: paths that must never lose the lines ------------------------------------------


def test_a_disclosure_after_no_to_the_direct_question_is_not_taken_as_the_answer(patient, database):
    patient.say("I can't go on like this")
    assert "Is that happening for you?" in patient.text
    patient.say("no. I took all my pills an hour ago")
    assert "emergency department now" in patient.texts[0] and patient.buttons == ["Continue"]


def test_an_overdose_while_writing_warning_signs_still_gets_the_emergency(patient, database):
    patient.open("My safety plan")
    patient.say("I took all my pills an hour ago")
    assert "emergency department now" in patient.texts[0] and patient.buttons == ["Continue"]


def test_after_withdrawing_consent_the_direct_question_still_leads_to_help(patient, database):
    patient.say("I can't go on like this")
    patient.command("withdraw")
    patient.say("I can't go on like this")
    assert "Is that happening for you?" in patient.text
    patient.press("Yes")
    assert "Samaritans" in patient.text and patient.buttons == ["Continue"]
    patient.say("hello")  # paused: the lines again, not "you have withdrawn"
    assert "I'm still here" in patient.text


def test_an_edit_while_paused_gets_the_lines_again(patient, database):
    from dialogs.io import Edited

    patient.say("I want to die")
    patient.event(Edited("ok then"))
    assert "I'm still here" in patient.text and patient.buttons == ["Continue"]


def test_the_abuse_reply_claims_an_alert_only_when_one_was_raised(new_chat, database):
    newcomer = new_chat("8801", "en-GB")
    newcomer.say("my husband hits me and I'm scared to go home")  # before consent: nothing is kept
    assert "nobody has the right to hurt" in newcomer.text and "let your clinic know" not in newcomer.text
    assert rows(database, Alert) == []


@pytest.mark.parametrize("text", [
    "Can I take ibuprofen? My whole back hurts", "Kann ich Ibuprofen nehmen? Ich habe den ganzen Tag Schmerzen",
    "Ibuprofen und Paracetamol zusammen nehmen?", "Can I take my two morning tablets at once?",
])
def test_a_medication_question_with_ordinary_words_stays_a_medication_question(text):
    assert screen_text(text).outcomes() == ("medication",)


@pytest.mark.parametrize("text", ["I have taken 40 tablets", "me he tomado 30 pastillas", "hab 25 Tabletten auf einmal genommen"])
def test_a_counted_overdose_is_an_overdose(text):
    assert "overdose_taken" in screen_text(text).outcomes()


def test_a_crisis_at_the_end_of_a_long_unpunctuated_message_is_not_diluted():
    filler = "my back has been bad all week and the physio said to keep walking but the weather is awful and"
    assert set(screen_text(f"{filler} I will not be here tomorrow").outcomes()) & policy.DANGER
    assert not set(screen_text(filler).outcomes()) & policy.DANGER


def test_the_model_reads_a_long_message_in_windows():
    filler = "my back has been bad all week and the physio said to keep walking but the weather is awful and"
    found = screen_text(f"{filler} I have written my letters and I am ready to go").get("crisis")
    assert found is not None and found.source == "model"


def test_a_fall_this_year_is_recent_and_one_years_ago_is_history():
    assert "red_flag_today" in screen_text("I had a bad fall on 2 December 2026 and my back is agony").outcomes()
    assert screen_text("since my fall in 2019 my knee aches").outcomes() == ()


def test_if_the_screen_fails_on_the_error_path_the_lines_are_still_sent(monkeypatch):
    from bot import recovery as transport
    from screen import rules

    def broken(text):
        raise RuntimeError("model")

    monkeypatch.setattr(transport.screen, "screen", broken)
    assert transport._screened_for_the_error_path("I want to die", 1) == {"crisis"}  # the lists alone
    monkeypatch.setattr(rules, "screen_all", broken)
    assert transport._screened_for_the_error_path("hello", 2) == {"crisis"}  # nothing works: the lines
