"""What goes out to Telegram: a step's outputs as messages, edits and files, in order.

Consecutive texts are merged (Telegram allows one message per second per chat), long texts are
split at Telegram's limit (counted in UTF-16 units), buttons become inline keyboards, and a
guided exercise is played by editing its message. Every call passes through the one `Sender`
(bot/sender.py), the Application's rate limiter: prompts as SCHEDULED, replies and clinicians'
alerts as REPLY (they go first). Where the deployment pays for Telegram's paid broadcasts (the
Sender says so), scheduled sends carry allow_paid_broadcast.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.guide import GuidePlayer
from bot.sender import REPLY, SCHEDULED
from clinic.alerts import EditCopy, Send, Undeliverable
from dialogs.engine import Engine
from dialogs.io import Edit, File, Inbound, Message, Output, Press, Who
from scheduler.dispatcher import Blocked, NotDelivered

log = logging.getLogger(__name__)


async def deliver(
    bot, engine: Engine, chat_id: int, outputs: list[Output], *, priority: int = REPLY,
    guides: GuidePlayer | None = None, who: Who | None = None,
) -> int | None:
    """Send the outputs in order; returns the id of the last message sent."""
    sent = None
    paid = priority == SCHEDULED and getattr(getattr(bot, "rate_limiter", None), "paid_broadcast", False)
    broadcast = {"allow_paid_broadcast": True} if paid else {}
    for output in coalesce(outputs):
        if isinstance(output, Message):
            markup = _keyboard(output.buttons)
            chunks = _split(output.text)
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                sent = await bot.send_message(
                    chat_id, chunk, reply_markup=markup if last else None, rate_limit_args=priority,
                    link_preview_options=LinkPreviewOptions(is_disabled=True) if output.no_preview else None, **broadcast,
                )
            if output.guide and guides is not None and who is not None:
                _play_guide(bot, engine, guides, who, chat_id, sent.message_id, output, markup)
        elif isinstance(output, Edit):
            try:
                await bot.edit_message_text(
                    _split(output.text)[0],
                    chat_id=chat_id,
                    message_id=output.message_id,
                    reply_markup=_keyboard(output.buttons),
                    rate_limit_args=priority,
                )
            except BadRequest as error:  # already edited, or too old to edit: the chat still reads right
                log.info("edit of message %s skipped: %s", output.message_id, error)
        elif isinstance(output, File):
            upload = InputFile(output.data, filename=output.filename)
            send = bot.send_photo if output.mime_type.startswith("image/") else bot.send_document  # charts show inline
            sent = await send(chat_id, upload, caption=output.caption or None, rate_limit_args=priority, **broadcast)
    return sent.message_id if sent is not None else None


def prompt_deliverer(bot, engine: Engine):
    """How the scheduler's prompts reach Telegram: behind replies, Telegram's errors in the
    scheduler's own words."""

    async def deliver_prompt(external_id: str, outputs: list[Output]) -> int | None:
        try:
            return await deliver(bot, engine, int(external_id), outputs, priority=SCHEDULED)
        except Forbidden as error:
            raise Blocked(str(error)) from error
        except TelegramError as error:
            raise NotDelivered(str(error)) from error

    return deliver_prompt


def alert_transport(bot, engine: Engine) -> tuple[Send, EditCopy]:
    """How the clinic's alerts reach Telegram: sent as urgently as a reply, copies edited in place."""

    async def send(chat_id: int, message: Message) -> int | None:
        return await deliver(bot, engine, chat_id, [message])

    async def edit(chat_id: int, message_id: int, message: Message) -> None:
        try:
            await deliver(bot, engine, chat_id, [Edit(message_id, message.text, message.buttons)])  # a 400 is skipped there
        except Forbidden as error:
            raise Undeliverable(str(error)) from error

    return send, edit


def _play_guide(bot, engine: Engine, guides: GuidePlayer, who: Who, chat_id: int, message_id: int, message: Message, markup) -> None:
    async def edit(text: str, last: bool) -> None:
        # The closing frame loses its Stop button: there is nothing left to stop.
        await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=None if last else markup)

    async def finish() -> None:
        # Played out: answered for the patient, as if they had pressed a button on that message.
        done = Inbound(who, Press(message.guide_done, message_id))
        outputs = await asyncio.to_thread(engine.handle, done)
        await deliver(bot, engine, chat_id, outputs, guides=guides, who=who)

    guides.start(chat_id, message.guide, edit, finish, message=message_id)


def coalesce(outputs: list[Output]) -> list[Output]:
    """Fewer sends within the per-chat limit: consecutive texts without buttons become one
    message, and edits (marking an answered question) go after the next question, not before it."""
    merged: list[Output] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            isinstance(output, Message)
            and isinstance(previous, Message)
            and not previous.buttons
            and not previous.standalone
            and not output.standalone
            and previous.no_preview == output.no_preview
            and not output.guide  # a guided exercise edits its own message: it takes no text before it
            and telegram_length(previous.text) + telegram_length(output.text) + 2 <= MessageLimit.MAX_TEXT_LENGTH
        ):
            merged[-1] = replace(output, text=f"{previous.text}\n\n{output.text}")  # keeps its flags
        elif not isinstance(output, Edit):
            merged.append(output)
    return merged + [output for output in outputs if isinstance(output, Edit)]


def telegram_length(text: str) -> int:
    """Telegram measures text in UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _split(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    chunks, current, size = [], [], 0
    for character in text:
        units = telegram_length(character)
        if size + units > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(character)
        size += units
    return [*chunks, "".join(current)]


def _keyboard(rows) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.id) for b in row] for row in rows])
