"""Helpers for the background-work tests: real Redis (db 15), real SMTP sink, real RQ workers."""

from __future__ import annotations

import itertools
import os
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from tests.conftest import SmtpSink, ship_all
from uniqu3.extensions import db, rq
from uniqu3.models import Order, OrderEvent, OutboxEmail, Seller, Shipment
from uniqu3.workflow import Actor, Workflow

_tracking = itertools.count(10_000_000_001)


@pytest.fixture
def rq_config(redis_url: str) -> dict[str, Any]:
    """Settings that put the app's jobs on the test Redis, really queued (not run at enqueue)."""
    return {"REDIS_URL": redis_url, "RQ_CONNECTION": redis_url, "RQ_ASYNC": True}


@pytest.fixture
def queue(ctx: Flask) -> Queue:
    return rq.queue


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker (jobs run in this process and app context, no fork) without the
    listener for remote commands (kill, stop): its thread costs a second at every stop."""

    def subscribe(self) -> None:
        self.pubsub_thread = None

    def unsubscribe(self) -> None:
        return None


def run_worker(*, with_scheduler: bool = False) -> bool:
    """Work the app's queue until it is empty, as `flask rq worker --burst
    [--with-scheduler]` would (the real CLI runs in test_cli_worker.py)."""
    queue = rq.queue
    worker = BurstWorker([queue], connection=queue.connection, job_class=queue.job_class)
    return worker.work(burst=True, with_scheduler=with_scheduler, logging_level="WARNING")


def pay_and_ship(wf: Workflow, order: Order, seller: Seller) -> Shipment:
    """Pay and ship the whole order in one parcel, a tracking number of its own; returns the parcel."""
    actor = Actor.seller(seller.email)
    wf.confirm_payment(order.id, actor=actor)
    order = db.session.get(Order, order.id)
    assert order is not None
    return ship_all(wf, order, actor=actor, tracking_number=f"6A{next(_tracking):011d}")


@pytest.fixture
def shipped(wf: Workflow, make_order: Callable[..., Order], seller: Seller) -> Callable[[], Shipment]:
    """A factory: a new order, paid and shipped in one parcel."""

    def make() -> Shipment:
        return pay_and_ship(wf, make_order(), seller)

    return make


@pytest.fixture
def awaiting(wf: Workflow, shipped: Callable[[], Shipment], seller: Seller,
             smtp_server: SmtpSink) -> Callable[[], int]:
    """A factory: a parcel whose receipt confirmation was just activated, every e-mail so far
    delivered (the SMTP sink is emptied), only its scheduled jobs left."""

    def make() -> int:
        shipment_id = shipped().id
        wf.request_receipt(shipment_id, actor=Actor.seller(seller.email))
        run_worker()
        smtp_server.messages.clear()
        return shipment_id

    return make


def move_into_the_past(queue: Queue, job_id: str) -> None:
    """The scheduled time has come (for Redis): score the job one second ago."""
    registry = ScheduledJobRegistry(queue=queue)
    registry.schedule(queue.fetch_job(job_id), datetime.now(UTC) - timedelta(seconds=1))


def parcel(shipment_id: int) -> Shipment:
    """The parcel as the database has it now."""
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment_id)
    assert shipment is not None
    return shipment


def recipients(smtp: SmtpSink) -> list[str]:
    """Every address the SMTP server delivered to, one entry per message and address, sorted."""
    found: list[str] = []
    for message in smtp.parsed():
        found += [address.lower() for _, address in getaddresses(message.get_all("To", []))]
    return sorted(found)


def outbox(kind: str | None = None, **where: Any) -> list[OutboxEmail]:
    db.session.expire_all()
    query = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind is not None:
        query = query.where(OutboxEmail.kind == kind)
    for name, value in where.items():
        query = query.where(getattr(OutboxEmail, name) == value)
    return list(db.session.scalars(query))


def event_count(kind: str, order_id: int | None = None) -> int:
    query = select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == kind)
    if order_id is not None:
        query = query.where(OrderEvent.order_id == order_id)
    return db.session.scalar(query) or 0


@pytest.fixture
def unused_port() -> int:
    """A local TCP port nothing listens on: connections to it are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def cli_env(**settings: str) -> dict[str, str]:
    """The environment of a production-like process started by the tests: this worktree's
    code, the given settings, nothing inherited that could change the configuration."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT", "UNIQU3_ENV",
                          "FLASK_APP", "TEST_DATABASE_URL", "AUTO_RECEIPT_DAYS"}}
    env.update({"UNIQU3_ENV": "development", "PYTHONPATH": str(ROOT), **settings})
    return env
