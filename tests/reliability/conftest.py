"""The reliability suite's tools: real services it can break (a Redis server of its own, an
SMTP sink that can go down or be slow), production processes (gunicorn, `flask rq worker`),
and the figures every test writes down for RELIABILITY.md.

Sizes are CI-friendly by default; the RELIABILITY_* environment variables make bigger runs
(see RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from tests.conftest import TEST_DATABASE_URL, need_service
from tests.reliability.figures import WORKER_OUTPUT_KEY, Figures
from uniqu3.config import driver_url
from uniqu3.extensions import db

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FLASK = str(BIN / "flask")
GUNICORN = str(BIN / "gunicorn")


def knob(name: str, default: int) -> int:
    """A size the environment may raise for a bigger run (RELIABILITY_<NAME>)."""
    raw = os.environ.get(f"RELIABILITY_{name}", "")
    return int(raw) if raw.strip() else default


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


# ----------------------------------------------------------------------------- figures
@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    found = Figures()
    yield found
    worker_output = getattr(request.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: the controller adds up and writes
        worker_output[WORKER_OUTPUT_KEY] = found.dumps()
    else:
        found.write()


# ----------------------------------------------------------------------------- a clock near now
@dataclass
class NearClock:
    """The real time plus an offset the test moves: rows it writes are due for real
    processes (which use the real clock) once the offset is back to zero or less."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> datetime:
        self.offset += timedelta(**delta)
        return self()


@pytest.fixture
def near_clock() -> NearClock:
    return NearClock()


# ----------------------------------------------------------------------------- Redis of our own
@dataclass
class RedisServer:
    """A `redis-server` this suite starts, kills and restarts on one port (never the machine's)."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_until(lambda: _pings(client), 10, "redis-server to answer")
        client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown save, everything in it is gone (as after a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    need_service("redis-server", shutil.which("redis-server") is not None, "the redis-server program")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


# ----------------------------------------------------------------------------- SMTP that misbehaves
class Sink:
    """A real SMTP server (aiosmtpd) that can be down (port closed), refusing (421 to every
    message) or slow (a delay before answering each DATA), on a port that stays the same."""

    def __init__(self, port: int | None = None, delay: float = 0.0) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.delay = delay
        self.refusing = False
        self.messages: list[bytes] = []
        self.refused = 0
        self._lock = threading.Lock()
        self._controller: Any = None

    # -- control
    def start(self) -> None:
        from aiosmtpd.controller import Controller

        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def config(self) -> dict[str, Any]:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_TO_DEV_MAILBOX": False,
                "MAIL_TIMEOUT": 5}

    @property
    def env(self) -> dict[str, str]:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": str(self.port), "MAIL_TIMEOUT": "5"}

    # -- what arrived
    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def parsed(self) -> list[Any]:
        with self._lock:
            raw = list(self.messages)
        return [email.message_from_bytes(m, policy=policy.default) for m in raw]

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.parsed())


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.refusing:
            self.sink.refused += 1
            return "421 4.3.2 Service not available, try again later"
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        with self.sink._lock:
            self.sink.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------------------- processes
def process_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a production-like process: this worktree's code, the given
    settings, nothing inherited that could change the configuration."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT", "UNIQU3_ENV",
                          "FLASK_APP", "TEST_DATABASE_URL", "AUTO_RECEIPT_DAYS", "SECRET_KEY",
                          "SECRET_KEY_FALLBACKS", "TRUSTED_PROXIES", "BASE_URL"}}
    env.update({"UNIQU3_ENV": "development", "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url,
                "SECRET_KEY": "reliability-secret-key-0123456789abcdef", **settings})
    return env


class Process:
    """A subprocess in its own process group, so that a SIGKILL takes its children too
    (the RQ worker runs each job in a `flask rq work-horse` child)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the process and every descendant, even those in a process group of
        their own (the RQ work-horse): the machine lost power, as far as they know."""
        for pid in [*descendants(self.popen.pid), self.popen.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.popen.wait(20)
        self._out.close()

    def children(self) -> list[int]:
        return descendants(self.popen.pid)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (a deployment's restart) and wait."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            code = self.popen.wait(10)
        self._out.close()
        return code

    def wait(self, timeout: float) -> int:
        code = self.popen.wait(timeout)
        self._out.close()
        return code

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text(errors="replace")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Starts processes; every one still running at the end of the test is killed."""
    started: list[Process] = []
    counter = iter(range(1, 1000))

    def start(args: list[str], env: dict[str, str], name: str = "process") -> Process:
        process = Process(args, env, tmp_path / f"{name}-{next(counter)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        if process.alive():
            process.kill()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc), children first."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    todo = list(parents.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(parents.get(child, []))
    return found


def run_command(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


# ----------------------------------------------------------------------------- databases
@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Empty databases of the backend under test, each its own (SQLite file or PostgreSQL
    schema), dropped at the end. Returns plain URLs, as an operator would set DATABASE_URL."""
    schemas: list[str] = []
    base = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://", 1)

    def make(name: str) -> str:
        if not TEST_DATABASE_URL:
            return f"sqlite:///{tmp_path / (name + '.sqlite')}"
        schema = f"uq_rel_{os.getpid()}_{name}"
        engine = create_engine(driver_url(base))
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        schemas.append(schema)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options=-csearch_path%3D{schema}"

    yield make
    if schemas:
        engine = create_engine(driver_url(base))
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def needs_postgresql(reason: str) -> None:
    if not TEST_DATABASE_URL:
        pytest.skip(f"PostgreSQL only ({reason}); runs in the PostgreSQL pass (TEST_DATABASE_URL)")


def needs_sqlite(reason: str) -> None:
    if TEST_DATABASE_URL:
        pytest.skip(f"SQLite only ({reason}); runs in the SQLite pass")


def engine_url(app: Flask) -> str:
    with app.app_context():
        return db.engine.url.render_as_string(hide_password=False)


# ----------------------------------------------------------------------------- in-process requests
@pytest.fixture(autouse=True)
def _isolated_requests(app: Flask) -> None:
    """Each test-client request in its own app context and database session, as in production."""
    from tests.seller.conftest import IsolatedClient

    app.test_client_class = IsolatedClient


@pytest.fixture
def storefront_key(ctx: Flask) -> str:
    """A marketplace API key (any seller), made as `flask admin create-api-key` makes it."""
    from uniqu3 import apikeys

    _, raw = apikeys.create_key(db.session, name="storefront", now=datetime.now(UTC))
    return raw
