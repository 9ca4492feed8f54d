"""With Redis: each action enqueues the delivery of its e-mails after its commit; a worker
sends them through SMTP; failures wait for the sweep."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from rq import Queue

from tests.conftest import Clock, SmtpSink
from tests.jobs.conftest import outbox, recipients, run_worker
from uniqu3 import create_app
from uniqu3.models import OutboxStatus
from uniqu3.sweep import run_sweep
from uniqu3.workflow import Actor, InvalidTransition, Workflow

pytestmark = pytest.mark.redis


@pytest.fixture
def app_config(app_config: dict[str, Any], rq_config: dict[str, Any],
               smtp_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **rq_config, **smtp_config}


def test_placing_an_order_queues_one_delivery_job_that_a_worker_sends(
    make_order: Any, queue: Queue, smtp_server: SmtpSink, seller: Any
) -> None:
    order = make_order()
    rows = outbox(order_id=order.id)
    assert [r.kind for r in rows] == ["E1", "E2"]

    # Committed, queued, not sent yet: the request did not wait for SMTP.
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.func_name == "jobs.tasks.deliver_emails"
    assert job.args == ([r.id for r in rows],)
    assert smtp_server.messages == []
    assert all(r.status == OutboxStatus.PENDING for r in outbox())

    assert run_worker()
    assert queue.count == 0
    assert recipients(smtp_server) == sorted(["atelier@example.fr", "camille@example.fr"])
    assert [r.status for r in outbox()] == [OutboxStatus.SENT, OutboxStatus.SENT]


def test_the_delivery_job_is_queued_on_a_queue_that_workers_and_rq_info_list(
    make_order: Any, queue: Queue
) -> None:
    order = make_order()

    # The queue's registration and the job are written together (one transaction).
    assert [q.name for q in Queue.all(connection=queue.connection)] == ["default"]
    (job,) = queue.jobs
    assert job.get_status() == "queued"
    assert job.args == ([r.id for r in outbox(order_id=order.id)],)
    assert job.retries_left == 3


def test_confirm_payment_sends_e3_to_the_buyer_through_the_worker(
    wf: Workflow, make_order: Any, seller: Any, queue: Queue, smtp_server: SmtpSink
) -> None:
    order = make_order()
    run_worker()
    smtp_server.messages.clear()

    wf.confirm_payment(order.id, actor=Actor.seller(seller.email), note="virement reçu")
    (e3,) = outbox("E3")
    assert queue.count == 1 and queue.jobs[0].args == ([e3.id],)

    run_worker()
    assert recipients(smtp_server) == ["camille@example.fr"]
    assert outbox("E3")[0].status == OutboxStatus.SENT


def test_a_refused_action_enqueues_nothing(
    wf: Workflow, make_order: Any, seller: Any, queue: Queue
) -> None:
    order = make_order()
    run_worker()
    wf.cancel(order.id, actor=Actor.seller(seller.email))
    run_worker()
    with pytest.raises(InvalidTransition):
        wf.confirm_payment(order.id, actor=Actor.seller(seller.email))
    assert queue.count == 0
    assert [r.kind for r in outbox()] == ["E1", "E2", "E8"]


def test_the_same_delivery_job_run_twice_sends_each_email_once(
    make_order: Any, queue: Queue, smtp_server: SmtpSink
) -> None:
    make_order()
    (job,) = queue.jobs
    # As if the worker died after sending but before recording the job as done: RQ runs it again.
    queue.enqueue(job.func_name, *job.args)
    assert queue.count == 2
    run_worker()
    assert queue.count == 0
    assert len(smtp_server.messages) == 2
    assert recipients(smtp_server) == sorted(["atelier@example.fr", "camille@example.fr"])


def test_an_email_the_smtp_server_refused_is_sent_by_a_later_sweep(
    app: Flask, app_config: dict[str, Any], clock: Clock, make_order: Any, queue: Queue,
    smtp_server: SmtpSink, unused_port: int,
) -> None:
    # The worker's SMTP server is down when the job runs…
    down = create_app({**app_config, "MAIL_PORT": unused_port})
    with down.app_context():
        make_order()
        run_worker()
        rows = outbox()
        assert [r.status for r in rows] == [OutboxStatus.PENDING, OutboxStatus.PENDING]
        assert smtp_server.messages == []

    # …it is back, and the sweep after the next-try time delivers, once.
    clock.advance(hours=1)
    report = run_sweep()
    assert report.emails_sent == 2
    assert recipients(smtp_server) == sorted(["atelier@example.fr", "camille@example.fr"])
    assert run_sweep().emails_sent == 0
    assert len(smtp_server.messages) == 2
