"""The emulator holds the bot to Telegram's limits as Telegram does: rates answered 429 with
retry_after, oversized callback data and text refused, an edit that changes nothing refused.
Arrival times come from a clock the tests move, so no test depends on how fast calls go."""
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, RetryAfter

try:  # tests/ may or may not be a package; pytest's rootdir insertion differs
    from tests.botapi import BotAPIEmulator
except ImportError:
    from botapi import BotAPIEmulator

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter's int

USER, OTHER, GROUP = 4242, 4343, -100777


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def emulator(clock, **limits) -> BotAPIEmulator:
    return BotAPIEmulator(clock=clock, **limits).start()


def seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else value


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Press", callback_data=data)]])


async def test_more_than_30_sends_in_a_second_get_429_with_retry_after(clock):
    emu = emulator(clock, rate_limit_per_second=30)
    try:
        async with Bot(emu.token, base_url=emu.base_url) as bot:
            for i in range(30):  # 30 chats in the same instant: all accepted
                await bot.send_message(1000 + i, "due")
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(2000, "one too many")
            assert seconds(refused.value) == 1
            await bot.edit_message_text("edited", chat_id=1000, message_id=1)  # an edit is not a send
            clock.now += 1.0  # the first second has passed: room again
            await bot.send_message(2000, "now")
        assert emu.rate_limited == 1 and emu.rate_limited_by == {"overall": 1}
        assert emu.last_message(2000)["text"] == "now"
    finally:
        emu.stop()


async def test_paid_broadcasts_are_not_held_to_30_a_second(clock):
    emu = emulator(clock, rate_limit_per_second=30)
    try:
        async with Bot(emu.token, base_url=emu.base_url) as bot:
            for i in range(60):
                await bot.send_message(1000 + i, "due", allow_paid_broadcast=True)
            await bot.send_message(USER, "a reply, unpaid")  # the free budget is untouched
        assert emu.rate_limited == 0
        assert all(c["params"]["allow_paid_broadcast"] is True for c in emu.calls_to("sendMessage")[:60])
    finally:
        emu.stop()


async def test_a_private_chat_gets_one_message_a_second_edits_included(clock):
    emu = emulator(clock, private_chat_per_second=1)
    try:
        async with Bot(emu.token, base_url=emu.base_url) as bot:
            await bot.send_message(USER, "first")
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(USER, "second, at once")
            assert seconds(refused.value) == 1
            await bot.send_message(OTHER, "another chat is not held back")
            clock.now += 0.5
            with pytest.raises(RetryAfter):
                await bot.edit_message_text("edited", chat_id=USER, message_id=1)
            clock.now += 0.5
            await bot.edit_message_text("edited", chat_id=USER, message_id=1)
        assert emu.rate_limited_by == {"chat": 2}
        assert [m["text"] for m in emu.messages(USER)] == ["edited"]
    finally:
        emu.stop()


async def test_a_group_gets_20_messages_a_minute(clock):
    emu = emulator(clock, group_per_minute=20, private_chat_per_second=1)
    try:
        async with Bot(emu.token, base_url=emu.base_url) as bot:
            for i in range(20):
                await bot.send_message(GROUP, f"alert {i}")
                clock.now += 1.5  # 1.5 s apart: 20 take 30 s
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(GROUP, "alert 20")
            assert seconds(refused.value) == 30  # the first of the 20 leaves the minute then
            clock.now += 30
            await bot.send_message(GROUP, "alert 20")
        assert emu.rate_limited_by == {"group": 1}
        assert len(emu.messages(GROUP)) == 21
    finally:
        emu.stop()


async def test_callback_data_over_64_bytes_is_refused(clock):
    emu = emulator(clock)
    try:
        async with Bot(emu.token, base_url=emu.base_url) as bot:
            await bot.send_message(USER, "fits", reply_markup=keyboard("x" * 64))
            with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
                await bot.send_message(USER, "too long", reply_markup=keyboard("x" * 65))
            with pytest.raises(BadRequest, match="(?i)button_data_invalid"):  # bytes, not characters
                await bot.send_message(USER, "too long", reply_markup=keyboard("é" * 33))
            with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
                await bot.edit_message_reply_markup(USER, 1, reply_markup=keyboard("y" * 65))
        assert [m["text"] for m in emu.messages(USER)] == ["fits"]
        assert emu.buttons(emu.last_message(USER)) == [("Press", "x" * 64)]
    finally:
        emu.stop()


async def test_text_over_4096_utf16_units_is_refused(clock):
    emu = emulator(clock)
    try:
        async with Bot(emu.token, base_url=emu.base_url) as bot:
            await bot.send_message(USER, "\N{SMILING FACE WITH SMILING EYES}" * 2048)  # 2 units each: 4,096
            with pytest.raises(BadRequest, match="(?i)message is too long"):
                await bot.send_message(USER, "\N{SMILING FACE WITH SMILING EYES}" * 2048 + "!")
            with pytest.raises(BadRequest, match="(?i)message is too long"):
                await bot.edit_message_text("x" * 4097, chat_id=USER, message_id=1)
        assert len(emu.messages(USER)) == 1
    finally:
        emu.stop()


async def test_an_edit_that_changes_nothing_is_not_modified(clock):
    emu = emulator(clock)
    try:
        async with Bot(emu.token, base_url=emu.base_url) as bot:
            await bot.send_message(USER, "How is your pain?", reply_markup=keyboard("a"))
            with pytest.raises(BadRequest, match="(?i)message is not modified"):
                await bot.edit_message_reply_markup(USER, 1, reply_markup=keyboard("a"))
            await bot.edit_message_text("How is your pain?", chat_id=USER, message_id=1)  # drops the buttons: a change
            with pytest.raises(BadRequest, match="(?i)message is not modified"):
                await bot.edit_message_text("How is your pain?", chat_id=USER, message_id=1)
        assert emu.last_message(USER)["edits"] == 1
    finally:
        emu.stop()
