"""The job functions. Each takes ids (never ORM objects), reads the database afresh and
calls the same code as every other entry point, so running one twice changes nothing.

With Redis they run in `flask jobs worker` (inside the app, same configuration as the web
process); without Redis, `jobs.dispatch` calls them inline right after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from redis.client import Pipeline
from rq import Retry
from sqlalchemy import select

from uniqu3.extensions import db, rq
from uniqu3.mail import DeliveryReport, deliver
from uniqu3.models import Shipment, ShipmentStatus
from uniqu3.services import workflow
from uniqu3.sweep import run_sweep
from uniqu3.timeutil import as_utc, utcnow
from uniqu3.webhooks import delivery as webhook_delivery

log = logging.getLogger(__name__)

# A job that raised (database or SMTP server unreachable) is tried again by RQ; rows that
# failed one by one are retried by the sweep at their own next-try time.
RETRY = Retry(max=3, interval=[60, 300, 900])


@rq.job
def deliver_emails(ids: list[int]) -> dict[str, int]:
    """Send the outbox rows an action has just committed."""
    return _counts(deliver(list(ids)))


@rq.job
def deliver_webhooks(ids: list[int]) -> dict[str, int]:
    """POST the webhook deliveries an action has just committed (and the next ones of the same
    orders that these make due)."""
    report = webhook_delivery.deliver(list(ids))
    return {"delivered": len(report.delivered), "retrying": len(report.retrying),
            "failed": len(report.failed)}


@rq.job
def auto_receive(shipment_id: int) -> bool:
    """The 7-day automatic receipt of one parcel, run by the scheduler at its due time.

    The workflow's conditional update decides: False when the buyer (or the sweep) was
    first. If the job fired before the due time stored on the parcel (clocks apart), it is
    scheduled again for the time that is left.
    """
    wf = workflow()
    if wf.auto_receive(shipment_id):
        return True
    _again_if_early(shipment_id, Shipment.receipt_due_at, wf.clock(), schedule_auto_receipt)
    return False


@rq.job
def send_reminder(shipment_id: int) -> bool:
    """The buyer's reminder before the deadline, run by the scheduler at its time.

    The workflow's conditional update decides (False when already sent, received, in problem);
    a job that fired early is scheduled again for the time stored on the parcel.
    """
    wf = workflow()
    if wf.send_reminder(shipment_id):
        return True
    _again_if_early(shipment_id, Shipment.reminder_due_at, wf.clock(), schedule_reminder)
    return False


def _again_if_early(shipment_id: int, when: Any, now: datetime,
                    schedule: Callable[..., None]) -> None:
    """A job that fired before the time stored on the parcel (`when`, a column; clocks apart)
    is scheduled again for the time that is left, under a new job id: this job's own record
    expires soon after it finishes."""
    at = db.session.scalar(
        select(when).where(Shipment.id == shipment_id,
                           Shipment.status == ShipmentStatus.AWAITING_RECEIPT)
    )
    db.session.rollback()
    if at is not None and as_utc(at) > now:
        schedule(shipment_id, utcnow() + (as_utc(at) - now) + timedelta(seconds=1),
                 per_shipment_id=False)


@rq.job
def sweep() -> dict[str, int]:
    """The periodic safety net (RQ cron): overdue parcels and due e-mails."""
    return asdict(run_sweep())


def in_one_round_trip(puts: Iterable[Callable[[Pipeline], object]]) -> None:
    """Queue jobs in one Redis round trip (raises if Redis is down): each of `puts` (e.g.
    `partial(enqueue_delivery, ids)`) puts its job on one transactional pipeline, so they all
    land together or none does. Every job of the app is on the default queue's connection.

    RQ alone takes two round trips for a job (the queue's registration, then the job): a
    commit that asks for three jobs took six.
    """
    with rq.get_queue().connection.pipeline() as pipe:
        for put in puts:
            put(pipe)
        pipe.execute()


def enqueue_delivery(ids: list[int], pipeline: Pipeline) -> None:
    """Put `deliver_emails(ids)` on the pipeline."""
    # On the queue itself (as the wrapper does): its typed `enqueue` takes no RQ options.
    rq.get_queue(deliver_emails.queue).enqueue(deliver_emails.func, ids, retry=RETRY,
                                               description=f"deliver e-mails {ids}", pipeline=pipeline)


def enqueue_webhooks(ids: list[int], pipeline: Pipeline) -> None:
    """Put `deliver_webhooks(ids)` on the pipeline."""
    rq.get_queue(deliver_webhooks.queue).enqueue(deliver_webhooks.func, ids, retry=RETRY,
                                                 description=f"deliver webhooks {ids}", pipeline=pipeline)


def auto_receipt_job_id(shipment_id: int) -> str:
    return f"uniqu3-auto-receive-{shipment_id}"


def schedule_auto_receipt(shipment_id: int, due_at: datetime, *, per_shipment_id: bool = True,
                          pipeline: Pipeline | None = None) -> None:
    """Ask the RQ scheduler to run `auto_receive` at `due_at` (raises if Redis is down), or
    put that on the pipeline."""
    _schedule(auto_receive, shipment_id, due_at,
              auto_receipt_job_id(shipment_id) if per_shipment_id else None,
              f"automatic receipt of shipment {shipment_id}", pipeline)


def reminder_job_id(shipment_id: int) -> str:
    return f"uniqu3-receipt-reminder-{shipment_id}"


def schedule_reminder(shipment_id: int, at: datetime, *, per_shipment_id: bool = True,
                      pipeline: Pipeline | None = None) -> None:
    """Ask the RQ scheduler to run `send_reminder` at `at` (raises if Redis is down), or put
    that on the pipeline; a new deadline's reminder replaces the job of the previous one (same job id)."""
    _schedule(send_reminder, shipment_id, at, reminder_job_id(shipment_id) if per_shipment_id else None,
              f"receipt reminder of shipment {shipment_id}", pipeline)


def _schedule(job: Any, shipment_id: int, at: datetime, job_id: str | None, description: str,
              pipeline: Pipeline | None) -> None:
    """Run `job` for the parcel at `at`. With one job id per parcel, scheduling it again
    replaces the job instead of adding one."""
    rq.get_queue(job.queue).enqueue_at(as_utc(at), job.func, shipment_id, job_id=job_id, retry=RETRY,
                                       description=description, pipeline=pipeline)


def deliver_now(ids: list[int] | None) -> DeliveryReport | None:
    """Deliver inline, never raising: a failure leaves the rows pending for the sweep."""
    try:
        return deliver(ids)
    except Exception as exc:  # an unreachable SMTP server must not fail the action
        db.session.rollback()
        log.warning("E-mail delivery failed (%s: %s); the e-mails stay in the outbox for the next sweep.",
                    type(exc).__name__, exc)
        return None


def deliver_webhooks_now(ids: list[int] | None) -> webhook_delivery.WebhookReport | None:
    """Deliver webhooks inline, never raising: a failure leaves the rows pending for the sweep."""
    try:
        return webhook_delivery.deliver(ids)
    except Exception as exc:  # the database went away meanwhile: the rows wait
        db.session.rollback()
        log.warning("Webhook delivery failed (%s: %s); the deliveries wait for the next sweep.",
                    type(exc).__name__, exc)
        return None


def _counts(report: DeliveryReport) -> dict[str, int]:
    return {"sent": len(report.sent), "retrying": len(report.retrying), "failed": len(report.failed)}
