"""A real webhook receiver on loopback, for the tests and the benchmark: a threaded HTTP
server that checks each request's signature with the `standardwebhooks` package (as a
marketplace would) and answers what the test tells it (a status, a delay, nothing at all
when stopped)."""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def message_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """`statuses`: the next answers, in turn (then `status`); `delay`: seconds before answering."""

    secret: str | None = None
    status: int = 204
    statuses: deque[int] = field(default_factory=deque)
    delay: float = 0.0
    port: int = 0
    #: Serve HTTPS with this context (its certificate), else plain HTTP.
    tls: ssl.SSLContext | None = None
    requests: list[Request] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        if self.tls is not None:
            return f"https://localhost:{self.port}/hooks"
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        """Listen (again on the same port after `stop`)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.answer(self, headers, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, handler: BaseHTTPRequestHandler, headers: dict[str, str], body: bytes) -> None:
        verified = False
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        with self._lock:
            status = self.statuses.popleft() if self.statuses else self.status
        if not verified:
            status = 401
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.requests.append(Request(handler.path, headers, body, verified, status))
        try:
            handler.send_response(status)
            if 300 <= status < 400:
                handler.send_header("Location", self.url + "/ailleurs")
            body = b"" if status == 204 else b"ok"  # a 204 has no body
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client gave up waiting (a timeout test)
            pass

    # ------------------------------------------------------------------ what came
    def accepted(self) -> list[Request]:
        """The requests answered 2xx (signature verified), in the order they came."""
        with self._lock:
            return [r for r in self.requests if 200 <= r.answered < 300]

    def types(self) -> list[str]:
        return [r.json()["type"] for r in self.accepted()]

    def accepted_ids(self) -> Counter[str]:
        return Counter(r.message_id for r in self.accepted())

    def unverified(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if not r.verified]


@contextlib.contextmanager
def running_receiver(**settings: Any) -> Iterator[Receiver]:
    """A receiver listening for the time of the block (the tests' fixtures)."""
    receiver = Receiver(**settings)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def main() -> None:
    """`python -m tests.webhook_receiver PORT SECRET`: a receiver in a process of its own (the
    benchmark's); on SIGTERM it prints what it got as one JSON line and exits."""
    import signal
    import sys

    receiver = Receiver(secret=sys.argv[2], port=int(sys.argv[1]))
    receiver.start()

    def stop(*_: Any) -> None:
        receiver.stop()
        print(json.dumps({"requests": len(receiver.requests), "accepted": len(receiver.accepted()),
                          "distinct": len(receiver.accepted_ids()),
                          "unverified": len(receiver.unverified())}), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
