"""Shared fixtures: an app on SQLite (default) or PostgreSQL (TEST_DATABASE_URL), a clock
the tests can move, sellers and orders made through the workflow itself.

A service the machine lacks (PostgreSQL, Redis, Chromium) skips its tests with the
reason, except under CI=true, where it is a failure.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from uniqu3 import create_app
from uniqu3.config import driver_url
from uniqu3.extensions import db
from uniqu3.models import Order, Seller, Shipment
from uniqu3.passwords import hash_password
from uniqu3.workflow import Actor, Address, LineInput, OrderInput, Workflow

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_DATABASES = 16  # Redis's default number of databases


def redis_url_of_this_worker(url: str, worker: str, workers: int) -> str:
    """Redis tests empty their database, so each pytest-xdist worker needs its own: worker
    gwN of W takes the database N×16/W after TEST_REDIS_URL's, modulo 16 (with two workers,
    gw1 is 8 away: out of the way of the neighbouring databases other runs are given)."""
    if not worker.startswith("gw") or workers < 2:
        return url
    parsed = urlparse(url)
    base = int(parsed.path.strip("/") or 0)
    database = (base + int(worker[2:]) * (REDIS_DATABASES // min(workers, REDIS_DATABASES))) % REDIS_DATABASES
    return parsed._replace(path=f"/{database}").geturl()


TEST_REDIS_URL = redis_url_of_this_worker(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
                                          os.environ.get("PYTEST_XDIST_WORKER", ""),
                                          int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))


def need_service(name: str, available: bool, why: str) -> None:
    """Skip (or fail under CI) when a service the test needs is missing."""
    if available:
        return
    message = f"{name} unavailable: {why}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(message)


def port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port),
                                      timeout=1):
            return True
    except OSError:
        return False


# ----------------------------------------------------------------------------- clock
@dataclass
class Clock:
    """The workflow's clock in tests: starts at a fixed time, moves when told."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 20, 9, 30, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


# ----------------------------------------------------------------------------- database
@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not TEST_DATABASE_URL:
        path: Path = tmp_path_factory.mktemp("db") / "test.sqlite"
        yield f"sqlite:///{path}"
        return
    url = driver_url(TEST_DATABASE_URL)
    need_service("PostgreSQL", port_open(url, 5432), TEST_DATABASE_URL)
    # A schema of its own per run, so that runs side by side never see each other's rows.
    schema = f"uq_test_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def _schema(database_url: str) -> Iterator[None]:
    """Create the schema once per run; each test then starts from empty tables."""
    engine = create_engine(database_url)
    from uniqu3.extensions import Base

    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield


def _empty_tables(app: Flask) -> None:
    from uniqu3.extensions import Base

    with app.app_context():
        db.session.remove()
        engine = db.engine
        tables = list(reversed(Base.metadata.sorted_tables))
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                names = ", ".join(t.name for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
                conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None
        engine.dispose()


def _has_sqlite_sequence(conn: Any) -> bool:
    return bool(conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")
    ).first())


@pytest.fixture
def app_config(database_url: str, clock: Clock) -> dict[str, Any]:
    """Override in a test module to change settings."""
    return {"SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock}


@pytest.fixture
def app(_schema: None, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    yield app
    _empty_tables(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def wf(ctx: Flask, clock: Clock) -> Workflow:
    return Workflow(db.session, auto_receipt_days=ctx.config["AUTO_RECEIPT_DAYS"],
                    reminder_days=ctx.config["RECEIPT_REMINDER_DAYS"], clock=clock)


# ----------------------------------------------------------------------------- data
PASSWORD = "correct horse battery"
_PASSWORD_HASHES: dict[str, str] = {}


def cached_hash(password: str) -> str:
    """Argon2 is slow on purpose; tests hash each password once."""
    if password not in _PASSWORD_HASHES:
        _PASSWORD_HASHES[password] = hash_password(password)
    return _PASSWORD_HASHES[password]


@pytest.fixture
def make_seller(ctx: Flask) -> Callable[..., Seller]:
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, **fields: Any) -> Seller:
        n = next(counter)
        seller = Seller(
            email=email or f"vendeur{n}@example.fr",
            shop_name=fields.pop("shop_name", f"Atelier {n}"),
            password_hash=cached_hash(fields.pop("password", PASSWORD)),
            payment_instructions=fields.pop(
                "payment_instructions", "Virement : IBAN FR76 3000 6000 0112 3456 7890 189"
            ),
            **fields,
        )
        db.session.add(seller)
        db.session.commit()
        return seller

    return make


@pytest.fixture
def seller(make_seller: Callable[..., Seller]) -> Seller:
    return make_seller("atelier@example.fr", shop_name="L'Atelier de Lina")


ADDRESS = Address(
    name="Camille Martin", line1="12 rue des Lilas", line2="", postal_code="69003",
    city="Lyon", country="FR",
)


def order_input(seller_email: str, external_id: str = "MKT-1001", **overrides: Any) -> OrderInput:
    fields: dict[str, Any] = {
        "external_id": external_id,
        "seller_email": seller_email,
        "buyer_name": "Camille Martin",
        "buyer_email": "camille@example.fr",
        "billing_address": ADDRESS,
        "shipping_address": ADDRESS,
        "currency": "EUR",
        "lines": (
            LineInput(sku="BAG-RED-01", title="Sac cabas rouge", quantity=2, unit_price_cents=3490),
            LineInput(sku="CARD-01", title="Carte brodée", quantity=1, unit_price_cents=550),
        ),
    }
    fields.update(overrides)
    return OrderInput(**fields)


@pytest.fixture
def make_order(wf: Workflow, seller: Seller) -> Callable[..., Any]:
    counter = iter(range(1001, 100_000))

    def make(owner: Seller | None = None, **overrides: Any) -> Any:
        owner = owner or seller
        data = order_input(owner.email, overrides.pop("external_id", f"MKT-{next(counter)}"),
                           **overrides)
        return wf.place_order(data, actor=Actor.api("storefront")).order

    return make


def ship_all(wf: Workflow, order: Order, *, actor: Actor | None = None, **kwargs: Any) -> Shipment:
    """Everything left to ship of a paid order in one parcel, by its seller (`actor`; the
    `seller` fixture's by default); by Colissimo with a valid tracking number unless `kwargs`
    say otherwise (any of `Workflow.ship`'s)."""
    quantities = {line.id: line.remaining for line in order.lines if line.remaining}
    kwargs.setdefault("carrier", "colissimo")
    kwargs.setdefault("tracking_number", "6A12345678901")
    result = wf.ship(order.id, actor=actor or Actor.seller("atelier@example.fr"), quantities=quantities,
                     **kwargs)
    assert result.shipment is not None
    return result.shipment


# ----------------------------------------------------------------------------- services
@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""

    host: str
    port: int
    messages: list[Any]
    controller: Any

    def parsed(self) -> list[Any]:
        import email
        from email import policy

        return [email.message_from_bytes(m, policy=policy.default) for m in self.messages]


@contextmanager
def smtp_sink(stall: Callable[[], object] | None = None) -> Iterator[SmtpSink]:
    """A running SmtpSink. `stall`, when given, runs (in a thread) as each message has come in,
    before it is kept and answered: a relay that stalls until `stall` returns."""
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            if stall is not None:
                await asyncio.get_running_loop().run_in_executor(None, stall)
            received.append(envelope.original_content or envelope.content)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSink("127.0.0.1", port, received, controller)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def smtp_config(smtp_server: SmtpSink) -> dict[str, Any]:
    """Settings that send the app's e-mails to `smtp_server` (merge into app_config)."""
    return {"MAIL_SERVER": smtp_server.host, "MAIL_PORT": smtp_server.port,
            "MAIL_TO_DEV_MAILBOX": False}


@pytest.fixture
def redis_url() -> str:
    """A real Redis (TEST_REDIS_URL's database, or this xdist worker's: emptied before the test)."""
    need_service("Redis", port_open(TEST_REDIS_URL, 6379), TEST_REDIS_URL)
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    return TEST_REDIS_URL


# ----------------------------------------------------------------------------- pytest-xdist
# The reliability figures of every worker, added up and written once by the controller.
_WORKER_FIGURES: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    from tests.reliability.figures import WORKER_OUTPUT_KEY

    figures = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if figures:
        _WORKER_FIGURES.append(figures)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _WORKER_FIGURES:
        return
    import json

    from tests.reliability.figures import Figures

    merged = Figures()
    for figures in _WORKER_FIGURES:
        merged.merge(json.loads(figures))
    merged.write()


def wait_for_background(app: Flask) -> None:
    """Wait until the web process's background deliverer has sent what a request handed it."""
    from jobs.background import deliverer

    work = deliverer(app)
    for _ in range(400):
        if work.idle():
            return
        time.sleep(0.01)
    raise AssertionError("background work still running")
