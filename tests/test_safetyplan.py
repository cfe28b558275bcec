"""The safety plan: written in advance, crisis words allowed where they are the answer, shown in a crisis."""
from __future__ import annotations

from sqlalchemy import select

from onboard import onboard
from storage.models import DialogState, SafetyEvent, SafetyPlan

PLAN = ["When I start thinking I want to die, and stop answering messages", "A hot shower, my dog, music",
        "My sister Ana 555 0101", "The park bench by the river", "My clinic, the 988 line", "My partner keeps my tablets"]


def test_writing_the_plan_with_its_warning_signs_and_seeing_it_in_a_crisis(new_chat, database):
    chat = new_chat("9100", "en-US")
    onboard(chat, zone_button="New York")
    chat.open("My safety plan")
    assert "Six questions" in chat.text
    chat.say(PLAN[0])  # crisis words, but they are the answer here
    assert "If any of this is happening now, please reach out:" in chat.text and "988" in chat.text
    assert "What can you do on your own that helps" in chat.text  # the plan goes on
    for part in PLAN[1:]:
        chat.say(part)
    assert "Your safety plan is saved." in chat.text
    with database.transaction() as session:
        plan = session.scalars(select(SafetyPlan)).one()
        assert plan.warning_signs == PLAN[0] and plan.safer_surroundings == PLAN[5]
        assert session.scalars(select(SafetyEvent)).all() == []  # describing warning signs is not a crisis
        assert session.scalars(select(DialogState)).one().paused is False

    chat.say("I want to end my life")
    assert "you don't have to carry this alone" in chat.text
    assert "Your safety plan:" in chat.text and "My sister Ana 555 0101" in chat.text
    assert chat.buttons == ["Continue"]


def test_crisis_words_elsewhere_in_the_plan_still_pause(chat, database):
    onboard(chat)
    chat.open("My safety plan")
    chat.say("Feeling numb")
    chat.say("I want to kill myself")  # not the warning-signs question: the crisis path
    assert "you don't have to carry this alone" in chat.text and chat.buttons == ["Continue"]


def test_withdrawing_consent_stops_everything_new_and_start_brings_them_back(chat, database):
    from storage.models import Patient, Prompt

    onboard(chat)
    chat.command("withdraw")
    assert "You have withdrawn your consent." in chat.text
    with database.transaction() as session:
        assert session.scalars(select(Patient)).one().consent == "withdrawn"
        assert session.scalars(select(Prompt).where(Prompt.status == "scheduled")).all() == []
    chat.say("hello?")
    assert "Send /start if you'd like to take part again." in chat.text
    chat.say("I want to end my life")  # still screened, still answered
    assert "you don't have to carry this alone" in chat.text
    chat.command("start")
    assert "Do you agree" in chat.text
    chat.press("Yes, I agree")
    assert "What would you like to do?" in chat.texts[-1]
    with database.transaction() as session:
        assert session.scalars(select(Patient)).one().consent == "given"
        assert session.scalars(select(Prompt).where(Prompt.status == "scheduled")).all()  # check-ins planned again


def test_mydata_sends_everything_about_the_patient_and_nothing_of_others(chat, new_chat, database):
    import json

    from dialogs.io import File
    from storage import models

    other = new_chat("5555")
    onboard(other, name="Other")
    onboard(chat, name="Mine")
    chat.open("My safety plan")
    chat.say("Not sleeping for days")
    chat.command("mydata")
    [file] = [o for o in chat.outputs if isinstance(o, File)]
    data = json.loads(file.data)
    assert data["patient"]["preferred_name"] == "Mine" and data["patient"]["external_id"] == "1001"
    assert data["safety_plans"][0]["warning_signs"] == "Not sleeping for days"
    assert "Other" not in file.data.decode()
    # Every table that can hold something about a patient is in the file, or deliberately left out.
    from dialogs.mydata import LEFT_OUT

    tables = set(models.Base.metadata.tables) - LEFT_OUT - {"patients"}
    assert tables <= set(data), tables - set(data)
