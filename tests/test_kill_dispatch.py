"""A real `paincoach run` SIGKILLed while it sends a burst of check-in prompts, twice, then left
to finish: no patient is invited twice, at most a few prompts per kill are left `unknown`, and
every other due prompt goes out after the restart. (benchmarks/kills.py does this at scale.)"""
from __future__ import annotations

from collections import Counter
from datetime import timezone

from sqlalchemy import select
from time_machine import escape_hatch

from factories import due_prompts
from scheduler.dispatcher import IN_FLIGHT
from storage.models import Prompt
from test_restart import BotProcess

PATIENTS = 150
KILLS = 2


def statuses(database) -> Counter:
    """The check-ins' (a lesson planned for the next day is no part of the burst)."""
    with database.transaction() as session:
        return Counter(session.scalars(select(Prompt.status).where(Prompt.kind == "checkin")))


def test_kills_mid_burst_leave_at_most_a_few_prompts_unknown(emulator, database, database_url, tmp_path):
    chats = [7100 + i for i in range(PATIENTS)]
    due_prompts(database, chats, escape_hatch.datetime.datetime.now(timezone.utc))  # the bot's clock
    bot = BotProcess(emulator, database_url, tmp_path / "bot.log", {"PAINCOACH_DISPATCH_SECONDS": "0.2"}).start()
    left_claimed = []
    try:
        for kill in range(KILLS):
            target = len(emulator.calls_to("sendMessage")) + 10
            emulator.wait_for(lambda: len(emulator.calls_to("sendMessage")) >= target, timeout=60)
            bot.kill()  # mid-burst: some sent, a few claimed and on their way
            at_kill = statuses(database)
            assert at_kill["scheduled"] > 0, "the kill came after the burst"
            left_claimed.append(at_kill["claimed"] - sum(left_claimed))
            bot.start()
        # Done: nothing due is left, and of the claims only the killed processes' are unconfirmed.
        done = {"scheduled": 0, "claimed": sum(left_claimed)}
        emulator.wait_for(lambda: {k: statuses(database)[k] for k in done} == done, timeout=120)
    finally:
        bot.kill()

    invited = Counter(call["chat_id"] for call in emulator.calls_to("sendMessage"))
    assert max(invited.values()) == 1  # nobody invited twice
    final = statuses(database)
    assert all(0 <= n <= IN_FLIGHT for n in left_claimed), left_claimed
    never_sure = final["claimed"] + final["unknown"]
    assert never_sure == sum(left_claimed) <= KILLS * IN_FLIGHT
    assert final["sent"] == PATIENTS - never_sure  # every other prompt went out
    assert len(invited) >= final["sent"]
