"""Self-test: the real python-telegram-bot stack against the loopback Bot API emulator."""
import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (ApplicationBuilder, CallbackQueryHandler, CommandHandler,
                          MessageHandler, filters)

try:  # tests/ may or may not be a package; pytest's rootdir insertion differs
    from tests.botapi import BotAPIEmulator
except ImportError:
    from botapi import BotAPIEmulator

USER = 4242
GROUP = -100777


@pytest.fixture
def emu():
    emulator = BotAPIEmulator().start()
    yield emulator
    emulator.stop()


def _keyboard(*data):
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d) for d in data]])


async def test_real_application_polls_replies_and_edits(emu):
    async def echo(update, context):
        await update.message.reply_text(f"echo: {update.message.text}",
                                        reply_markup=_keyboard("yes", "no"))

    async def start(update, context):
        await update.message.reply_text(f"hello {update.effective_user.first_name}, "
                                        f"args={context.args}")

    async def on_button(update, context):
        query = update.callback_query
        await query.answer("noted")
        await query.edit_message_text(f"you chose {query.data}")

    async def on_sticker(update, context):
        await update.message.reply_text("nice sticker")

    app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED,
                                   echo))
    app.add_handler(MessageHandler(filters.Sticker.ALL, on_sticker))
    app.add_handler(CallbackQueryHandler(on_button))

    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            assert app.bot.username == emu.bot_user["username"]

            emu.send_command(USER, "start deep-link")
            greeting = await emu.next_message(USER)
            assert greeting["text"] == "hello Pat, args=['deep-link']"

            emu.send_text(USER, "my back hurts")
            echoed = await emu.next_message(USER, after=greeting["message_id"])
            assert echoed["text"] == "echo: my back hurts"
            assert emu.buttons(echoed) == [("Yes", "yes"), ("No", "no")]
            assert echoed["kind"] == "text" and echoed["edits"] == 0

            emu.press(USER, echoed["message_id"], "no")
            await emu.until(lambda: emu.last_message(USER)["edits"] == 1)
            edited = emu.last_message(USER)
            assert edited["message_id"] == echoed["message_id"]
            assert edited["text"] == "you chose no"
            assert edited["reply_markup"] is None  # keyboard not re-sent -> dropped
            [answer] = emu.calls_to("answerCallbackQuery")
            assert answer["params"]["text"] == "noted"

            emu.send_sticker(USER)
            sticker_reply = await emu.next_message(USER, after=edited["message_id"])
            assert sticker_reply["text"] == "nice sticker"

            emu.send_text(99, "group hello", chat_id=GROUP, chat_type="group")
            # The blocking helper works too, as long as it runs off the bot's event loop.
            in_group = await asyncio.to_thread(emu.wait_for_message, GROUP, timeout=5)
            assert in_group["text"] == "echo: group hello"
            assert emu.calls_to("sendMessage")[-1]["chat_id"] == GROUP
        finally:
            await app.updater.stop()
            await app.stop()

    # Every update was confirmed by PTB's final get_updates(offset=last+1).
    assert emu.pending_updates() == []
    assert emu.calls_to("getMe") and emu.calls_to("deleteWebhook")


# RetryAfter warns about its int -> timedelta migration as soon as it is constructed.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_errors_map_to_ptb_exceptions(emu):
    async with Bot(emu.token, base_url=emu.base_url) as bot:
        emu.fail_next("sendMessage", status=429, retry_after=7)
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(USER, "hi")
        retry_after = excinfo.value.retry_after  # int, or timedelta with PTB_TIMEDELTA=1
        assert getattr(retry_after, "total_seconds", lambda: retry_after)() == 7

        emu.fail_next("sendMessage", status=403)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(USER, "hi")
        assert [c.get("error") for c in emu.calls_to("sendMessage")] == [429, 403]

        sent = await bot.send_message(USER, "fine now", reply_markup=_keyboard("a"))
        assert sent.message_id == 1 and sent.chat.id == USER and sent.from_user.is_bot
        assert sent.reply_markup.inline_keyboard[0][0].callback_data == "a"

        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("fine now", chat_id=USER, message_id=1,
                                        reply_markup=_keyboard("a"))
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=USER, message_id=99)
        edited = await bot.edit_message_reply_markup(USER, 1, reply_markup=_keyboard("b"))
        assert edited.reply_markup.inline_keyboard[0][0].callback_data == "b"
        assert emu.last_message(USER)["edits"] == 1

        with pytest.raises(BadRequest, match="(?i)unsupported start tag"):
            await bot.send_message(USER, "a<br>b", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)too long"):
            await bot.send_message(USER, "x" * 4097)
        await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")

        # Reply keyboards are recorded but (like Telegram) not echoed in the Message.
        reply_kb = await bot.send_message(USER, "pick", reply_markup=ReplyKeyboardMarkup([["A"]]))
        assert reply_kb.reply_markup is None
        assert emu.last_message(USER)["reply_markup"]["keyboard"] == [[{"text": "A"}]]

        doc = await bot.send_document(USER, b"col1,col2\n1,2\n", filename="export.csv",
                                      caption="your export")
        assert doc.document.file_name == "export.csv" and doc.caption == "your export"
        photo = await bot.send_photo(USER, b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        assert photo.photo[-1].width == 1280
        doc_rec, photo_rec = emu.messages(USER)[-2:]
        assert (doc_rec["kind"], doc_rec["filename"], doc_rec["file_size"]) == (
            "document", "export.csv", 14)
        assert (photo_rec["kind"], photo_rec["file_size"]) == ("photo", 264)

        await bot.set_my_commands([("start", "Begin"), ("help", "Help")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        assert await bot.send_chat_action(USER, "typing") is True
        assert await bot.do_api_request("someFutureMethod", {"x": 1}) is True
        assert emu.calls_to("someFutureMethod")[0]["params"] == {"x": 1}

    wrong = Bot("999:WRONG", base_url=emu.base_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()  # getMe -> 401
    await wrong.shutdown()


def _post(emu, method, data: bytes, content_type: str):
    req = urllib.request.Request(f"{emu.base_url}{emu.token}/{method}", data=data,
                                 headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_raw_http_long_polling_and_encodings(emu):
    form = "application/x-www-form-urlencoded"
    started = time.monotonic()
    assert _post(emu, "getUpdates", b"timeout=0.3", form) == (200, {"ok": True, "result": []})
    assert time.monotonic() - started > 0.25  # the long poll waited for its timeout

    first = emu.send_text(USER, "42")  # must stay a string, not become an int
    second = emu.push_raw({"message": {"message_id": 77, "date": 0,
                                       "chat": {"id": USER, "type": "private"}}})
    assert second == first + 1
    _, body = _post(emu, "getUpdates", b"limit=1&timeout=5", form)
    assert [u["update_id"] for u in body["result"]] == [first]
    assert body["result"][0]["message"]["text"] == "42"
    _, body = _post(emu, "getUpdates", json.dumps({"offset": second}).encode(), "application/json")
    assert [u["update_id"] for u in body["result"]] == [second]
    assert emu.pending_updates()[0]["update_id"] == second  # not yet confirmed

    markup = json.dumps({"inline_keyboard": [[{"text": "ok", "callback_data": "1"}]]})
    status, body = _post(emu, "sendMessage", f"chat_id={USER}&text=7&reply_markup={markup}"
                         .encode(), form)
    assert status == 200 and body["result"]["text"] == "7"
    sent_id = body["result"]["message_id"]
    assert emu.calls_to("sendMessage")[0]["params"]["reply_markup"] == json.loads(markup)

    emu.fail_next("sendMessage", status=429, retry_after=3)
    assert _post(emu, "sendMessage", b"chat_id=1&text=x", form) == (429, {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3}})

    with pytest.raises(AssertionError, match="sendMessage -> HTTP 429"):
        emu.wait_for(lambda: False, timeout=0.1)
    with pytest.raises(AssertionError, match="no button with data 'nope'"):
        emu.press(USER, sent_id, "nope")
