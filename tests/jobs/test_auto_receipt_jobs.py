"""With Redis: « Activer la confirmation de réception » schedules the automatic receipt at
the due time stored on the parcel; the worker's scheduler fires it; the cron sweep is the
safety net. Whoever runs first wins, once: one E7 per recipient, ever."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from rq import Queue
from rq.registry import ScheduledJobRegistry

from jobs import tasks
from tests.conftest import Clock, SmtpSink
from tests.jobs.conftest import event_count, move_into_the_past, outbox, parcel, recipients, run_worker
from uniqu3.models import ReceivedBy, ShipmentStatus
from uniqu3.services import workflow
from uniqu3.sweep import run_sweep
from uniqu3.workflow import Workflow

pytestmark = pytest.mark.redis

SELLER, BUYER = "atelier@example.fr", "camille@example.fr"


@pytest.fixture
def app_config(app_config: dict[str, Any], rq_config: dict[str, Any],
               smtp_config: dict[str, Any]) -> dict[str, Any]:
    # The reminder before the deadline has its own tests (test_problem_jobs.py).
    return {**app_config, **rq_config, **smtp_config, "RECEIPT_REMINDER_DAYS": 0}


def test_activation_schedules_the_automatic_receipt_at_the_due_time(
    awaiting: Any, queue: Queue, clock: Clock
) -> None:
    shipment_id = awaiting()
    due = parcel(shipment_id).receipt_due_at
    assert due == clock.now + timedelta(days=7)

    registry = ScheduledJobRegistry(queue=queue)
    job_id = tasks.auto_receipt_job_id(shipment_id)
    assert registry.get_job_ids() == [job_id]
    assert registry.get_scheduled_time(job_id) == due.replace(microsecond=0)
    job = queue.fetch_job(job_id)
    assert job.func_name == "jobs.tasks.auto_receive" and job.args == (shipment_id,)
    assert queue.count == 0  # not before its time


def test_the_scheduler_fires_the_job_and_the_parcel_is_received_automatically(
    awaiting: Any, queue: Queue, clock: Clock, smtp_server: SmtpSink
) -> None:
    shipment_id = awaiting()
    clock.advance(days=7, minutes=1)
    move_into_the_past(queue, tasks.auto_receipt_job_id(shipment_id))

    run_worker(with_scheduler=True)

    shipment = parcel(shipment_id)
    assert shipment.status == ShipmentStatus.RECEIVED
    assert shipment.received_by == ReceivedBy.AUTO
    assert shipment.received_at == clock.now
    assert [(r.recipient_role, r.status) for r in outbox("E7")] == [("seller", "sent"), ("buyer", "sent")]
    assert recipients(smtp_server) == sorted([SELLER, BUYER])
    assert ScheduledJobRegistry(queue=queue).count == 0


def test_a_job_that_fires_before_the_due_time_changes_nothing_and_is_scheduled_again(
    awaiting: Any, queue: Queue, clock: Clock, smtp_server: SmtpSink
) -> None:
    shipment_id = awaiting()
    clock.advance(days=6)  # one day left, by the database's clock
    move_into_the_past(queue, tasks.auto_receipt_job_id(shipment_id))

    run_worker(with_scheduler=True)

    assert parcel(shipment_id).status == ShipmentStatus.AWAITING_RECEIPT
    assert outbox("E7") == [] and smtp_server.messages == []
    registry = ScheduledJobRegistry(queue=queue)
    (again,) = registry.get_job_ids()
    left = registry.get_scheduled_time(again) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < left <= timedelta(days=1, seconds=2)


def test_the_buyer_confirming_first_leaves_the_scheduled_job_nothing_to_do(
    awaiting: Any, wf: Workflow, queue: Queue, clock: Clock, smtp_server: SmtpSink
) -> None:
    shipment_id = awaiting()
    clock.advance(days=3)
    wf.confirm_receipt(shipment_id, ip="203.0.113.9", user_agent="Firefox")
    run_worker()  # E6 to the seller
    assert recipients(smtp_server) == [SELLER]

    clock.advance(days=5)
    move_into_the_past(queue, tasks.auto_receipt_job_id(shipment_id))
    run_worker(with_scheduler=True)

    assert parcel(shipment_id).received_by == ReceivedBy.BUYER
    assert outbox("E7") == []
    assert recipients(smtp_server) == [SELLER]


def test_scheduled_job_and_sweep_both_run_one_receipt_one_e7_each(
    awaiting: Any, queue: Queue, clock: Clock, smtp_server: SmtpSink
) -> None:
    first, second = awaiting(), awaiting()
    clock.advance(days=7, minutes=1)

    # The sweep gets there first for both parcels…
    assert run_sweep().auto_received == 2
    # …then the scheduled jobs fire, and one of them is even run twice (worker killed and
    # the job started again).
    for shipment_id in (first, second):
        move_into_the_past(queue, tasks.auto_receipt_job_id(shipment_id))
    queue.enqueue(tasks.auto_receive.func, first)
    run_worker(with_scheduler=True)
    assert run_sweep().auto_received == 0

    for shipment_id in (first, second):
        assert parcel(shipment_id).received_by == ReceivedBy.AUTO
        assert event_count("auto_received", parcel(shipment_id).order_id) == 1
    assert sorted(r.recipient_role for r in outbox("E7")) == ["buyer", "buyer", "seller", "seller"]
    assert recipients(smtp_server) == sorted([SELLER, SELLER, BUYER, BUYER])


def test_the_same_auto_receipt_job_run_twice_receives_once(
    awaiting: Any, queue: Queue, clock: Clock, smtp_server: SmtpSink
) -> None:
    shipment_id = awaiting()
    clock.advance(days=7, minutes=1)
    queue.enqueue(tasks.auto_receive.func, shipment_id)
    queue.enqueue(tasks.auto_receive.func, shipment_id)

    run_worker()

    assert event_count("auto_received") == 1
    assert [r.recipient_role for r in outbox("E7")] == ["seller", "buyer"]
    assert recipients(smtp_server) == sorted([SELLER, BUYER])


def test_buyer_and_sweep_at_the_same_moment_exactly_one_wins(
    app: Flask, awaiting: Any, clock: Clock, smtp_server: SmtpSink
) -> None:
    """The buyer presses the button at the last second while the sweep runs: per parcel,
    either the buyer's receipt (E6) or the automatic one (E7 ×2), never both."""
    parcels = [awaiting() for _ in range(6)]
    clock.advance(days=7, seconds=1)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sweep() -> None:
        with app.app_context():
            start.wait()
            try:
                run_sweep()
            except BaseException as exc:
                errors.append(exc)

    def buyer() -> None:
        with app.app_context():
            start.wait()
            try:
                for shipment_id in reversed(parcels):
                    workflow().confirm_receipt(shipment_id, ip="198.51.100.7", user_agent="Safari")
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=sweep), threading.Thread(target=buyer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []

    by_buyer = by_sweep = 0
    for shipment_id in parcels:
        shipment = parcel(shipment_id)
        assert shipment.status == ShipmentStatus.RECEIVED
        e6, e7 = outbox("E6", shipment_id=shipment_id), outbox("E7", shipment_id=shipment_id)
        if shipment.received_by == ReceivedBy.BUYER:
            by_buyer += 1
            assert (len(e6), len(e7)) == (1, 0)
            assert event_count("auto_received", shipment.order_id) == 0
        else:
            by_sweep += 1
            assert (len(e6), [r.recipient_role for r in e7]) == (0, ["seller", "buyer"])
            assert event_count("receipt_confirmed", shipment.order_id) == 0
    assert by_buyer + by_sweep == len(parcels)
    # Every e-mail reaches the SMTP server once (the buyer's run enqueued its E6 jobs).
    run_worker()
    assert len(smtp_server.messages) == by_buyer + 2 * by_sweep
