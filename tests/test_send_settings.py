"""The send rate and paid broadcasts: set once (environment or `paincoach run`), kept by the
Sender, and carried by scheduled sends only; alerts and replies go before prompts that queue."""
import asyncio
from argparse import Namespace

import pytest
from telegram.ext import ExtBot

from bot.cli import _run_settings
from bot.config import ConfigError, Settings
from bot.delivery import alert_transport, deliver, prompt_deliverer
from bot.sender import Sender, sender_for
from dialogs.engine import Engine
from dialogs.io import Message

try:  # tests/ may or may not be a package; pytest's rootdir insertion differs
    from tests.botapi import BotAPIEmulator
except ImportError:
    from botapi import BotAPIEmulator

PATIENT, CLINIC_GROUP = 4242, -100777


def test_the_send_rate_is_28_by_default_and_above_30_only_with_paid_broadcasts():
    default = Settings.from_env({})
    assert (default.send_rate, default.allow_paid_broadcast) == (28, False)
    assert Settings.from_env({"PAINCOACH_SEND_RATE": "20"}).send_rate == 20
    with pytest.raises(ConfigError, match="PAINCOACH_ALLOW_PAID_BROADCAST"):
        Settings.from_env({"PAINCOACH_SEND_RATE": "100"})
    paid = Settings.from_env({"PAINCOACH_SEND_RATE": "100", "PAINCOACH_ALLOW_PAID_BROADCAST": "true"})
    assert (paid.send_rate, paid.allow_paid_broadcast) == (100, True)
    for wrong in ({"PAINCOACH_SEND_RATE": "fast"}, {"PAINCOACH_SEND_RATE": "0"},
                  {"PAINCOACH_SEND_RATE": "1001", "PAINCOACH_ALLOW_PAID_BROADCAST": "1"},
                  {"PAINCOACH_ALLOW_PAID_BROADCAST": "maybe"}):
        with pytest.raises(ConfigError):
            Settings.from_env(wrong)


def run_args(**given) -> Namespace:
    return Namespace(**{"webhook_url": None, "listen": None, "port": None, "health_port": None, "take_over": False,
                        "send_rate": None, "allow_paid_broadcast": None, **given})


def test_paincoach_run_takes_the_rate_and_paid_broadcasts_from_its_options():
    settings = Settings(database_url="sqlite://", token="123:abc")
    chosen, problem = _run_settings(run_args(send_rate=200.0, allow_paid_broadcast=True), settings)
    assert problem is None and (chosen.send_rate, chosen.allow_paid_broadcast) == (200, True)
    _, problem = _run_settings(run_args(send_rate=200.0), settings)
    assert "PAINCOACH_ALLOW_PAID_BROADCAST" in problem
    kept, problem = _run_settings(run_args(), Settings(database_url="sqlite://", token="123:abc", send_rate=25))
    assert problem is None and kept.send_rate == 25


def test_each_process_sends_at_the_set_rate_sharing_the_budget_on_postgresql(database):
    sender = sender_for(Settings(database_url="", send_rate=20, allow_paid_broadcast=False), database)
    assert sender.budget.interval == pytest.approx(1 / 20) and not sender.paid_broadcast
    assert (sender.budget.shared is None) == database.is_sqlite  # several processes only on PostgreSQL


async def test_only_scheduled_sends_are_paid_broadcasts(database):
    emulator = BotAPIEmulator(rate_limit_per_second=30).start()
    engine = Engine(database)
    try:
        for paid in (True, False):
            async with ExtBot(emulator.token, base_url=emulator.base_url,
                              rate_limiter=Sender(per_chat_interval=0, paid_broadcast=paid)) as bot:
                await prompt_deliverer(bot, engine)(str(PATIENT), [Message("Time for your check-in")])
                await deliver(bot, engine, PATIENT, [Message("A reply")])
                await alert_transport(bot, engine)[0](CLINIC_GROUP, Message("An alert"))
        flags = [(c["params"]["text"], c["params"].get("allow_paid_broadcast")) for c in emulator.calls_to("sendMessage")]
        assert flags == [("Time for your check-in", True), ("A reply", None), ("An alert", None),
                         ("Time for your check-in", None), ("A reply", None), ("An alert", None)]
    finally:
        emulator.stop()


async def test_an_alert_goes_before_the_prompts_that_queue(database):
    emulator = BotAPIEmulator().start()
    engine = Engine(database)
    try:
        async with ExtBot(emulator.token, base_url=emulator.base_url,
                          rate_limiter=Sender(overall_per_second=10, per_chat_interval=0)) as bot:
            prompts = [asyncio.create_task(prompt_deliverer(bot, engine)(str(1000 + i), [Message("Check-in")])) for i in range(10)]
            await emulator.until(lambda: len(emulator.calls_to("sendMessage")) >= 2)
            await alert_transport(bot, engine)[0](CLINIC_GROUP, Message("A severe score"))
            await asyncio.gather(*prompts)
        order = [c["chat_id"] for c in emulator.calls_to("sendMessage")]
        assert order.index(CLINIC_GROUP) <= 3, order  # the next slot, or the one after: ahead of six prompts or more
    finally:
        emulator.stop()
