"""A round-robin HTTP load balancer on loopback, as a reverse proxy in front of several webhook
processes: each POST goes to the next backend; one that refuses the connection or answers 503
(draining) is passed over for the next. No sticky routing. `forwarded` counts what each took."""
from __future__ import annotations

import itertools
import threading
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Balancer:
    def __init__(self, backends: list[str]):
        self.backends = backends  # e.g. http://127.0.0.1:8001
        self.forwarded: Counter[str] = Counter()
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "Balancer":
        threading.Thread(target=self._server.serve_forever, daemon=True, name="balancer").start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        with self._lock:
            first = next(self._turn)
        for attempt in range(len(self.backends)):
            backend = self.backends[(first + attempt) % len(self.backends)]
            request = urllib.request.Request(backend + path, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, answer = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, answer = error.code, error.read()
            except OSError:  # refused or reset: that process is down
                continue
            if status == 503:  # draining: the next one takes it
                continue
            with self._lock:
                self.forwarded[backend] += 1
            return status, answer
        return 502, b""

    def _handler(self):
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
                status, answer = balancer._forward(self.path, body, headers)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args) -> None:
                pass

        return Handler
