"""Treatment sprints: pick metrics and weeks, and a review of the first week against the last."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from conftest import Chat
from dialogs.engine import Engine
from factories import daily_answers
from onboard import onboard
from scheduler.dispatcher import Dispatcher
from storage.models import Prompt, Sprint

UTC = timezone.utc


def add_daily(database, at: datetime, pain: float, sleep: float) -> None:
    daily_answers(database, [(at, {"pain_now": pain, "sleep_hours": sleep})])


async def test_a_sprint_from_choosing_to_its_review(database):
    from test_scheduler import Phone

    clock = {"at": datetime(2026, 11, 28, 13, 5, tzinfo=UTC)}
    engine = Engine(database, clock=lambda: clock["at"])
    chat = Chat(engine)
    onboard(chat)
    chat.open("My sprint")
    chat.press("Start a sprint")
    chat.press("Hours of sleep")
    chat.press("Daily pain")
    assert "✓ Hours of sleep" in chat.buttons
    chat.press("Done")
    chat.press("4 weeks")
    assert "ends on 26 December 2026" in chat.text
    start = clock["at"]
    for day in range(7):  # first week: pain 6, sleep 5
        add_daily(database, start + timedelta(days=day), 6, 5)
    for day in range(21, 28):  # last week: pain 4, sleep 6.5
        add_daily(database, start + timedelta(days=day), 4, 6.5)

    clock["at"] = datetime(2026, 12, 26, 10, 0, tzinfo=UTC)
    phone = Phone()
    assert await Dispatcher(database, engine, phone.deliver, clock=lambda: clock["at"]).tick() == 1
    assert "Your sprint ends today" in phone.texts()[-1]
    message = phone.sent[-1][1]
    chat.last_buttons = {b.label: (b.id, None) for row in message.buttons for b in row}
    chat.press("Start now")
    assert "Hours of sleep: 5 → 6.5 (better)" in chat.text
    assert "Daily pain: 6 → 4 (better)" in chat.text
    assert "This review is saved for your clinic team." in chat.text
    with database.transaction() as session:
        sprint = session.scalars(select(Sprint)).one()
        assert sprint.review == {"sleep": {"first": 5, "last": 6.5}, "pain": {"first": 6, "last": 4}}
        assert session.scalars(select(Prompt).where(Prompt.kind == "sprint_review")).one().status == "answered"


def test_at_most_three_metrics(chat, database):
    onboard(chat)
    chat.open("My sprint")
    chat.press("Start a sprint")
    for label in ["Hours of sleep", "Daily pain", "Active minutes a day", "Pain interference (PEG)"]:
        chat.press(label)
    assert sum(label.startswith("✓") for label in chat.buttons) == 3
