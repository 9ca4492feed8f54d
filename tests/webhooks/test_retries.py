"""A receiver that fails: the same `webhook-id` on every try, a growing wait between tries for
more than 24 hours, 410 turns the endpoint off, redirects are not followed, timeouts count as
failures, and one order's events never overtake each other."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.conftest import Clock
from tests.webhook_receiver import Receiver
from tests.webhooks.conftest import TIMEOUT, deliveries
from uniqu3.extensions import db
from uniqu3.models import WebhookDeliveryStatus, WebhookEndpoint
from uniqu3.webhooks.delivery import MAX_ATTEMPTS, RETRY_SCHEDULE, deliver
from uniqu3.workflow import Actor, Workflow

SELLER = Actor.seller("atelier@example.fr")
PENDING, DELIVERED, FAILED = (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.DELIVERED,
                              WebhookDeliveryStatus.FAILED)


def test_a_failing_receiver_is_tried_again_with_the_same_id_for_more_than_a_day_then_given_up(
        make_order: Callable[..., Any], receiver: Receiver, register: Callable[..., str],
        clock: Clock) -> None:
    register()
    receiver.status = 500
    make_order()
    started = clock()
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        (row,) = deliveries()
        assert row.status == PENDING
        waits.append(row.next_attempt_at - clock())
        assert deliver().delivered == []  # not due yet
        clock.now = row.next_attempt_at
        deliver()
    (row,) = deliveries()
    assert row.status == FAILED and row.attempts == MAX_ATTEMPTS and row.last_status_code == 500
    assert waits == list(RETRY_SCHEDULE)
    assert waits == sorted(waits)  # growing
    assert clock() - started >= timedelta(hours=24)
    tries = receiver.requests
    assert len(tries) == MAX_ATTEMPTS
    assert len({t.message_id for t in tries}) == 1 and len({t.body for t in tries}) == 1
    assert all(t.verified for t in tries)


def test_back_after_a_few_failures_it_is_delivered_once(
        make_order: Callable[..., Any], receiver: Receiver, register: Callable[..., str],
        clock: Clock) -> None:
    register()
    receiver.statuses.extend([503, 302])  # a redirect is a failure: it is not followed
    make_order()
    clock.advance(seconds=5)
    deliver()
    clock.advance(minutes=5)
    report = deliver()
    assert len(report.delivered) == 1
    assert [r.answered for r in receiver.requests] == [503, 302, 204]
    assert all(r.path == "/hooks" for r in receiver.requests)  # never the redirect's target
    assert receiver.accepted_ids().most_common(1)[0][1] == 1
    (row,) = deliveries()
    assert row.status == DELIVERED and row.attempts == 3


def test_a_receiver_that_does_not_answer_in_time_is_tried_again(
        make_order: Callable[..., Any], receiver: Receiver, register: Callable[..., str],
        clock: Clock) -> None:
    register()
    receiver.delay = TIMEOUT + 0.5
    make_order()
    (row,) = deliveries()
    assert row.status == PENDING and row.attempts == 1 and row.last_status_code is None
    assert "timed out" in row.last_error.lower() or "timeout" in row.last_error.lower()
    receiver.delay = 0
    clock.advance(seconds=5)
    assert len(deliver().delivered) == 1


def test_410_turns_the_endpoint_off_and_gives_up_what_waits_for_it(
        wf: Workflow, make_order: Callable[..., Any], receiver: Receiver, register: Callable[..., str],
        clock: Clock) -> None:
    register()
    receiver.statuses.append(503)
    order = make_order()
    receiver.status = 410
    wf.confirm_payment(order.id, actor=SELLER)  # waits behind order.created
    clock.advance(seconds=5)
    deliver()
    assert [d.status for d in deliveries()] == [FAILED, FAILED]
    endpoint = db.session.get(WebhookEndpoint, deliveries()[0].endpoint_id)
    assert endpoint is not None and not endpoint.active and "410" in endpoint.disabled_reason
    count = len(receiver.requests)
    make_order()  # nothing more for it
    clock.advance(hours=1)
    deliver()
    assert len(receiver.requests) == count == 2
    assert len(deliveries()) == 2


def test_an_orders_events_wait_for_the_earlier_ones_other_orders_do_not(
        wf: Workflow, make_order: Callable[..., Any], receiver: Receiver, register: Callable[..., str],
        clock: Clock) -> None:
    register()
    receiver.statuses.append(500)
    first = make_order()  # order.created fails once
    wf.confirm_payment(first.id, actor=SELLER)  # must not overtake it
    second = make_order()
    assert receiver.types() == ["order.created"]
    assert receiver.accepted()[0].json()["data"]["order"]["reference"] == second.reference
    clock.advance(seconds=5)
    report = deliver()
    assert len(report.delivered) == 2  # the failed one, then the one behind it, in one run
    refs = [(r.json()["type"], r.json()["data"]["order"]["reference"]) for r in receiver.accepted()]
    assert refs == [("order.created", second.reference), ("order.created", first.reference),
                    ("order.paid", first.reference)]
