"""E-mail tests: a scriptable real SMTP server, and helpers to read what it received."""

from __future__ import annotations

import asyncio
import email
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.buyer.conftest import _anonymous_visitors  # noqa: F401  (pages are rendered here too)
from uniqu3.workflow.signals import emails_queued


@pytest.fixture(autouse=True)
def _no_worker() -> Iterator[None]:
    """These tests play the worker: they call deliver() themselves. Whatever listens to the
    workflow's `emails_queued` (the jobs' inline or queued delivery) is silent meanwhile."""
    with emails_queued.muted():
        yield


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class ScriptedHandler:
    """Accepts everything, unless told otherwise: an answer for a recipient, for every DATA
    (`data_reply`), or for the next DATA commands in turn (`data_script`: a reply, or a
    number of seconds to stay silent before accepting)."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    data_script: list[str | float] = field(default_factory=list)
    # Called (in the server's thread) when a message has arrived, before it is answered.
    on_data: Callable[[], None] | None = None
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        self.connections += 1
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.on_data is not None:
            self.on_data()
        if self.data_script:
            step = self.data_script.pop(0)
            if isinstance(step, str):
                return step
            await asyncio.sleep(step)
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content or envelope.content))
        return "250 OK"


@dataclass
class ScriptedSmtp:
    host: str
    port: int
    handler: ScriptedHandler
    controller: Controller | None = None

    def start(self) -> None:
        # aiosmtpd controllers cannot be restarted: a new one on the same port.
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.handler.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scripted_server() -> Iterator[ScriptedSmtp]:
    """A real SMTP server on a free local port, answering as its handler is told to."""
    server = ScriptedSmtp("127.0.0.1", free_port(), ScriptedHandler())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scripted_smtp() -> Iterator[ScriptedSmtp]:
    with scripted_server() as server:
        yield server


@pytest.fixture
def hanging_server() -> Iterator[tuple[str, int]]:
    """Accepts TCP connections (the kernel does) and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield "127.0.0.1", int(sock.getsockname()[1])
    finally:
        sock.close()


# ----------------------------------------------------------------------------- reading e-mails
def plain(text: str) -> str:
    """Non-breaking spaces (as in '34,90 €') as ordinary ones, to compare with typed text."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return plain(part.get_content())


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    return plain(part.get_content())


_TAGS = re.compile(r"<[^>]+>")


def html_words(html: str) -> str:
    """The HTML part's visible text, roughly (tags out, entities decoded, spaces collapsed)."""
    import html as html_module

    body = html.split("<body", 1)[-1]
    return " ".join(plain(html_module.unescape(_TAGS.sub(" ", body))).split())


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", text)
