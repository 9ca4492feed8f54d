"""Redis down or hung during a seller action: the action succeeds at once, nothing is lost
(the e-mails wait in the outbox, the due time is on the parcel), and the first sweep after
Redis is back does everything."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from rq.cron import CronScheduler

from jobs.connection import with_short_timeouts
from tests.conftest import Clock, SmtpSink, order_input
from tests.jobs.conftest import outbox, pay_and_ship, recipients, run_worker
from uniqu3 import create_app
from uniqu3.extensions import db, rq
from uniqu3.models import OutboxStatus, ReceivedBy, Shipment
from uniqu3.services import workflow
from uniqu3.workflow import Actor, Workflow

pytestmark = pytest.mark.redis


@pytest.fixture
def app_config(app_config: dict[str, Any], unused_port: int,
               smtp_config: dict[str, Any]) -> dict[str, Any]:
    down = f"redis://127.0.0.1:{unused_port}/0"
    return {**app_config, **smtp_config, "REDIS_URL": down, "RQ_CONNECTION": down, "RQ_ASYNC": True}


def test_seller_actions_succeed_and_the_sweep_does_everything_once_redis_is_back(
    app_config: dict[str, Any], wf: Workflow, make_order: Any, seller: Any, clock: Clock,
    redis_url: str, smtp_server: SmtpSink, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="jobs")
    order = make_order()
    shipment_id = pay_and_ship(wf, order, seller).id
    wf.request_receipt(shipment_id, actor=Actor.seller(seller.email))

    assert [(r.kind, r.status) for r in outbox()] == [
        ("E1", "pending"), ("E2", "pending"), ("E3", "pending"), ("E4", "pending"), ("E5", "pending")]
    assert smtp_server.messages == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 6  # 4 deliveries, the automatic receipt and its reminder, each explained
    assert all("sweep" in w for w in warnings)

    # Redis is back (the worker and the cron scheduler restart with it).
    back: Flask = create_app({**app_config, "REDIS_URL": redis_url, "RQ_CONNECTION": redis_url})
    with back.app_context():
        cron = CronScheduler(connection=rq.queue.connection, logging_level="WARNING")
        cron.load_config_from_file("jobs.cron")
        cron.enqueue_jobs()
        run_worker()
        assert recipients(smtp_server) == ["atelier@example.fr"] + ["camille@example.fr"] * 4
        assert all(r.status == OutboxStatus.SENT for r in outbox())

        # No job was scheduled for the parcel: the sweep after the due time receives it.
        clock.advance(days=7, minutes=2)
        cron.load_config_from_file("jobs.cron")
        cron.enqueue_jobs()
        run_worker()
        db.session.expire_all()
        assert db.session.get(Shipment, shipment_id).received_by == ReceivedBy.AUTO
        assert [r.recipient_role for r in outbox("E7")] == ["seller", "buyer"]
        assert len(smtp_server.messages) == 7


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """A server that accepts connections and never answers, like a Redis stuck on disk."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


def test_a_hung_redis_costs_an_action_about_a_second_not_a_hang(
    app_config: dict[str, Any], hung_redis: str, seller: Any, smtp_server: SmtpSink
) -> None:
    hung = create_app({**app_config, "REDIS_URL": hung_redis, "RQ_CONNECTION": hung_redis})
    with hung.app_context():
        started = time.monotonic()
        result = workflow().place_order(order_input(seller.email), actor=Actor.api("shop"))
        elapsed = time.monotonic() - started
        assert result.changed
        assert [r.status for r in outbox()] == ["pending", "pending"]
    assert 0.9 < elapsed < 3


def test_operator_set_redis_timeouts_are_kept() -> None:
    assert with_short_timeouts("redis://h:6379/2") == (
        "redis://h:6379/2?socket_connect_timeout=1.0&socket_timeout=1.0")
    assert with_short_timeouts("rediss://h/0?socket_timeout=5") == (
        "rediss://h/0?socket_timeout=5&socket_connect_timeout=1.0")
    assert with_short_timeouts({"host": "h", "socket_timeout": 5}) == {
        "host": "h", "socket_timeout": 5, "socket_connect_timeout": 1.0}
