"""A loopback Telegram Bot API emulator for end-to-end tests of the real PTB Application.

    emu = BotAPIEmulator().start()
    app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
    ...start polling...; emu.send_text(42, "hi"); msg = await emu.next_message(42)

The server speaks HTTP/1.1 on 127.0.0.1 from a daemon thread, so PTB's httpx client
talks to it exactly as to api.telegram.org. Replies mirror the real Bot API shapes,
because PTB's de_json rejects anything that is missing required fields.

Telegram's limits, opt-in, each answered 429 with retry_after (whole seconds) as Telegram does;
`rate_limited` counts those 429s, `rate_limited_by` by limit ("overall", "chat", "group"):
- rate_limit_per_second=30: a send* call (sendMessage, sendDocument...) that would make more
  than 30 accepted sends within a sliding second. A paid broadcast (allow_paid_broadcast) counts
  apart, against 1000 a second, as Telegram allows for a fee;
- private_chat_per_second=1: a send* or edit* call that would make more than one in a private
  chat within a sliding second;
- group_per_minute=20: the same in a group (negative chat id) within a sliding minute.
Always, as Telegram: callback data over 64 bytes is a 400 "BUTTON_DATA_INVALID", text over
4,096 characters (UTF-16 units) a 400 "message is too long", and an edit that changes nothing a
400 "message is not modified".

Failure injection, per method: fail_next("sendMessage", status=502) answers the next call with
an error (any status: 5xx, 429 with retry_after, 403, 400...) and does nothing; with applied=True
the call takes effect first (a 5xx after the message went out, as Telegram may do); with
delay=seconds the call takes effect and its answer comes that much later, longer than a client
waits (a timeout after the fact). A call's record says "injected" when a failure was taken for it,
"error" for the status answered, and "applied" when it took effect all the same.

Webhooks: while a webhook is set on a loopback URL, pending updates are POSTed to it with the
secret header and sent again after a short backoff until it answers 2xx, as Telegram does
(tests/botapi_webhook.py; every attempt in `webhook_deliveries`); getUpdates answers 409 meanwhile.

Thread-safety: all state sits behind one RLock/Condition. Blocking helpers (wait_for,
wait_for_message) must not be called from the event loop that runs the bot - the bot
could never answer; use the async variants (until, next_message) there.
"""
from __future__ import annotations

import asyncio
import copy
import html
import itertools
import json
import math
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.parser import Parser
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from botapi_webhook import WebhookPusher

# Free-text parameters are sent raw by PTB; every other non-str value arrives JSON-encoded.
# Never JSON-decode these, or a user's text "42" would turn into an int.
_TEXT_PARAMS = frozenset({
    "text", "caption", "callback_query_id", "inline_message_id", "parse_mode", "url",
    "secret_token", "description", "short_description", "name", "title", "language_code",
    "emoji", "action", "query", "business_connection_id", "message_effect_id", "ip_address",
    "question", "explanation", "payload", "currency", "start_parameter", "first_name",
    "last_name", "phone_number", "address",
})
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
         "make sure that only one bot instance is running",
}
_NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and "
                 "reply markup are exactly the same as a current content and reply markup "
                 "of the message")
PAID_BROADCAST_PER_SECOND = 1000
CALLBACK_DATA_BYTES = 64
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
# Tags Telegram accepts with parse_mode=HTML (anything else is a 400 in production).
_HTML_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                        "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote"})


class ApiError(Exception):
    """Raised inside method handlers; becomes an {"ok": false, ...} reply with HTTP status."""

    def __init__(self, status: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    def payload(self) -> dict:
        body = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass(frozen=True)
class _Fault:
    error: ApiError | None  # the answer, or None for a normal (late) one
    applied: bool  # the call takes effect before the error (or the delay)
    delay: float  # seconds the answer is held back


def _bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def _coerce(key: str, value: str) -> Any:
    if key in _TEXT_PARAMS:
        return value
    try:  # ints, bools, reply_markup, allowed_updates, commands ... are JSON-encoded
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel", file_id strings


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict, dict]:
    headers = Parser().parsestr(f"Content-Type: {content_type}\r\n\r\n")
    boundary = ("--" + headers.get_param("boundary")).encode()
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):  # closing delimiter
            break
        head, _, data = part.partition(b"\r\n\r\n")
        data = data[:-2] if data.endswith(b"\r\n") else data
        h = Parser().parsestr(head.strip().decode("utf-8", "replace") + "\r\n\r\n")
        name = h.get_param("name", header="content-disposition")
        filename = h.get_param("filename", header="content-disposition")
        if filename is not None:
            files[name] = (filename, data, h.get_content_type())
        else:
            fields[name] = data.decode("utf-8")
    return fields, files


class _HTMLChecker(HTMLParser):
    """Rejects what Telegram's HTML entity parser rejects: unknown or unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in _HTML_TAGS:
            raise _bad(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            raise _bad(f'can\'t parse entities: Unmatched end tag "{tag}"')
        self.stack.pop()

    @classmethod
    def visible_text(cls, text: str) -> str:
        checker = cls()
        checker.feed(text)
        checker.close()
        if checker.stack:
            raise _bad(f"can't parse entities: Can't find end tag corresponding to start tag "
                       f'"{checker.stack[-1]}"')
        return html.unescape(re.sub(r"<[^>]*>", "", text))


def _check_markup(markup: Any) -> None:
    """Telegram keeps 1-64 bytes of callback data per button."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for button in (button for row in rows or [] for button in row):
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")


def _check_text(text: Any, parse_mode: str | None, limit: int, what: str) -> None:
    if what == "text" and (not isinstance(text, str) or not text.strip()):
        raise _bad("message text is empty")
    visible = _HTMLChecker.visible_text(text) if str(parse_mode).upper() == "HTML" else text
    if len(visible.encode("utf-16-le")) // 2 > limit:  # Telegram counts UTF-16 code units
        raise _bad("message is too long" if what == "text" else "message caption is too long")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API; httpx pools connections
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    timeout = 60

    def do_POST(self) -> None:
        # PTB reads uploads into memory first, so bodies always carry a Content-Length.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        emulator = self.server.emulator
        stall = emulator._stalling(url.path.rpartition("/")[2])
        if stall is not None:
            if stall:  # applied (the patient has it), the answer lost on the way back
                emulator._handle_http(url.path, url.query, self.headers.get("Content-Type", ""), body)
            emulator._hang()
            status, payload, delay = 502, ApiError(502, "Bad Gateway").payload(), 0.0
        else:
            status, payload, delay = emulator._handle_http(url.path, url.query, self.headers.get("Content-Type", ""), body)
        data = json.dumps(payload).encode()
        if delay:
            time.sleep(delay)  # outside the lock: only this connection hangs
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # client gave up (e.g. PTB cancelled a long poll on shutdown)
            self.close_connection = True

    do_GET = do_POST  # the real API accepts GET with a query string too

    def log_message(self, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, emulator: "BotAPIEmulator"):
        self.emulator = emulator
        self.connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    # Track keep-alive sockets so stop() can cut them instead of leaving threads parked.
    def get_request(self):
        sock, addr = super().get_request()
        self.connections.add(sock)
        return sock, addr

    def shutdown_request(self, request):
        self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # connection resets on teardown are expected noise


class BotAPIEmulator:
    def __init__(self, token: str = "123456:TEST-TOKEN", *,
                 rate_limit_per_second: int | None = None, private_chat_per_second: int | None = None,
                 group_per_minute: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.token = token
        self.clock = clock  # when each call arrived (its record's "t"), which the limits count by
        # None: no such limit (the default). Otherwise what is accepted within the window.
        self.rate_limit_per_second = rate_limit_per_second
        self.private_chat_per_second = private_chat_per_second
        self.group_per_minute = group_per_minute
        self._accepted: dict[Any, deque[float]] = {}  # "overall", "paid" or a chat id -> accepted calls' times
        self.rate_limited = 0  # 429s answered because of a limit above
        self.rate_limited_by: dict[str, int] = {}
        self.base_url = ""
        self.bot_user = {
            "id": int(token.split(":")[0]), "is_bot": True, "first_name": "PainCoach Test",
            "username": "paincoach_test_bot", "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
            "can_connect_to_business": False, "has_main_web_app": False,
        }
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._updates: list[dict] = []
        self._next_update_id = 100_001
        self._callback_ids = itertools.count(7_000_001)
        self._known_queries: set[str] = set()
        self._calls: list[dict] = []
        self._failures: dict[str, list[ApiError]] = {}
        self._stalls: dict[str, list[bool]] = {}  # method -> its next calls that hang: applied first? (stall_next)
        self.stalled = 0  # calls hanging now or before
        self._released = threading.Event()
        self._chats: dict[int, dict] = {}  # chat_id -> Chat object
        self._next_msg_id: dict[int, int] = {}  # one counter per chat, shared by both sides
        self._bot_msgs: dict[int, list[dict]] = {}
        self._last_user_msg: dict[int, int] = {}
        self._users: dict[int, dict] = {}
        self._commands: dict[str, list] = {}
        self._allowed_updates: list[str] = []
        self.webhook_url = ""
        self.webhook = WebhookPusher(self)
        self.blocked: set[int] = set()  # chat ids whose sends fail with 403
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    # ---- lifecycle ----------------------------------------------------------------
    def start(self) -> "BotAPIEmulator":
        self._stopping = False
        self._server = _Server(self)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/bot"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="botapi-emulator")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()  # release parked long polls
        self._server.shutdown()
        for sock in list(self._server.connections):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "BotAPIEmulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- HTTP → method dispatch -------------------------------------------------------
    def _handle_http(self, path: str, query: str, content_type: str, body: bytes):
        token, _, method = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or not method:
            return 404, ApiError(404, "Not Found").payload(), 0.0
        if token != self.token:
            return 401, ApiError(401, "Unauthorized").payload(), 0.0
        params = {k: _coerce(k, v) for k, v in parse_qsl(query, keep_blank_values=True)}
        files: dict[str, tuple[str, bytes, str]] = {}
        ctype = content_type.split(";")[0].strip().lower()
        try:
            if ctype == "application/json" and body:
                # Values may be native or, as in PTB's RequestData.json_payload, JSON strings.
                params.update({k: _coerce(k, v) if isinstance(v, str) else v
                               for k, v in json.loads(body).items()})
            elif ctype == "multipart/form-data":
                fields, files = _parse_multipart(content_type, body)
                params.update({k: _coerce(k, v) for k, v in fields.items()})
            elif body:
                params.update({k: _coerce(k, v) for k, v in
                               parse_qsl(body.decode("utf-8"), keep_blank_values=True)})
        except ValueError as exc:
            return 400, _bad(f"can't parse request: {exc}").payload(), 0.0
        with self._cond:
            call = {"method": method, "params": params, "t": self.clock(),
                    "chat_id": self._int_or_none(params.get("chat_id")),
                    "files": {k: {"filename": f[0], "size": len(f[1]), "mime_type": f[2]}
                              for k, f in files.items()}}
            self._calls.append(call)
            self._cond.notify_all()
            fault = None
            try:
                _check_markup(params.get("reply_markup"))
                self._check_rate(method, params, call["chat_id"], call["t"])
                fault = (self._failures.get(method.lower()) or [None]).pop(0)
                if fault is not None:
                    call["injected"] = True
                if fault is not None and fault.error is not None and not fault.applied:
                    raise fault.error
                if call["chat_id"] in self.blocked and method.lower().startswith("send"):
                    raise ApiError(403, _DEFAULT_DESCRIPTIONS[403])
                handler = getattr(self, "_api_" + method.lower(), None)
                result = handler(params, files) if handler else True
                if fault is not None:
                    call["applied"] = True
                    if fault.error is not None:  # it happened, and yet the answer is an error
                        raise fault.error
            except ApiError as exc:
                call["error"] = exc.status
                return exc.status, exc.payload(), 0.0
            # Serialise under the lock: the result may reference live stored messages.
            return 200, {"ok": True, "result": copy.deepcopy(result)}, fault.delay if fault else 0.0

    def _check_rate(self, method: str, params: dict, chat_id: int | None, now: float) -> None:
        """A 429 if this call would be one too many in a limit's window (lock held)."""
        method = method.lower()
        sends = method.startswith("send") and method != "sendchataction"
        limits = []  # (window key, name, limit, seconds)
        if sends and params.get("allow_paid_broadcast") is True and self.rate_limit_per_second is not None:
            limits.append(("paid", "overall", PAID_BROADCAST_PER_SECOND, 1.0))
        elif sends:
            limits.append(("overall", "overall", self.rate_limit_per_second, 1.0))
        if (sends or method.startswith("edit")) and chat_id is not None:
            private = chat_id > 0
            limits.append((chat_id, "chat" if private else "group",
                           self.private_chat_per_second if private else self.group_per_minute,
                           1.0 if private else 60.0))
        limits = [(key, name, limit, seconds) for key, name, limit, seconds in limits if limit is not None]
        for key, name, limit, seconds in limits:
            window = self._accepted.setdefault(key, deque())
            while window and window[0] <= now - seconds:
                window.popleft()
            if len(window) >= limit:
                self.rate_limited += 1
                self.rate_limited_by[name] = self.rate_limited_by.get(name, 0) + 1
                retry_after = max(1, math.ceil(window[0] + seconds - now))  # whole seconds, as Telegram
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for key, *_ in limits:
            self._accepted[key].append(now)

    @staticmethod
    def _int_or_none(value: Any) -> int | None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    # ---- Bot API methods (called with the lock held) ----------------------------------
    def _api_getme(self, p, f):
        return self.bot_user

    def _api_getupdates(self, p, f):
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                "active; use deleteWebhook to delete the webhook first")
        offset, limit = int(p.get("offset") or 0), min(max(int(p.get("limit") or 100), 1), 100)
        if p.get("allowed_updates") is not None:  # Telegram remembers the last non-None value
            self._allowed_updates = list(p["allowed_updates"])
        if offset > 0:  # everything below offset is confirmed and forgotten
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        while True:
            ready = [u for u in self._updates if self._wanted(u)][:limit]
            remaining = deadline - time.monotonic()
            if ready or self._stopping or remaining <= 0:
                return ready
            self._nap(remaining)

    def _wanted(self, update: dict) -> bool:
        return not self._allowed_updates or any(k in self._allowed_updates for k in update)

    def _api_setwebhook(self, p, f):
        self.webhook_url = p.get("url") or ""
        if p.get("drop_pending_updates"):
            self._updates.clear()
        if p.get("allowed_updates") is not None:  # as with getUpdates, Telegram keeps the last list given
            self._allowed_updates = list(p["allowed_updates"])
        self.webhook.configure(self.webhook_url, p.get("secret_token"), p.get("max_connections"))
        return True

    def _api_deletewebhook(self, p, f):
        return self._api_setwebhook({"drop_pending_updates": p.get("drop_pending_updates")}, f)

    def _api_getwebhookinfo(self, p, f):
        info = {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}
        if self.webhook_url and (error := self.webhook.last_error()) is not None:
            info["last_error_date"] = int(time.time())
            info["last_error_message"] = (f"Wrong response from the webhook: {error['status']}"
                                          if error["status"] else "Connection refused")
        return info

    def _api_sendmessage(self, p, f):
        _check_text(p.get("text"), p.get("parse_mode"), 4096, "text")
        return self._new_bot_message(p, "text", {"text": p["text"]})

    def _api_senddocument(self, p, f):
        return self._send_file(p, f, "document")

    def _api_sendphoto(self, p, f):
        return self._send_file(p, f, "photo")

    def _send_file(self, p, files, kind):
        if kind in files:
            filename, data, mime = files[kind]
            size: int | None = len(data)
        elif isinstance(p.get(kind), str):  # re-sending by file_id or URL
            filename, size, mime = None, None, None
        else:
            raise _bad(f"there is no {kind} in the request")
        if p.get("caption") is not None:
            _check_text(p["caption"], p.get("parse_mode"), 1024, "caption")
        msg_fields = {"caption": p["caption"]} if p.get("caption") is not None else {}
        msg_fields[kind] = _media(kind, file_name=filename, mime_type=mime, file_size=size)
        return self._new_bot_message(p, kind, msg_fields, filename=filename, file_size=size,
                                     caption=p.get("caption"), text=p.get("caption"))

    def _api_editmessagetext(self, p, f):
        rec = self._find_for_edit(p)
        if rec["kind"] != "text":
            raise _bad("there is no text in the message to edit")
        _check_text(p.get("text"), p.get("parse_mode"), 4096, "text")
        # Telegram drops an inline keyboard that is not re-sent with the new text.
        return self._apply_edit(rec, text=p["text"], reply_markup=p.get("reply_markup"),
                                parse_mode=p.get("parse_mode"))

    def _api_editmessagecaption(self, p, f):
        rec = self._find_for_edit(p)
        if rec["kind"] == "text":
            raise _bad("there is no caption in the message to edit")
        return self._apply_edit(rec, caption=p.get("caption"), text=p.get("caption"),
                                reply_markup=p.get("reply_markup"))

    def _api_editmessagereplymarkup(self, p, f):
        return self._apply_edit(self._find_for_edit(p), reply_markup=p.get("reply_markup"))

    def _api_deletemessage(self, p, f):
        rec = self._find(p)
        if rec is None:
            raise _bad("message to delete not found")
        rec["deleted"] = True
        return True

    def _api_answercallbackquery(self, p, f):
        if str(p.get("callback_query_id")) not in self._known_queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        return True

    def _api_setmycommands(self, p, f):
        self._commands[self._commands_key(p)] = list(p.get("commands") or [])
        return True

    def _api_deletemycommands(self, p, f):
        self._commands.pop(self._commands_key(p), None)
        return True

    def _api_getmycommands(self, p, f):
        # Deliberately not `true`: PTB parses this result as a list of BotCommand.
        return self._commands.get(self._commands_key(p), [])

    @staticmethod
    def _commands_key(p) -> str:
        return json.dumps([p.get("scope") or {"type": "default"}, p.get("language_code") or ""],
                          sort_keys=True)

    # ---- bot message store ------------------------------------------------------------
    def _chat(self, chat_id: int, chat_type: str | None = None, first_name: str = "Pat") -> dict:
        if chat_id not in self._chats:
            chat_type = chat_type or ("private" if chat_id > 0 else "group")
            self._chats[chat_id] = ({"id": chat_id, "type": "private", "first_name": first_name}
                                    if chat_type == "private" else
                                    {"id": chat_id, "type": chat_type, "title": "Test group"})
        return self._chats[chat_id]

    def _new_message_id(self, chat_id: int) -> int:
        self._next_msg_id[chat_id] = self._next_msg_id.get(chat_id, 0) + 1
        return self._next_msg_id[chat_id]

    def _new_bot_message(self, p: dict, kind: str, fields: dict, **record) -> dict:
        chat_id = self._int_or_none(p.get("chat_id"))
        if chat_id is None:
            raise _bad("chat not found")
        markup = p.get("reply_markup")
        msg = {"message_id": self._new_message_id(chat_id), "from": self.bot_user,
               "chat": self._chat(chat_id), "date": int(time.time()), **fields}
        # Message.reply_markup may only be an *inline* keyboard; reply keyboards are not echoed.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        self._bot_msgs.setdefault(chat_id, []).append({
            "message_id": msg["message_id"], "text": fields.get("text"), "reply_markup": markup,
            "date": msg["date"], "edits": 0, "kind": kind, "parse_mode": p.get("parse_mode"),
            "deleted": False, "message": msg, **record})
        self._cond.notify_all()
        return msg

    def _find(self, p: dict) -> dict | None:
        chat_id = self._int_or_none(p.get("chat_id"))
        msg_id = self._int_or_none(p.get("message_id"))
        return next((r for r in self._bot_msgs.get(chat_id, [])
                     if r["message_id"] == msg_id and not r["deleted"]), None)

    def _find_for_edit(self, p: dict) -> dict:
        if p.get("inline_message_id"):
            raise _bad("inline messages are not emulated")
        rec = self._find(p)
        if rec is None:
            raise _bad("message to edit not found")
        return rec

    def _apply_edit(self, rec: dict, **changes) -> dict:
        if all(rec.get(k) == v for k, v in changes.items() if k != "parse_mode"):
            raise ApiError(400, _NOT_MODIFIED)
        rec.update(changes)
        rec["edits"] += 1
        msg = rec["message"]
        for key in ("text", "caption"):
            if changes.get(key) is not None:
                msg[key] = changes[key]
            elif key in changes:
                msg.pop(key, None)
        markup = rec["reply_markup"]
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        msg["edit_date"] = int(time.time())
        self._cond.notify_all()
        return msg

    # ---- test side: incoming updates --------------------------------------------------
    def push_raw(self, update: dict) -> int:
        update = json.loads(json.dumps(update))  # detach from the caller; proves it's JSON
        with self._cond:
            update.setdefault("update_id", self._next_update_id)
            self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
            if "callback_query" in update:
                self._known_queries.add(str(update["callback_query"].get("id")))
            self._updates.append(update)
            self._cond.notify_all()
            return update["update_id"]

    def _user(self, user_id: int, first_name: str = "Pat", language_code: str = "en") -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": first_name,
                "language_code": language_code}
        self._users[user_id] = user
        return user

    def _user_message(self, user_id: int, fields: dict, *, chat_id=None, chat_type="private",
                      language_code="en", first_name="Pat", edited=False) -> int:
        with self._cond:
            cid = user_id if chat_id is None else chat_id
            if chat_type == "private" and cid != user_id:
                raise ValueError("a private chat's id must equal the user id")
            msg_id = (self._last_user_msg.get(cid) if edited else None) or self._new_message_id(cid)
            self._last_user_msg[cid] = msg_id
            msg = {"message_id": msg_id, "from": self._user(user_id, first_name, language_code),
                   "chat": self._chat(cid, chat_type, first_name), "date": int(time.time()),
                   **fields}
            if edited:
                msg["edit_date"] = msg["date"]
            return self.push_raw({"edited_message" if edited else "message": msg})

    def send_text(self, user_id: int, text: str, *, caption_kind: str | None = None,
                  **kw) -> int:
        field = "caption" if caption_kind else "text"
        fields: dict[str, Any] = {field: text}
        # Telegram itself tags a leading /command; PTB's CommandHandler relies on that entity.
        if m := _COMMAND_RE.match(text):
            fields[f"{field}_entities" if caption_kind else "entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(m.group(0))}]
        if caption_kind:
            fields[caption_kind] = _media(caption_kind)
        return self._user_message(user_id, fields, **kw)

    def send_command(self, user_id: int, command: str, **kw) -> int:
        return self.send_text(user_id, command if command.startswith("/") else "/" + command,
                              **kw)

    def send_media(self, user_id: int, kind: str, *, caption: str | None = None, **kw) -> int:
        fields = {kind: _media(kind)}
        if caption is not None:
            fields["caption"] = caption
        return self._user_message(user_id, fields, **kw)

    def send_sticker(self, user_id: int, **kw) -> int:
        return self.send_media(user_id, "sticker", **kw)

    def press(self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None,
              check: bool = True, old: bool = False) -> int:
        """Press an inline button; with check=True the button must exist on that message. With
        `old`, as on a message Telegram no longer shows the bot (days old): the query carries an
        inaccessible message, its chat, id and date 0, without text or buttons."""
        with self._cond:
            cid = user_id if chat_id is None else chat_id
            rec = self._find({"chat_id": cid, "message_id": message_id})
            if rec is None:
                raise AssertionError(f"bot message {message_id} not found in chat {cid}")
            if check and data not in [d for _, d in self.buttons(rec)]:
                raise AssertionError(f"no button with data {data!r}; have {self.buttons(rec)}")
            user = self._users.get(user_id) or self._user(user_id)
            message = copy.deepcopy(rec["message"])
            if old:
                message = {"chat": message["chat"], "message_id": message["message_id"], "date": 0}
            query = {"id": str(next(self._callback_ids)), "from": user,
                     "message": message,
                     "chat_instance": str(abs(cid) * 7919 + 17), "data": data}
            return self.push_raw({"callback_query": query})

    # ---- test side: inspection ----------------------------------------------------------
    @property
    def calls(self) -> list[dict]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[dict]:
        return [c for c in self.calls if c["method"].lower() == method.lower()]

    def messages(self, chat_id: int) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(r) for r in self._bot_msgs.get(chat_id, []) if not r["deleted"]]

    def last_message(self, chat_id: int) -> dict | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    @staticmethod
    def buttons(message: dict) -> list[tuple[str, str]]:
        markup = message.get("reply_markup") or {}
        return [(b.get("text"), b.get("callback_data")) for row in
                markup.get("inline_keyboard", []) for b in row]

    @property
    def webhook_deliveries(self) -> list[dict]:
        """Every webhook delivery attempt: update_id, status (None: no HTTP answer), error, t."""
        with self._lock:
            return list(self.webhook.deliveries)

    def acknowledged_updates(self) -> set[int]:
        """Update ids the webhook answered 2xx: Telegram forgot them, the bot owns them."""
        return {d["update_id"] for d in self.webhook_deliveries if d["status"] and 200 <= d["status"] < 300}

    def pending_updates(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._updates)

    def stall_next(self, method: str, times: int = 1, *, applied: bool = False) -> None:
        """The next `times` calls of `method` hang, unanswered, until `release_stalled()`; then
        they are answered 502 (as a gateway would). Not applied, or with `applied` applied first
        (Telegram delivered it; its answer never came back). For killing the bot while a call of
        its is in flight."""
        with self._lock:
            self._stalls.setdefault(method.lower(), []).extend([applied] * times)

    def release_stalled(self) -> None:
        self._released.set()

    def _stalling(self, method: str) -> bool | None:
        """None: not stalled; else whether the call is applied before it hangs."""
        with self._lock:
            if not self._stalls.get(method.lower()):
                return None
            self.stalled += 1
            return self._stalls[method.lower()].pop(0)

    def _hang(self) -> None:
        waited = 0.0
        while not self._released.is_set() and waited < 120:  # short sleeps: a timed wait never wakes under faketime
            time.sleep(0.05)
            waited += 0.05

    def fail_next(self, method: str, *, status: int | None = None, retry_after: int | None = None,
                  description: str | None = None, times: int = 1, applied: bool = False,
                  delay: float = 0.0) -> None:
        """The next `times` calls of `method` fail: with an error `status` (after taking effect
        if `applied`), or, with `delay`, by answering that many seconds late."""
        if status is None and not delay:
            raise ValueError("give a status, a delay, or both")
        error = None
        if status is not None:
            if status == 429:
                retry_after = 1 if retry_after is None else retry_after
                description = description or f"Too Many Requests: retry after {retry_after}"
            description = description or _DEFAULT_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase
            error = ApiError(status, description, retry_after)
        with self._lock:
            self._failures.setdefault(method.lower(), []).extend(
                _Fault(error, applied or error is None, delay) for _ in range(times))

    # ---- test side: waiting -------------------------------------------------------------
    def _timeout_report(self, timeout: float) -> str:
        recent = [c for c in self.calls if c["method"] != "getUpdates"][-15:]
        lines = [f"condition not met within {timeout}s; last {len(recent)} non-polling calls:"]
        for c in recent:
            err = f" -> HTTP {c['error']}" if "error" in c else ""
            params = json.dumps(c["params"], ensure_ascii=False)[:200]
            lines.append(f"  {c['method']}{err} {params}")
        lines.append(f"  pending (unconfirmed) updates: {len(self._updates)}")
        return "\n".join(lines)

    def _nap(self, seconds: float) -> None:
        """Let go of the lock a moment, holding it again after. (Not a timed Condition.wait: under
        faketime, which CI's PostgreSQL half runs in, its deadline is taken on the faked monotonic
        clock and it never times out; time.sleep does.)"""
        depth = 0
        while self._lock._is_owned():  # an RLock may be held more than once
            self._lock.release()
            depth += 1
        try:
            time.sleep(min(seconds, 0.02))
        finally:
            for _ in range(depth):
                self._lock.acquire()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(timeout))
                self._nap(remaining)

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_report(timeout))
            await asyncio.sleep(0.02)

    def _message_after(self, chat_id: int, after: int) -> dict | None:
        return next((m for m in self.messages(chat_id) if m["message_id"] > after), None)

    def wait_for_message(self, chat_id: int, *, after: int = 0, timeout: float = 10.0) -> dict:
        self.wait_for(lambda: self._message_after(chat_id, after) is not None, timeout)
        return self._message_after(chat_id, after)

    async def next_message(self, chat_id: int, *, after: int = 0, timeout: float = 10.0) -> dict:
        await self.until(lambda: self._message_after(chat_id, after) is not None, timeout)
        return self._message_after(chat_id, after)


def _media(kind: str, *, file_name=None, mime_type=None, file_size=None) -> Any:
    """Minimal but complete media objects (PTB requires every non-optional field)."""
    uid = f"{kind[:3].upper()}{next(_file_ids)}"
    base = {"file_id": f"emu-{kind}-{uid}", "file_unique_id": uid}
    size = {"file_size": file_size or 1024}
    if kind == "photo":
        return [{**base, "file_id": base["file_id"] + "-s", "file_unique_id": uid + "s",
                 "width": 90, "height": 67, **size},
                {**base, "width": 1280, "height": 960, **size}]
    if kind == "sticker":
        return {**base, "type": "regular", "width": 512, "height": 512, "is_animated": False,
                "is_video": False, "emoji": "\N{THUMBS UP SIGN}", **size}
    if kind == "voice":
        return {**base, "duration": 3, "mime_type": "audio/ogg", **size}
    if kind == "document":
        return {**base, "file_name": file_name or "file.bin",
                "mime_type": mime_type or "application/octet-stream", **size}
    raise ValueError(f"unsupported media kind {kind!r}")


_file_ids = itertools.count(1)
