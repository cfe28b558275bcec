"""Self-test of the emulator's webhook side: it pushes updates as Telegram does, with the secret,
one chat's in order, and sends an update again until the webhook answers 2xx."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telegram import Bot
from telegram.error import Conflict

from botapi import BotAPIEmulator

SECRET = "hook-secret"


class Receiver:
    """A webhook on loopback that answers each update's first `fail_first` deliveries with 500."""

    def __init__(self, fail_first: dict[int, int]):
        self.fail_first = dict(fail_first)
        self.received: list[tuple[int, str | None, int]] = []  # (update id, secret header, status answered)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                update = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                update_id = update["update_id"]
                status = 500 if receiver.fail_first.get(update_id, 0) > 0 else 200
                receiver.fail_first[update_id] = receiver.fail_first.get(update_id, 0) - 1
                receiver.received.append((update_id, self.headers.get("X-Telegram-Bot-Api-Secret-Token"), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def emu():
    emulator = BotAPIEmulator().start()
    yield emulator
    emulator.stop()


async def test_updates_are_pushed_with_the_secret_and_sent_again_until_taken(emu):
    first = emu.send_text(11, "one")
    second = emu.send_text(11, "two")
    other = emu.send_text(12, "elsewhere")
    receiver = Receiver({first: 2})
    try:
        async with Bot(emu.token, base_url=emu.base_url) as bot:
            await bot.set_webhook(receiver.url, secret_token=SECRET)
            await emu.until(lambda: not emu.pending_updates())
            with pytest.raises(Conflict):  # no getUpdates while a webhook is set
                await bot.get_updates()
            info = await bot.get_webhook_info()
    finally:
        receiver.stop()
    assert {secret for _id, secret, _status in receiver.received} == {SECRET}
    assert [status for update_id, _s, status in receiver.received if update_id == first] == [500, 500, 200]
    chat_11 = [update_id for update_id, _s, _status in receiver.received if update_id in (first, second)]
    assert chat_11 == [first, first, first, second]  # one chat's next update waits until the first is taken
    assert emu.acknowledged_updates() == {first, second, other}
    assert info.url == receiver.url and info.pending_update_count == 0 and "500" in info.last_error_message


async def test_a_webhook_nobody_listens_on_keeps_the_updates(emu):
    receiver = Receiver({})
    url = receiver.url
    receiver.stop()  # the port is closed now
    update_id = emu.send_text(11, "hello")
    async with Bot(emu.token, base_url=emu.base_url) as bot:
        await bot.set_webhook(url, secret_token=SECRET)
        await emu.until(lambda: len(emu.webhook_deliveries) >= 2)  # tried, and tried again
        await bot.delete_webhook()
        updates = await bot.get_updates()
    assert all(d["status"] is None and d["update_id"] == update_id for d in emu.webhook_deliveries)
    assert [u.update_id for u in updates] == [update_id]  # still there for whoever comes next
