"""A real `flask --app wsgi rq worker` killed with SIGKILL (itself and its work-horse) in the
middle of delivering a batch, and in the middle of a sweep; `flask --app wsgi jobs worker`
(jobs in its own process) killed in the middle of a batch, and told to stop (SIGTERM) in the
middle of one. The SMTP server is slow (each DATA waits), so the kill lands mid-batch.

What must hold: no e-mail is lost; an e-mail the outbox marked `sent` is never sent again;
no parcel is received twice. Delivery is at-least-once: the messages whose outcome was not
yet written when the worker died (outcomes are written in small batches, a quarter of a
second apart at most) may arrive twice, with the same Message-ID (README, delivery.py).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from jobs import tasks
from tests.conftest import order_input
from tests.reliability.conftest import (
    FLASK,
    Figures,
    NearClock,
    Process,
    RedisServer,
    Sink,
    engine_url,
    knob,
    process_env,
    wait_until,
)
from tests.reliability.scenario import overdue_parcels
from uniqu3.extensions import db
from uniqu3.mail.delivery import LEASE
from uniqu3.models import OrderEvent, OutboxEmail, OutboxStatus, Seller, Shipment, ShipmentStatus
from uniqu3.workflow import Actor, Workflow, signals

pytestmark = [pytest.mark.reliability, pytest.mark.redis]

BATCH = knob("WORKER_BATCH", 20)  # orders: two e-mails each, in one delivery job
PARCELS = knob("SWEEP_PARCELS", 12)  # parcels overdue when the sweep starts
SMTP_DELAY = 0.15


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_server: RedisServer, sink: Sink,
               near_clock: NearClock) -> dict[str, Any]:
    # The worker runs on the real clock: so does the app that prepares its work.
    return {**app_config, **sink.config, "REDIS_URL": redis_server.url,
            "RQ_CONNECTION": redis_server.url, "RQ_ASYNC": True, "CLOCK": near_clock}


@pytest.fixture
def worker_env(app: Flask, redis_server: RedisServer, sink: Sink) -> dict[str, str]:
    return process_env(engine_url(app), REDIS_URL=redis_server.url, **sink.env)


def start_worker(processes: Callable[..., Process], env: dict[str, str], *, burst: bool = False) -> Process:
    args = [FLASK, "--app", "wsgi", "rq", "worker", *(["--burst"] if burst else [])]
    return processes(args, env, name="worker")


def outbox_state(ids: list[int] | None = None) -> dict[int, tuple[str, str | None]]:
    db.session.expire_all()
    query = select(OutboxEmail.id, OutboxEmail.status, OutboxEmail.message_id)
    if ids is not None:
        query = query.where(OutboxEmail.id.in_(ids))
    return {row_id: (status, message_id) for row_id, status, message_id in db.session.execute(query)}


def lease_passes() -> int:
    """The lease of the rows the dead worker had claimed runs out (10 minutes later)."""
    result = db.session.execute(
        update(OutboxEmail).where(OutboxEmail.status == OutboxStatus.SENDING)
        .values(claimed_at=datetime.now(UTC) - LEASE - timedelta(minutes=1))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return int(result.rowcount)


def recover(processes: Callable[..., Process], env: dict[str, str], sink: Sink) -> str:
    """What production does next: the cron's sweep is queued, a (restarted) worker runs it."""
    sink.delay = 0
    lease_passes()
    tasks.sweep.enqueue()
    worker = start_worker(processes, env, burst=True)
    assert worker.wait(180) == 0, worker.output()
    return worker.output()


def count_losses(sink: Sink, at_kill: dict[int, tuple[str, str | None]],
                 final: dict[int, tuple[str, str | None]]) -> tuple[dict[str, int], dict[str, list[Any]]]:
    """What the outbox and the SMTP server say after the recovery: the counts, and the
    findings (e-mails lost, `sent` rows sent again, anything beyond at-least-once)."""
    received = sink.message_ids()
    missing = [row for row, (_, message_id) in final.items() if received[str(message_id)] == 0]
    # A row the outbox said was sent when the worker died is never sent again.
    resent = [row for row, (status, message_id) in at_kill.items()
              if status == OutboxStatus.SENT and received[str(message_id)] != 1]
    in_flight = [row for row, (status, _) in at_kill.items() if status == OutboxStatus.SENDING]
    duplicated = [row for row, (_, message_id) in final.items() if received[str(message_id)] > 1]
    # At-least-once: only a message in flight at the kill may arrive again, and only once more.
    beyond = [row for row in duplicated if row not in in_flight or received[str(final[row][1])] > 2]
    counts = {"emails": len(final), "sent_before_kill": sum(1 for s, _ in at_kill.values() if s == "sent"),
              "claimed_unsent_at_kill": len(in_flight), "duplicates_at_least_once": len(duplicated)}
    findings: dict[str, list[Any]] = {
        "lost": missing, "sent_rows_resent": resent, "duplicates_beyond_at_least_once": beyond,
        "not_sent": [(row, status) for row, (status, _) in final.items() if status != OutboxStatus.SENT]}
    return counts, findings


# Flask-RQ's worker runs each job in a work-horse process; `flask jobs worker` (the
# Procfile's) runs it in its own process, so the job dies with it. The same guarantees hold.
@pytest.mark.parametrize(("mode", "figure"), [
    ("work-horse", "worker_sigkill_mid_batch"),
    ("in-process", "jobs_worker_sigkill_mid_batch"),
])
def test_a_worker_killed_mid_batch_loses_no_email_and_resends_no_sent_one(
    mode: str, figure: str, app: Flask, wf: Workflow, seller: Seller, sink: Sink,
    worker_env: dict[str, str], processes: Callable[..., Process], figures: Figures,
) -> None:
    with signals.emails_queued.muted():  # one big batch below, as the sweep makes them
        for i in range(BATCH):
            wf.place_order(order_input(seller.email, f"MKT-KILL-{i}"), actor=Actor.api("shop"))
    ids = sorted(outbox_state())
    assert len(ids) == 2 * BATCH
    tasks.deliver_emails.enqueue(ids)
    sink.delay = SMTP_DELAY

    if mode == "work-horse":
        worker = start_worker(processes, worker_env)
    else:
        worker = processes([FLASK, "--app", "wsgi", "jobs", "worker"], worker_env, name="jobs-worker")
    wait_until(lambda: sink.count() >= max(3, BATCH // 3), 60, "the batch to be under way")
    if mode == "work-horse":
        assert worker.children(), "the job runs in a work-horse process"
    worker.kill()
    at_kill = outbox_state()
    assert sink.count() < len(ids), "the kill came too late to be mid-batch"
    sent_at_kill = sink.count()

    output = recover(processes, worker_env, sink)
    counts, findings = count_losses(sink, at_kill, outbox_state())
    figures.record_findings(figure, findings, **counts, received_before_kill=sent_at_kill)
    assert counts["sent_before_kill"] >= 1 and counts["sent_before_kill"] < len(ids), output


@pytest.mark.parametrize("mode", [[], ["--fork"]], ids=["in-process", "fork"])
def test_a_worker_told_to_stop_mid_batch_finishes_it_then_ends(
    mode: list[str], app: Flask, wf: Workflow, seller: Seller, sink: Sink, worker_env: dict[str, str],
    processes: Callable[..., Process],
) -> None:
    """A restart's SIGTERM to the Procfile's worker (`flask jobs worker --with-scheduler`) in
    the middle of a batch: the batch is finished, every e-mail sent once, and the worker ends
    by itself (exit code 0), before the grace period's SIGKILL (Process.stop)."""
    with signals.emails_queued.muted():
        for i in range(BATCH):
            wf.place_order(order_input(seller.email, f"MKT-TERM-{i}"), actor=Actor.api("shop"))
    ids = sorted(outbox_state())
    tasks.deliver_emails.enqueue(ids)
    sink.delay = SMTP_DELAY
    worker = processes([FLASK, "--app", "wsgi", "jobs", "worker", "--with-scheduler", *mode], worker_env,
                       name="jobs-worker")
    wait_until(lambda: sink.count() >= 3, 60, "the batch to be under way")

    assert worker.stop() == 0, worker.output()
    output = worker.output()
    # RQ's words for a stop that came while the job ran (idle, it ends without them).
    assert "warm shut down requested" in output and "stopping on request" in output, output
    final = outbox_state(ids)
    received = sink.message_ids()
    assert [row for row, (status, _) in final.items() if status != OutboxStatus.SENT] == []
    assert sorted(received.values()) == [1] * len(ids)
    assert set(received) == {str(message_id) for _, message_id in final.values()}


def test_a_worker_killed_mid_sweep_receives_each_parcel_once_and_loses_no_email(
    app: Flask, wf: Workflow, seller: Seller, sink: Sink, worker_env: dict[str, str],
    processes: Callable[..., Process], figures: Figures,
) -> None:
    parcels = overdue_parcels(wf, seller.email, PARCELS, "MKT-SWEEP")
    before = set(outbox_state())
    tasks.sweep.enqueue()
    sink.delay = SMTP_DELAY

    worker = start_worker(processes, worker_env)
    wait_until(lambda: sink.count() >= max(3, PARCELS // 3), 60, "the sweep's e-mails to be under way")
    worker.kill()
    at_kill = {row: state for row, state in outbox_state().items() if row not in before}
    assert sink.count() < 2 * PARCELS, "the kill came too late to be mid-sweep"

    recover(processes, worker_env, sink)
    final = {row: state for row, state in outbox_state().items() if row not in before}
    counts, findings = count_losses(sink, at_kill, final)
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Shipment.id, Shipment.status)).all())
    receipts = Counter(details["shipment_id"] for details in db.session.scalars(
        select(OrderEvent.details).where(OrderEvent.kind == "auto_received")))
    findings["parcels_received_twice"] = [parcel for parcel, n in receipts.items() if n > 1]
    findings["parcels_not_received"] = [parcel for parcel in parcels
                                        if statuses.get(parcel) != ShipmentStatus.RECEIVED
                                        or not receipts[parcel]]
    figures.record_findings("worker_sigkill_mid_sweep", findings, **counts, parcels=len(parcels))
    assert len(final) == 2 * PARCELS  # E7 to the seller and to the buyer, once each


def test_the_rq_retries_of_a_killed_job_and_the_sweep_together_send_once(
    app: Flask, wf: Workflow, seller: Seller, sink: Sink, worker_env: dict[str, str],
    processes: Callable[..., Process], figures: Figures,
) -> None:
    """Only the work-horse dies (out of memory, say): the worker lives on, RQ marks the job
    failed and retries it later, while the sweep may already have sent the e-mails."""
    with signals.emails_queued.muted():
        for i in range(6):
            wf.place_order(order_input(seller.email, f"MKT-HORSE-{i}"), actor=Actor.api("shop"))
    ids = sorted(outbox_state())
    job = tasks.deliver_emails.enqueue(ids, retry=tasks.RETRY)
    sink.delay = SMTP_DELAY
    worker = start_worker(processes, worker_env)
    wait_until(lambda: sink.count() >= 2, 60, "the batch to be under way")
    horses = worker.children()
    assert horses
    for pid in horses:
        os.kill(pid, signal.SIGKILL)
    job_status = wait_until(lambda: _job_status(job) in {"scheduled", "failed"} and _job_status(job),
                            30, "RQ to notice the dead work-horse")
    at_kill = outbox_state()
    worker.stop()
    recover(processes, worker_env, sink)
    # RQ's retry of the job comes later: it finds nothing left to send.
    with app.app_context():
        from uniqu3.mail import deliver

        resent_by_retry = deliver(ids).sent
    counts, findings = count_losses(sink, at_kill, outbox_state())
    findings["sent_again_by_rq_retry"] = list(resent_by_retry)
    figures.record_findings("work_horse_sigkill", findings, **counts, rq_job_after_kill=job_status)


def _job_status(job: Any) -> str:
    try:
        status = job.get_status(refresh=True)
    except Exception:
        return ""
    return str(getattr(status, "value", status))
