"""Plays guided exercises in a chat: one message edited at each frame's time, without blocking
anyone (one task per chat), and stopped the moment the patient sends anything."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence

log = logging.getLogger(__name__)


class GuidePlayer:
    def __init__(self, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, clock: Callable[[], float] = time.monotonic,
                 time_scale: float = 1.0):
        self.sleep = sleep
        self.clock = clock
        self.time_scale = time_scale  # tests play a minute in a moment
        self._playing: dict[Hashable, asyncio.Task] = {}
        self._showing: dict[Hashable, Hashable] = {}  # chat -> its exercise's message, while that shows a Stop button

    def start(self, chat: Hashable, frames: Sequence[tuple[float, str]], edit: Callable[[str, bool], Awaitable[None]],
              finish: Callable[[], Awaitable[None]], message: Hashable | None = None) -> None:
        """The first frame is already on screen (on `message`); edit to the others at their times
        (`edit(text, last)`: the last one without buttons), then finish."""
        self.stop(chat)
        task = asyncio.create_task(self._play(chat, frames, edit, finish))
        self._playing[chat] = task
        if message is not None:
            self._showing[chat] = message

        def done(finished: asyncio.Task) -> None:
            if self._playing.get(chat) is finished:
                self._playing.pop(chat, None)
                self._showing.pop(chat, None)

        task.add_done_callback(done)

    def stop(self, chat: Hashable) -> Hashable | None:
        """Stop the chat's exercise; returns its message if that still shows its buttons."""
        task = self._playing.pop(chat, None)
        message = self._showing.pop(chat, None)
        if task is not None:
            task.cancel()
        return message

    def plays(self, chat: Hashable) -> bool:
        """An exercise is playing in the chat: neither stopped nor played out yet."""
        task = self._playing.get(chat)
        return task is not None and not task.done()

    async def _play(self, chat, frames, edit, finish) -> None:
        start = self.clock()
        for index, (at, text) in enumerate(frames[1:], start=1):
            # Sleep to the frame's time from the start, so a slow edit never makes the drill drift.
            await self.sleep(max(0.0, start + at * self.time_scale - self.clock()))
            last = index == len(frames) - 1
            try:
                await edit(text, last)
            except asyncio.CancelledError:
                raise
            except Exception:  # one lost edit (a timeout, say) must not freeze the drill
                log.warning("an edit of a guided exercise failed; going on", exc_info=True)
            else:
                if last:
                    self._showing.pop(chat, None)  # the closing frame has no Stop button left
        await finish()
