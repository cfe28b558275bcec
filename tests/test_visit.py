"""Preparing for a visit: four questions, then a summary to forward, with the treatment questions."""
from __future__ import annotations

from sqlalchemy import select

from onboard import onboard
from storage.models import VisitPrep


def test_a_visit_summary_with_the_four_treatment_questions(chat, database):
    onboard(chat)
    chat.open("Prepare for a visit")
    assert "What has changed since your last visit?" in chat.text
    chat.say("Sleeping better, but mornings are stiff")
    chat.say("A plan for the mornings")
    chat.press("Skip this question")
    chat.say("Physiotherapy group programme")
    summary = chat.texts[-2]
    assert summary.startswith("My notes for the visit (28 November 2026)")
    assert "What has changed:\nSleeping better, but mornings are stiff" in summary
    assert "My questions" not in summary  # skipped
    assert "• How much benefit can I expect, and for how long?" in summary
    assert "• How will we measure progress and decide whether to continue?" in summary
    with database.transaction() as session:
        row = session.scalars(select(VisitPrep)).one()
        assert (row.goals, row.questions, row.treatment) == ("A plan for the mornings", None, "Physiotherapy group programme")


def test_without_a_treatment_no_treatment_questions(chat, database):
    onboard(chat)
    chat.open("Prepare for a visit")
    chat.say("More walking")
    for _ in range(2):
        chat.press("Skip this question")
    chat.press("No treatment is being considered")
    assert "Questions to ask about it" not in chat.text and "More walking" in chat.text


def test_the_summary_is_a_message_of_its_own():
    from bot.delivery import coalesce
    from dialogs.io import Message

    merged = coalesce([Message("Thanks."), Message("My notes for the visit", standalone=True), Message("What would you like to do?")])
    assert [m.text for m in merged] == ["Thanks.", "My notes for the visit", "What would you like to do?"]
