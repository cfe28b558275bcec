"""Flood control: a chat that sends a lot at once gets the reply to its latest message, not one
reply per message.

Telegram takes about one message a second per chat, so 100 messages sent in a burst would queue
100 seconds of replies to questions already answered. Every update is still handled by the engine,
in order, so every answer is recorded; only the sending is thinned. While a chat floods, the
reply to an update that already has a newer one waiting behind it is not sent: the newer one's
reply says where we are. Crisis lines and urgent-care advice (`Message.urgent`) always go out.
The first reply sent after some were held carries a short note, once per flood.

A chat floods while more than `max_waiting` of its updates wait to be handled (replies pile up),
or after more than `max_burst` arrived within `window` seconds; it stops when it has been quiet.
Other chats are not affected: their updates run beside this one (PerChatUpdateProcessor).
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class _Chat:
    waiting: int = 0  # updates arrived and not yet finished, the one being handled included
    arrivals: deque[float] = field(default_factory=deque)
    held: bool = False  # a reply was held in this flood
    noted: bool = False  # the patient was told


class FloodGuard:
    def __init__(self, *, max_waiting: int = 20, max_burst: int = 25, window: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self.max_waiting = max_waiting
        self.max_burst = max_burst
        self.window = window
        self.clock = clock
        self._chats: dict[Hashable, _Chat] = {}

    def arrived(self, chat: Hashable) -> None:
        """An update for the chat was received (called in arrival order)."""
        now = self.clock()
        if len(self._chats) > 10_000:  # chats that went quiet while their arrivals were recent
            for key, other in list(self._chats.items()):
                self._forget_old(other, now)
                if other.waiting == 0 and not other.arrivals:
                    del self._chats[key]
        state = self._chats.setdefault(chat, _Chat())
        self._forget_old(state, now)
        if state.waiting == 0 and not self._flooding(state):  # quiet again: a later flood is told again
            state.held = state.noted = False
        state.arrivals.append(now)
        state.waiting += 1

    def finished(self, chat: Hashable) -> None:
        state = self._chats[chat]
        state.waiting -= 1
        self._forget_old(state, self.clock())
        if state.waiting == 0 and not state.arrivals:
            del self._chats[chat]

    def hold(self, chat: Hashable) -> bool:
        """Whether the reply to the update being handled may give way to a newer one waiting."""
        state = self._chats.get(chat)
        if state is None or state.waiting <= 1:  # the latest update is always answered
            return False
        self._forget_old(state, self.clock())
        if not self._flooding(state):
            return False
        state.held = True
        return True

    def note_due(self, chat: Hashable) -> bool:
        """True once per flood, for the first reply sent after replies were held."""
        state = self._chats.get(chat)
        if state is None or not state.held or state.noted:
            return False
        state.noted = True
        return True

    def _flooding(self, state: _Chat) -> bool:
        return state.waiting > self.max_waiting or len(state.arrivals) > self.max_burst

    def _forget_old(self, state: _Chat, now: float) -> None:
        while state.arrivals and state.arrivals[0] <= now - self.window:
            state.arrivals.popleft()
