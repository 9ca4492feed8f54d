"""Webhooks when things break: the receiver down, failing or hanging for hours; Redis killed
while actions happen; the worker SIGKILLed in the middle of a batch.

What must hold: every event reaches the receiver (signature verified with `standardwebhooks`),
each order's events in the order they happened, none given up while the outage lasts less than
the retries (about 27 h), and none accepted twice, except at-least-once after a worker killed
while a request was in flight (then with the same `webhook-id`, which receivers drop).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from jobs import tasks
from tests.conftest import PASSWORD, Clock, order_input, wait_for_background
from tests.reliability.actors import ClientWeb, SellerAgent, buyer_confirms, order_body, post_order
from tests.reliability.conftest import (
    FLASK,
    Figures,
    NearClock,
    Process,
    RedisServer,
    engine_url,
    knob,
    process_env,
    wait_until,
)
from tests.reliability.scenario import lines_of, server_errors, shipment_ids
from tests.webhook_receiver import Receiver, running_receiver
from uniqu3.extensions import db
from uniqu3.models import Order, Seller, WebhookDelivery, WebhookDeliveryStatus, WebhookEvent
from uniqu3.sweep import run_sweep
from uniqu3.tokens import receipt_token
from uniqu3.webhooks import delivery
from uniqu3.webhooks.endpoints import create_endpoint
from uniqu3.workflow import Actor, Workflow, signals

pytestmark = pytest.mark.reliability

OUTAGE_HOURS = 10
TIMEOUT = 0.3
BATCH = knob("WEBHOOK_BATCH", 20)  # orders whose order.created go in the killed worker's one job


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def register(receiver: Receiver) -> None:
    endpoint = create_endpoint(db.session(), receiver.url, seller=None, event_types=(), allow_private=True)
    receiver.secret = endpoint.secret


def events() -> dict[str, tuple[int, str, int | None]]:
    """Every event written: webhook-id -> (event id, type, order id)."""
    db.session.rollback()
    return {message_id: (event_id, type_, order_id) for event_id, message_id, type_, order_id in
            db.session.execute(select(WebhookEvent.id, WebhookEvent.message_id, WebhookEvent.type,
                                      WebhookEvent.order_id))}


def deliveries() -> list[WebhookDelivery]:
    db.session.rollback()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def findings_of(receiver: Receiver, written: dict[str, tuple[int, str, int | None]],
                allowed_twice: frozenset[str] | set[str] = frozenset()
                ) -> tuple[dict[str, list[Any]], dict[str, int]]:
    """What the receiver got against what was written: lost, accepted twice, out of order
    within an order, unverified, unknown; and the counts."""
    accepted = receiver.accepted_ids()
    arrivals: dict[int | None, list[int]] = {}
    for request in receiver.accepted():
        event_id, _, order_id = written.get(request.message_id, (0, "", None))
        ids = arrivals.setdefault(order_id, [])
        if ids[-1:] != [event_id]:  # a repeat right after itself is the same event again
            ids.append(event_id)
    out_of_order = [order_id for order_id, ids in arrivals.items() if ids != sorted(set(ids))]
    findings = {
        "lost": [m for m in written if accepted[m] == 0],
        "duplicates_beyond_at_least_once": [m for m, n in accepted.items()
                                            if n > 2 or (n == 2 and m not in allowed_twice)],
        "out_of_order": out_of_order,
        "unverified": [r.message_id for r in receiver.unverified()],
        "unknown": sorted(set(accepted) - set(written)),
    }
    counts = {"events": len(written), "delivered_once": sum(1 for m in written if accepted[m] == 1),
              "accepted_twice": sum(1 for m in written if accepted[m] == 2), "orders": len(arrivals)}
    return findings, counts


# ----------------------------------------------------------------------------- receiver outages
@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "WEBHOOK_TIMEOUT": TIMEOUT, "PROPAGATE_EXCEPTIONS": False}


@pytest.mark.parametrize("outage", ["down", "failing", "hanging"])
def test_a_receiver_outage_delays_every_event_and_loses_none(
    outage: str, app: Flask, client: FlaskClient, seller: Seller, clock: Clock, receiver: Receiver,
    storefront_key: str, figures: Figures,
) -> None:
    register(receiver)
    if outage == "down":
        receiver.stop()  # the port refuses connections
    elif outage == "failing":
        receiver.status = 503
    else:  # answers too late (and then only a gateway's 504: nothing was taken in)
        receiver.delay, receiver.status = TIMEOUT * 2, 504

    web = ClientWeb(client)
    agent = SellerAgent(ClientWeb(app.test_client()), seller.email, PASSWORD)
    buyer = ClientWeb(app.test_client())
    created = [post_order(web, storefront_key, order_body(f"MKT-WH-{i}", seller.email)) for i in range(4)]
    assert [a.status for a in created] == [201] * 4
    refs = [a.json()["reference"] for a in created]
    assert agent.log_in().status == 303
    for ref in refs[:3]:
        assert agent.pay(ref).status == 303
    assert agent.cancel(refs[3], "rupture de stock").status == 303
    for ref in refs[:2]:
        assert agent.ship(ref, lines_of(db.session, ref)).status == 303
        assert agent.request_receipt(ref, 1).status == 303
    parcel = shipment_ids(db.session, refs[0])[0]
    assert buyer_confirms(buyer, receipt_token(parcel)).status == 200
    wait_for_background(app)

    # Sweeps every hour of the outage: nothing gets through, nothing is given up.
    sweeps = 0
    for _ in range(OUTAGE_HOURS):
        clock.advance(hours=1, minutes=1)
        report = run_sweep()
        sweeps += 1
        assert report.webhooks_delivered == 0 and report.webhooks_failed == 0
    rows = deliveries()
    given_up = [row.id for row in rows if row.status == WebhookDeliveryStatus.FAILED]
    tries = max(row.attempts for row in rows)
    assert receiver.accepted() == []

    # The receiver is back: the next sweep delivers everything, once, in order.
    if outage == "down":
        receiver.start()
    receiver.status, receiver.delay = 204, 0
    clock.advance(hours=10, minutes=1)  # the longest wait between two tries
    report = run_sweep()
    again = run_sweep()
    written = events()
    findings, counts = findings_of(receiver, written)
    figures.record_findings(
        f"webhook_receiver_{outage}",
        {**findings, "given_up": given_up, "server_errors": server_errors(agent.answers + created),
         "not_delivered": [row.id for row in deliveries() if row.status != WebhookDeliveryStatus.DELIVERED]},
        **counts, sweeps_during_outage=sweeps, max_attempts_seen=tries, outage_hours=OUTAGE_HOURS,
        requests_refused_or_failed=len(receiver.requests) - len(receiver.accepted()))
    # 4 created, 3 paid, 1 cancelled, 2 shipped, 2 receipt requests, 1 received.
    assert counts["events"] == 13 == report.webhooks_delivered and again.webhooks_delivered == 0


# ----------------------------------------------------------------------------- Redis and the worker
@pytest.fixture
def redis_app_config(app_config: dict[str, Any], redis_server: RedisServer,
                     near_clock: NearClock) -> dict[str, Any]:
    # The worker runs on the real clock: so does the app that prepares its work.
    return {**app_config, "REDIS_URL": redis_server.url, "RQ_CONNECTION": redis_server.url,
            "RQ_ASYNC": True, "CLOCK": near_clock}


def burst_worker(processes: Callable[..., Process], env: dict[str, str]) -> str:
    worker = processes([FLASK, "--app", "wsgi", "jobs", "worker", "--burst"], env, name="worker")
    assert worker.wait(180) == 0, worker.output()
    return worker.output()


def some_actions(wf: Workflow, seller: Seller, prefix: str, count: int) -> None:
    for i in range(count):
        order = wf.place_order(order_input(seller.email, f"{prefix}-{i}"), actor=Actor.api("shop")).order
        wf.confirm_payment(order.id, actor=Actor.seller(seller.email))
        if i % 2 == 0:
            wf.cancel(wf.place_order(order_input(seller.email, f"{prefix}-{i}-X"),
                                     actor=Actor.api("shop")).order.id, actor=Actor.seller(seller.email))


@pytest.mark.redis
class TestWithRedis:
    @pytest.fixture
    def app_config(self, redis_app_config: dict[str, Any]) -> dict[str, Any]:
        return redis_app_config

    @pytest.fixture
    def env(self, app: Flask, redis_server: RedisServer) -> dict[str, str]:
        return process_env(engine_url(app), REDIS_URL=redis_server.url, WEBHOOK_TIMEOUT="2")

    def test_the_worker_delivers_and_redis_killed_loses_nothing(
        self, app: Flask, wf: Workflow, seller: Seller, receiver: Receiver, redis_server: RedisServer,
        env: dict[str, str], processes: Callable[..., Process], figures: Figures,
    ) -> None:
        register(receiver)
        some_actions(wf, seller, "MKT-RQ", 4)  # jobs queued in Redis, no worker yet
        assert receiver.requests == []
        burst_worker(processes, env)
        delivered_by_worker = len(receiver.accepted())
        assert delivered_by_worker == len(events())

        redis_server.kill()  # actions go on: their jobs cannot be queued
        some_actions(wf, seller, "MKT-NOREDIS", 4)
        waiting = sum(1 for row in deliveries() if row.status == WebhookDeliveryStatus.PENDING)
        redis_server.start()  # empty: the jobs of the outage were never there
        burst_worker(processes, env)
        assert len(receiver.accepted()) == delivered_by_worker
        report = run_sweep()  # the cron's sweep
        written = events()
        findings, counts = findings_of(receiver, written)
        figures.record_findings(
            "webhook_redis_killed",
            {**findings, "not_delivered": [row.id for row in deliveries()
                                           if row.status != WebhookDeliveryStatus.DELIVERED]},
            **counts, delivered_by_worker=delivered_by_worker, waiting_while_redis_down=waiting,
            delivered_by_sweep=report.webhooks_delivered)
        assert waiting == report.webhooks_delivered > 0

    def test_a_worker_killed_mid_batch_loses_no_event_and_resends_no_delivered_one(
        self, app: Flask, wf: Workflow, seller: Seller, receiver: Receiver, env: dict[str, str],
        processes: Callable[..., Process], figures: Figures,
    ) -> None:
        register(receiver)
        with signals.webhooks_queued.muted():  # one big batch below, as the sweep makes them
            for i in range(BATCH):
                wf.place_order(order_input(seller.email, f"MKT-WHKILL-{i}"), actor=Actor.api("shop"))
        ids = [row.id for row in deliveries()]
        tasks.deliver_webhooks.enqueue(ids)
        receiver.delay = 0.15
        worker = processes([FLASK, "--app", "wsgi", "jobs", "worker"], env, name="jobs-worker")
        wait_until(lambda: len(receiver.requests) >= max(3, BATCH // 3), 60, "the batch to be under way")
        worker.kill()
        at_kill = {row.id: row.status for row in deliveries()}
        message_of = {row.id: row.event_id for row in deliveries()}
        received_at_kill = len(receiver.requests)
        assert received_at_kill < len(ids), "the kill came too late to be mid-batch"

        # What production does next: the lease runs out, the cron's sweep runs in a worker.
        receiver.delay = 0
        db.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.status == WebhookDeliveryStatus.SENDING)
            .values(claimed_at=datetime.now(UTC) - delivery.LEASE - timedelta(minutes=1))
            .execution_options(synchronize_session=False))
        db.session.commit()
        tasks.sweep.enqueue()
        burst_worker(processes, env)

        written = events()
        id_of_event = {event_id: message_id for message_id, (event_id, _, _) in written.items()}
        # Claimed by the dead worker (one of them, at most, was being sent): at-least-once.
        claimed = {id_of_event[message_of[row]] for row, status in at_kill.items()
                   if status == WebhookDeliveryStatus.SENDING}
        findings, counts = findings_of(receiver, written, allowed_twice=claimed)
        accepted = receiver.accepted_ids()
        findings["delivered_rows_resent"] = [row for row, status in at_kill.items()
                                             if status == WebhookDeliveryStatus.DELIVERED
                                             and accepted[id_of_event[message_of[row]]] != 1]
        figures.record_findings(
            "webhook_worker_sigkill", findings, **counts, received_before_kill=received_at_kill,
            delivered_before_kill=Counter(at_kill.values())[WebhookDeliveryStatus.DELIVERED],
            claimed_unsent_at_kill=len(claimed))
        assert {row.status for row in deliveries()} == {WebhookDeliveryStatus.DELIVERED}
        db.session.rollback()
        assert db.session.scalar(select(Order.id).limit(1)) is not None
