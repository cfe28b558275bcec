"""Telegram updates in the dialogs' terms."""
from __future__ import annotations

from dataclasses import replace

from telegram import Update

from dialogs.io import Who


def who_of(update: Update) -> Who:
    """The person an update comes from (an update with an effective user)."""
    user = update.effective_user
    return Who("telegram", str(user.id), user.language_code)


def without_nul(event):
    """PostgreSQL text cannot hold a NUL character (the step would fail on every try), and no
    patient means one: gone from what they typed and from (forgeable) callback data alike."""
    changes = {name: value.replace("\x00", "") for name, value in vars(event).items() if isinstance(value, str) and "\x00" in value}
    return replace(event, **changes) if changes else event
