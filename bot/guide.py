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

    def start(self, chat: Hashable, frames: Sequence[tuple[float, str]], edit: Callable[[str, bool], Awaitable[None]],
              finish: Callable[[], Awaitable[None]]) -> None:
        """The first frame is already on screen; edit to the others at their times (`edit(text, last)`),
        then finish."""
        self.stop(chat)
        task = asyncio.create_task(self._play(frames, edit, finish))
        self._playing[chat] = task
        task.add_done_callback(lambda t: self._playing.pop(chat, None) if self._playing.get(chat) is t else None)

    def stop(self, chat: Hashable) -> bool:
        task = self._playing.pop(chat, None)
        if task is None:
            return False
        task.cancel()
        return True

    async def _play(self, frames, edit, finish) -> None:
        start = self.clock()
        for index, (at, text) in enumerate(frames[1:], start=1):
            # Sleep to the frame's time from the start, so a slow edit never makes the drill drift.
            await self.sleep(max(0.0, start + at * self.time_scale - self.clock()))
            try:
                await edit(text, index == len(frames) - 1)
            except asyncio.CancelledError:
                raise
            except Exception:  # one lost edit (a timeout, say) must not freeze the drill
                log.warning("an edit of a guided exercise failed; going on", exc_info=True)
        await finish()
