"""Small asyncio helpers shared by the update processor and the sender."""
from __future__ import annotations

import asyncio
from collections.abc import Hashable
from contextlib import asynccontextmanager
from typing import AsyncIterator


class KeyedLocks:
    """One FIFO lock per key (a chat), dropped again when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
