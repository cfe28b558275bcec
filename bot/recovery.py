"""When a step fails: the patient gets an apology and their question, never silence.

A failed step changed nothing (its transaction rolled back). If what they wrote was a crisis,
a red flag or a disclosure, the reply that matters is sent anyway: from the screen, or if the
screen itself failed, from the phrase lists, or if those failed too, the crisis lines.
"""
from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

import locales
import screen
from bot.delivery import deliver
from dialogs import helplines
from dialogs.engine import Engine
from bot.updates import who_of
from dialogs.io import Message, Output
from locales import _
from screen import policy as outcomes

log = logging.getLogger(__name__)


def _screened_for_the_error_path(text: str, update_id) -> set[str]:
    """What the screen finds, for a step that failed. If the screen itself is what failed, the
    lists alone; if they fail too, the message is treated as a crisis: never left without the lines."""
    try:
        return set(screen.screen(text).outcomes())
    except Exception:
        log.exception("the safety screen failed on update %s; the lists alone decide", update_id)
    try:
        from screen import rules

        return set(outcomes.decide(rules.screen_all(text), {}, {}).outcomes())
    except Exception:
        log.exception("the phrase lists failed on update %s too: answering with the crisis lines", update_id)
        return {outcomes.CRISIS}


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with the update id; the patient gets an apology and their question, never silence
    (only the question when just the sending failed)."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_user is None:
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        return
    engine: Engine = context.bot_data["engine"]
    who = who_of(update)
    message = update.effective_message
    text = (message.text or message.caption) if message else None
    language = locales.negotiate(who.language_code)
    try:
        language = await asyncio.to_thread(engine.language_of, who)
    except Exception:
        log.exception("could not read the language of update %s's patient", update_id)
    found = _screened_for_the_error_path(text, update_id) if text else set()
    country = locales.territory_of(who.language_code)
    with locales.use(language):
        if found & outcomes.DANGER:
            # The step failed, but a crisis (or possibly crisis) message is never left without the lines.
            outputs: list[Output] = [Message(helplines.crisis_text(country, {}), urgent=True)]
            if outcomes.OVERDOSE_TAKEN in found:
                outputs.insert(0, Message(helplines.overdose_taken_text(country, {}), urgent=True))
        elif found & outcomes.RED_FLAGS:  # nor a red flag without the advice (it may be what failed to send)
            number = helplines.emergency_number(country, {})
            outputs = [Message(helplines.red_flag_text(number, emergency=outcomes.RED_FLAG_EMERGENCY in found), urgent=True)]
        elif outcomes.ABUSE in found:
            outputs = [Message(helplines.abuse_text(country, {}, alerted=False), urgent=True)]
        elif isinstance(context.error, TelegramError):
            # Only Telegram failed, after the step was recorded (steps do not talk to Telegram):
            # "send that again" would answer the next question with it. Ask that question again.
            outputs = []
        else:
            outputs = [Message(_("Sorry, something went wrong on my side. Please send that again."))]
    try:
        if not await asyncio.to_thread(context.bot_data["desk"].is_clinician, who):  # a clinician has no patient question
            outputs += await asyncio.to_thread(engine.current_question, who)
    except Exception:
        log.exception("could not recover the question after update %s", update_id)
    # Separate sends: a question that cannot be sent must not take the apology down with it.
    for output in outputs:
        try:
            await deliver(context.bot, engine, update.effective_chat.id, [output], who=who)
        except TelegramError:
            log.exception("could not send the apology for update %s", update_id)
