"""The Telegram transport: python-telegram-bot in, dialog engine in the middle, Telegram out.

Handlers, in order (rules-bot style: middleware as handler groups):
  group -1  only private chats (a group or channel gets one line saying so)
  group  0  button presses · commands · edited messages · text · anything else (media)
Every handler turns the update into an `Inbound` and runs, in a worker thread (the database is
synchronous), one unit of work (`answer`): the clinician desk if it is a verified clinician's,
else the patient's step, in one transaction. What comes back goes out through the one `Sender`
(bot/delivery.py). Alerts to clinicians are sent by the scheduler's alert job the same way.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Hashable

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
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
from content import cities
from bot import polling, recovery, webhook
from bot.concurrency import KeyedLocks
from bot.flood import FloodGuard
from bot.guide import GuidePlayer
from bot.config import Settings
from bot.delivery import alert_transport, deliver, prompt_deliverer
from bot.sender import Sender, sender_for
from bot.steps import answer, confirmed, mark_unreachable, resend_urgent, sweep
from bot.updates import who_of, without_nul
from clinic.alerts import AlertDispatcher
from clinic.desk import Desk
from dialogs import helplines
from dialogs.engine import Engine
import screen
from screen import policy as outcomes
from dialogs.io import Command, Edited, Inbound, Media, Message, Press, Text
from locales import N_, _
from scheduler import runner
from scheduler.dispatcher import Dispatcher
from storage.leader import Leadership

log = logging.getLogger(__name__)

COMMANDS = [
    ("menu", N_("Main menu")),
    ("progress", N_("My progress chart")),
    ("help", N_("What I can do")),
    ("language", N_("Change the language")),
    ("timezone", N_("Change your time zone")),
    ("cancel", N_("Leave what you're doing")),
    ("pause", N_("Pause reminders")),
    ("resume", N_("Resume reminders")),
    ("mydata", N_("My data, as a file")),
    ("withdraw", N_("Withdraw your consent")),
    ("delete", N_("Delete my data")),
]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; one chat's updates run in order.

    An update waiting for its chat holds one of the slots, so the slots are many: a chat that
    floods must not use them all up (the worker threads already bound the database work).
    The flood guard counts what waits per chat, so a flood's replies can be thinned.
    """

    def __init__(self, max_concurrent_updates: int = 100_000, flood: FloodGuard | None = None):
        super().__init__(max_concurrent_updates)
        self._chats = KeyedLocks()
        self.flood = flood

    async def do_process_update(self, update: object, coroutine) -> None:
        key: Hashable | None = None
        if isinstance(update, Update) and update.effective_chat is not None:
            key = update.effective_chat.id
        if key is None:
            await coroutine
            return
        # Only what gets a reply counts towards a flood (not, say, the patient blocking the bot).
        counted = self.flood is not None and update.effective_message is not None
        if counted:
            self.flood.arrived(key)
        try:
            async with self._chats.hold(key):
                await coroutine
        finally:
            if counted:
                self.flood.finished(key)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def build_application(
    settings: Settings, engine: Engine, *, sender: Sender | None = None, guides: GuidePlayer | None = None,
    read_timeout: float | None = None,
) -> Application:
    """The Application; `read_timeout` (seconds) overrides python-telegram-bot's 5 s wait for an answer."""
    if sender is None:
        # PostgreSQL is how several bot processes run: there they share one send budget.
        sender = sender_for(settings, engine.db)
    flood = FloodGuard()
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .rate_limiter(sender)
        .concurrent_updates(PerChatUpdateProcessor(flood=flood))
        .post_init(_on_start)
        .post_shutdown(_on_stop)
    )
    if settings.bot_api_url:
        builder = builder.base_url(settings.bot_api_url)
    if read_timeout is not None:
        builder = builder.read_timeout(read_timeout).get_updates_read_timeout(read_timeout)
    app = builder.build()
    app.bot_data["engine"] = engine
    app.bot_data["settings"] = settings
    app.bot_data["told_not_private"] = set()
    app.bot_data["flood"] = flood
    app.bot_data["guides"] = guides or GuidePlayer()
    app.bot_data["leadership"] = Leadership(engine.db)  # who runs the singletons (bot/leadership.py)
    app.bot_data["desk"] = Desk(engine.db, clock=engine.clock, bot_username=settings.bot_username,
                                 web_url=settings.web_url)
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
    app.add_error_handler(recovery.on_error)
    return app


def run(settings: Settings, engine: Engine, *, take_over: bool = False) -> None:
    """Serve until SIGINT or SIGTERM: webhook mode with a webhook URL, else long polling (and
    GET /health on `health_port`, if given). Raises startup.Refused when a poller must not start."""
    app = build_application(settings, engine)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if settings.webhook_url:
            await webhook.serve(app, engine.db, stop, settings)
        else:
            health = (settings.webhook_listen, settings.health_port) if settings.health_port else None
            await polling.serve(app, engine.db, stop, take_over=take_over, health=health)

    asyncio.run(main())


# -- middleware ----------------------------------------------------------------------------------


async def _private_chats_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE and update.effective_user is not None:
        return
    # Anything else is no patient's step: a group or channel (told once), or an update without a
    # chat or sender (an inline query, a button on an inline message), which has no one to answer.
    if chat is not None and chat.type != ChatType.PRIVATE:
        message = update.effective_message
        text = (message.text or message.caption) if message else None
        if text and await _group_crisis(update, context, text):
            raise ApplicationHandlerStop
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
        try:
            await update.callback_query.answer()
        except TelegramError:
            log.info("could not answer a button press outside a private chat")
    raise ApplicationHandlerStop


async def _group_crisis(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """Group text that reaches the bot (a mention, a reply, a command: privacy mode hides the rest)
    is screened too. On crisis language: the lines in the thread and an invitation to a private
    chat. Nothing is stored, the words are never repeated, and no clinic is alerted (we cannot know
    whose patient this is, nor whether the writer speaks of themselves)."""
    if not set(screen.screen(text).outcomes()) & outcomes.DANGER:
        return False
    user = update.effective_user
    with locales.use(locales.negotiate(user.language_code if user else None)):
        reply = "\n\n".join([helplines.crisis_text(locales.territory_of(user.language_code if user else None), {}),
                              _("I only talk in private chats: message me directly if you'd like to talk.")])
    try:
        await update.effective_message.reply_text(reply)
    except TelegramError:
        log.info("could not answer crisis language in a group chat")
    return True


# -- handlers ------------------------------------------------------------------------------------


async def _step(update: Update, context: ContextTypes.DEFAULT_TYPE, event) -> None:
    engine: Engine = context.bot_data["engine"]
    guides: GuidePlayer = context.bot_data["guides"]
    flood: FloodGuard = context.bot_data["flood"]
    chat_id = update.effective_chat.id
    message = (chat_id, update.message.message_id) if update.message else None  # a new message (not an edit, not a press)
    stopped = guides.stop(chat_id)  # whatever they sent, a guided exercise stops for it
    inbound = Inbound(who_of(update), without_nul(event), update.update_id, message, stopped_guide=stopped)
    answered = await asyncio.to_thread(answer, context.bot_data["desk"], engine, inbound, chat_id)
    outputs, kept = answered.outputs, answered.kept
    if answered.acknowledged and (handled := context.bot_data.get("handled")) is not None:
        handled.add(update.update_id)  # the inbox poller need not take it out (bot/polling.py)
    # The step is recorded. In a flood, a newer message's reply will say where we are: only what
    # must never be dropped goes out now (bot/flood.py).
    if flood.hold(chat_id):
        outputs = [output for output in outputs if isinstance(output, Message) and output.urgent]
    elif flood.note_due(chat_id):
        with locales.use(await asyncio.to_thread(engine.language_of, inbound.who)):
            note = _("You're sending a lot at once — I've read everything; here's where we are.")
        outputs = [Message(note), *outputs]
    try:
        await deliver(context.bot, engine, chat_id, outputs, guides=guides, who=inbound.who)
    except Forbidden:  # they blocked the bot: as the dispatcher does, no more messages until they write
        log.info("update %s: the patient blocked the bot; marked unreachable", update.update_id)
        await asyncio.to_thread(mark_unreachable, engine, inbound.who)
    except TelegramError:
        await confirmed(engine, kept)  # the error path answers instead (bot/recovery.py)
        raise
    # Sent (or, in a flood, thinned): out of the outbox. A process killed before this line sends
    # them on its next start (bot/steps.py); one stopped mid-send (cancelled) too.
    await confirmed(engine, kept)


async def _on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    try:
        await query.answer()  # stop the spinner at once, whatever comes next
    except TelegramError:  # the spinner stops by itself; the press still counts
        log.info("update %s: could not answer the button press", update.update_id)
    message = query.message
    message_id = message.message_id if message else None
    message_text = getattr(message, "text", None)
    shown = None  # an old message Telegram no longer shows us: the signature alone decides
    if message is not None and message.is_accessible:
        markup = message.reply_markup
        shown = tuple(b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data) if markup else ()
    await _step(update, context, Press(query.data or "", message_id, message_text, shown))


async def _on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = update.effective_message.text
    await _step(update, context, Command.parse(text) or Text(text))


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


async def _on_start(app: Application) -> None:
    await _set_commands(app)
    settings: Settings = app.bot_data["settings"]
    desk: Desk = app.bot_data["desk"]
    desk.bot_username = desk.bot_username or app.bot.username  # for invitation links
    engine: Engine = app.bot_data["engine"]
    app.bot_data["warm"] = asyncio.create_task(asyncio.to_thread(cities.warm))  # the city index, read off the patients' path
    # Before any new update, what a stopped process never sent: crisis lines now, the rest once the
    # transport has handled what waited for this start (`steps.caught_up`): replies keep their order.
    app.bot_data["held_back"] = await resend_urgent(app.bot, engine, everything=engine.db.is_sqlite)
    caught_up = app.bot_data["caught_up"] = asyncio.Event()
    asyncio.get_running_loop().call_later(60, caught_up.set)  # a transport that cannot read yet holds prompts back no longer
    if not engine.db.is_sqlite:  # several processes: one may die mid-send
        app.bot_data["sweep"] = asyncio.create_task(sweep(app.bot, engine))
    if settings.dispatch_seconds > 0:
        dispatcher = Dispatcher(engine.db, engine, prompt_deliverer(app.bot, engine))
        alert_dispatcher = AlertDispatcher(engine.db, *alert_transport(app.bot, engine), clock=engine.clock)
        app.bot_data["dispatcher"] = dispatcher
        leadership: Leadership = app.bot_data["leadership"]
        await asyncio.to_thread(leadership.check)  # the first sweep and pruning run now, not a round later
        app.bot_data["scheduler"] = runner.start(engine.db, dispatcher, ticks={"alerts": alert_dispatcher.tick},
                                                 dispatch_seconds=settings.dispatch_seconds, ready=caught_up,
                                                 leading=lambda: leadership.leading)


async def _on_stop(app: Application) -> None:
    if (sweeping := app.bot_data.pop("sweep", None)) is not None:
        sweeping.cancel()
    # First the sends in flight finish and are recorded (the scheduler's shutdown would cancel them,
    # and a prompt claimed but not recorded ends "unknown", never resent); then no new runs.
    if (dispatcher := app.bot_data.pop("dispatcher", None)) is not None:
        await dispatcher.drain()
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
