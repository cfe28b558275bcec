"""The Telegram transport: python-telegram-bot in, dialog engine in the middle, Telegram out.

Handlers, in order (rules-bot style: middleware as handler groups):
  group -1  only private chats (a group or channel gets one line saying so)
  group  0  button presses · commands · edited messages · text · anything else (media)
Every handler turns the update into an `Inbound`, runs the engine in a worker thread (the
database is synchronous) and sends what comes back through the one `Sender`.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Hashable

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

import locales
from bot import polling
from bot.concurrency import KeyedLocks
from bot.config import Settings
from bot.sender import REPLY, SCHEDULED, Sender
from dialogs.engine import Engine
from dialogs.io import Command, Edit, Edited, File, Inbound, Media, Message, Output, Press, Text, Who
from locales import N_, _
from scheduler import runner
from scheduler.dispatcher import Dispatcher

log = logging.getLogger(__name__)

COMMANDS = [
    ("menu", N_("Main menu")),
    ("help", N_("What I can do")),
    ("language", N_("Change the language")),
    ("timezone", N_("Change your time zone")),
    ("cancel", N_("Leave what you're doing")),
]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; one chat's updates run in order."""

    def __init__(self, max_concurrent_updates: int = 256):
        super().__init__(max_concurrent_updates)
        self._chats = KeyedLocks()

    async def do_process_update(self, update: object, coroutine) -> None:
        key: Hashable | None = None
        if isinstance(update, Update) and update.effective_chat is not None:
            key = update.effective_chat.id
        if key is None:
            await coroutine
            return
        async with self._chats.hold(key):
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def build_application(settings: Settings, engine: Engine, *, sender: Sender | None = None) -> Application:
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .rate_limiter(sender or Sender())
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(_on_start)
        .post_shutdown(_on_stop)
    )
    if settings.bot_api_url:
        builder = builder.base_url(settings.bot_api_url)
    app = builder.build()
    app.bot_data["engine"] = engine
    app.bot_data["settings"] = settings
    app.bot_data["told_not_private"] = set()
    app.add_handler(TypeHandler(Update, _private_chats_only), group=-1)
    app.add_handlers(
        [
            CallbackQueryHandler(_on_press),
            MessageHandler(filters.COMMAND & ~filters.UpdateType.EDITED, _on_command),
            MessageHandler(filters.UpdateType.EDITED, _on_edit),
            MessageHandler(filters.TEXT, _on_text),
            MessageHandler(filters.ALL, _on_media),
        ]
    )
    app.add_error_handler(_on_error)
    return app


def run(settings: Settings, engine: Engine) -> None:
    app = build_application(settings, engine)
    if settings.webhook_url:
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path="telegram",
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,  # Telegram sends it back with each update; PTB refuses others
            allowed_updates=Update.ALL_TYPES,
        )
        return

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await polling.serve(app, engine.db, stop)

    asyncio.run(main())


# -- middleware ----------------------------------------------------------------------------------


async def _private_chats_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    told: set[int] = context.bot_data["told_not_private"]
    if chat.id not in told:
        told.add(chat.id)
        with locales.use(locales.negotiate(update.effective_user.language_code if update.effective_user else None)):
            text = _("I only talk in private chats. Please message me directly.")
        try:
            await context.bot.send_message(chat.id, text)
        except TelegramError:
            log.info("could not tell chat %s that I work in private chats only", chat.id)
    if update.callback_query:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


# -- handlers ------------------------------------------------------------------------------------


def _who(update: Update) -> Who:
    user = update.effective_user
    return Who("telegram", str(user.id), user.language_code)


async def _step(update: Update, context: ContextTypes.DEFAULT_TYPE, event) -> None:
    engine: Engine = context.bot_data["engine"]
    inbound = Inbound(_who(update), event, update.update_id)
    outputs = await asyncio.to_thread(engine.handle, inbound)
    await deliver(context.bot, engine, update.effective_chat.id, outputs)


async def _on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()  # stop the spinner at once, whatever comes next
    message = query.message
    message_id = message.message_id if message else None
    message_text = getattr(message, "text", None)
    await _step(update, context, Press(query.data or "", message_id, message_text))


async def _on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    word, _space, args = update.effective_message.text.partition(" ")
    name = word[1:].split("@")[0].lower()
    await _step(update, context, Command(name, args.strip()))


async def _on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.edited_message
    text = message.text or message.caption
    if text:
        await _step(update, context, Edited(text))


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _step(update, context, Text(update.message.text))


async def _on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    kind = next(
        (k for k in ("sticker", "photo", "voice", "video", "video_note", "audio", "document", "animation", "location", "contact") if getattr(message, k, None)),
        "other",
    )
    await _step(update, context, Media(kind, message.caption))


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_user is None:
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        return
    engine: Engine = context.bot_data["engine"]
    who = _who(update)
    try:
        language = await asyncio.to_thread(engine.language_of, who)
        with locales.use(language):
            apology = _("Sorry, something went wrong on my side. Nothing you told me is lost.")
        outputs: list[Output] = [Message(apology)]
        outputs += await asyncio.to_thread(engine.current_question, who)
    except Exception:  # the database itself may be what failed: still never leave them in silence
        log.exception("could not recover the question after update %s", update_id)
        outputs = [Message("Sorry, something went wrong on my side. Please try again in a moment.")]
    await deliver(context.bot, engine, update.effective_chat.id, outputs)


# -- output --------------------------------------------------------------------------------------


async def deliver(bot, engine: Engine, chat_id: int, outputs: list[Output], *, priority: int = REPLY) -> int | None:
    """Send the outputs in order; returns the id of the last message sent."""
    sent = None
    for output in coalesce(outputs):
        if isinstance(output, Message):
            markup = _keyboard(output.buttons)
            chunks = _split(output.text)
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                sent = await bot.send_message(
                    chat_id, chunk, reply_markup=markup if last else None, rate_limit_args=priority
                )
            if output.buttons:
                await asyncio.to_thread(engine.bind, output.button_ids, sent.message_id)
        elif isinstance(output, Edit):
            try:
                await bot.edit_message_text(
                    output.text[: MessageLimit.MAX_TEXT_LENGTH],
                    chat_id=chat_id,
                    message_id=output.message_id,
                    reply_markup=_keyboard(output.buttons),
                    rate_limit_args=priority,
                )
            except BadRequest as error:  # already edited, or too old to edit: the chat still reads right
                log.info("edit of message %s skipped: %s", output.message_id, error)
        elif isinstance(output, File):
            await bot.send_document(
                chat_id, InputFile(output.data, filename=output.filename), caption=output.caption or None, rate_limit_args=priority
            )


def coalesce(outputs: list[Output]) -> list[Output]:
    """Join consecutive texts without buttons into one message: fewer sends within the per-chat limit."""
    merged: list[Output] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            isinstance(output, Message)
            and isinstance(previous, Message)
            and not previous.buttons
            and len(previous.text) + len(output.text) + 2 <= MessageLimit.MAX_TEXT_LENGTH
        ):
            merged[-1] = Message(f"{previous.text}\n\n{output.text}", output.buttons)
        else:
            merged.append(output)
    return merged


def _split(text: str) -> list[str]:
    limit = MessageLimit.MAX_TEXT_LENGTH - 96  # Telegram counts UTF-16 units; leave room for astral characters
    return [text[i : i + limit] for i in range(0, len(text), limit)] or [""]


def _keyboard(rows) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.id) for b in row] for row in rows])


async def _on_start(app: Application) -> None:
    await _set_commands(app)
    settings: Settings = app.bot_data["settings"]
    if settings.dispatch_seconds > 0:
        engine: Engine = app.bot_data["engine"]

        async def deliver_prompt(external_id: str, outputs: list[Output]) -> int | None:
            return await deliver(app.bot, engine, int(external_id), outputs, priority=SCHEDULED)

        dispatcher = Dispatcher(engine.db, engine, deliver_prompt)
        app.bot_data["scheduler"] = runner.start(engine.db, dispatcher, dispatch_seconds=settings.dispatch_seconds)


async def _on_stop(app: Application) -> None:
    scheduler = app.bot_data.pop("scheduler", None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)


async def _set_commands(app: Application) -> None:
    """The command menu in every language we speak; a failure is logged, never fatal."""
    try:
        for language in locales.SUPPORTED:
            with locales.use(language):
                commands = [BotCommand(name, _(description)) for name, description in COMMANDS]
            await app.bot.set_my_commands(commands, language_code=None if language == locales.DEFAULT else language)
    except TelegramError:
        log.warning("could not set the command menu", exc_info=True)
