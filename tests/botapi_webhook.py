"""The emulator's webhook side: while a webhook is set, updates are pushed to it as Telegram does.

Each pending update is POSTed as JSON with the secret in X-Telegram-Bot-Api-Secret-Token. A 2xx
answer confirms it (Telegram forgets it then); anything else, a refused connection or no answer
within `timeout` counts as a failure, and the update is sent again after a short backoff. One
chat's updates go one at a time, in order; different chats' go in parallel, up to the webhook's
max_connections. (Telegram gives up on an update after repeated failures; this emulator keeps
trying, unless `give_up_after` says how many attempts.) Only loopback URLs are pushed to.

Every attempt is recorded in `deliveries`: update_id, status (None when no HTTP answer), time.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from botapi import BotAPIEmulator

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class WebhookPusher:
    def __init__(self, emulator: "BotAPIEmulator", *, timeout: float = 10.0, first_backoff: float = 0.05,
                 most_backoff: float = 1.0, give_up_after: int | None = None):
        self.emu = emulator
        self.timeout = timeout
        self.first_backoff = first_backoff
        self.most_backoff = most_backoff
        self.give_up_after = give_up_after
        self.deliveries: list[dict] = []  # every attempt
        self.given_up: list[int] = []
        self._url = ""
        self._secret: str | None = None
        self._connections = 40
        self._in_flight: dict[int, object] = {}  # update id -> its chat
        self._attempts: dict[int, int] = {}
        self._retry_at: dict[int, float] = {}
        self._thread: threading.Thread | None = None

    # Called by the emulator, its lock held.
    def configure(self, url: str, secret: str | None, max_connections: int | None) -> None:
        self._url, self._secret = url, secret
        self._connections = max(1, min(int(max_connections or 40), 100))
        if url and urlsplit(url).hostname in LOOPBACK and (self._thread is None or not self._thread.is_alive()):
            self._thread = threading.Thread(target=self._run, daemon=True, name="botapi-webhook")
            self._thread.start()

    def last_error(self) -> dict | None:
        failed = [d for d in self.deliveries if not _ok(d["status"])]
        return failed[-1] if failed else None

    def _run(self) -> None:
        emu = self.emu
        with emu._cond:
            while self._url and not emu._stopping:
                for update in self._deliverable():
                    self._in_flight[update["update_id"]] = _chat_of(update)
                    threading.Thread(target=self._deliver, args=(self._url, self._secret, update), daemon=True).start()
                emu._nap(0.01)

    def _deliverable(self) -> list[dict]:
        """Updates to send now (lock held): each chat's first pending one, unless it is on its way
        or waiting out its backoff; as many as free connections allow."""
        now, busy, ready = time.monotonic(), set(self._in_flight.values()), []
        seen: set = set()
        for update in self.emu._updates:
            chat = _chat_of(update)
            if update["update_id"] in self._in_flight or (chat is not None and (chat in seen or chat in busy)):
                continue
            if chat is not None:
                seen.add(chat)
            if not self.emu._wanted(update) or self._retry_at.get(update["update_id"], 0) > now:
                continue
            if len(self._in_flight) + len(ready) >= self._connections:
                break
            ready.append(update)
        return ready

    def _deliver(self, url: str, secret: str | None, update: dict) -> None:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
        status, error = None, None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as failure:
            status = failure.code
        except OSError as failure:  # refused, reset, timed out: no answer
            error = type(failure).__name__
        emu = self.emu
        with emu._cond:
            update_id = update["update_id"]
            self.deliveries.append({"update_id": update_id, "status": status, "error": error, "t": time.monotonic()})
            self._in_flight.pop(update_id, None)
            if _ok(status):
                self._forget(update_id)
            else:
                attempts = self._attempts[update_id] = self._attempts.get(update_id, 0) + 1
                if self.give_up_after is not None and attempts >= self.give_up_after:
                    self.given_up.append(update_id)
                    self._forget(update_id)
                else:
                    self._retry_at[update_id] = time.monotonic() + min(self.most_backoff, self.first_backoff * 2 ** (attempts - 1))
            emu._cond.notify_all()

    def _forget(self, update_id: int) -> None:
        self.emu._updates = [u for u in self.emu._updates if u["update_id"] != update_id]
        self._retry_at.pop(update_id, None)


def _ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _chat_of(update: dict):
    """The chat an update belongs to, or None (an inline query: no order to keep)."""
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if chat:
                return chat.get("id")
            if "from" in value:
                return ("user", value["from"].get("id"))
    return None
