"""The periodic safety net: remind and receive every overdue parcel, retry every due e-mail
and every due webhook delivery (also those never handed to a job: Redis was down), forget the
API's Idempotency-Keys older than 24 hours.

Run every five minutes by the RQ cron scheduler (`jobs.cron`), by `flask admin sweep`, or
from the system's cron when there is no Redis. Everything it calls is idempotent
(conditional updates, claimed outbox rows), so two sweeps at once, or a sweep racing the
scheduled job or the buyer's click, still receive each parcel once and send each e-mail once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from .api import idempotency
from .extensions import db
from .mail import deliver
from .services import now, workflow
from .webhooks import delivery as webhook_delivery

log = logging.getLogger(__name__)

DELIVERY_BATCH = 500
# Bounds one sweep (10,000 e-mails); a bigger backlog is finished by the next ones.
MAX_DELIVERY_BATCHES = 20


@dataclass
class SweepReport:
    auto_received: int
    emails_sent: int
    emails_retrying: int
    emails_failed: int = 0
    reminders_sent: int = 0
    webhooks_delivered: int = 0
    webhooks_retrying: int = 0
    webhooks_failed: int = 0
    idempotency_keys_removed: int = 0


def run_sweep() -> SweepReport:
    reminded = workflow().remind_due()
    if reminded:
        log.info("Sweep: %d receipt reminder(s) sent: %s", len(reminded), reminded)
    received = workflow().auto_receive_due()
    if received.received:
        log.info("Sweep: %d parcel(s) received automatically: %s", len(received.received),
                 received.received)
    report = SweepReport(auto_received=len(received.received), emails_sent=0, emails_retrying=0,
                         reminders_sent=len(reminded))
    for _ in range(MAX_DELIVERY_BATCHES):
        delivery = deliver(limit=DELIVERY_BATCH)
        report.emails_sent += len(delivery.sent)
        report.emails_retrying += len(delivery.retrying)
        report.emails_failed += len(delivery.failed)
        handled = len(delivery.sent) + len(delivery.retrying) + len(delivery.failed)
        # A short batch: nothing more is due. Nothing sent: the SMTP server is failing,
        # the rows wait for their next try.
        if handled < DELIVERY_BATCH or not delivery.sent:
            break
    if report.emails_sent or report.emails_retrying or report.emails_failed:
        log.info("Sweep: e-mails sent %d, to retry %d, failed %d.", report.emails_sent,
                 report.emails_retrying, report.emails_failed)
    _deliver_webhooks(report)
    _forget_expired_idempotency_keys(report)
    return report


def _forget_expired_idempotency_keys(report: SweepReport) -> None:
    """Housekeeping, last: a refused delete must not fail the sweep's work; the next one retries."""
    try:
        report.idempotency_keys_removed = idempotency.remove_expired(db.session, now())
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("Sweep: expired Idempotency-Keys not removed this time (%s).", exc)


def _deliver_webhooks(report: SweepReport) -> None:
    for _ in range(MAX_DELIVERY_BATCHES):
        delivery = webhook_delivery.deliver(limit=DELIVERY_BATCH)
        report.webhooks_delivered += len(delivery.delivered)
        report.webhooks_retrying += len(delivery.retrying)
        report.webhooks_failed += len(delivery.failed)
        # A short batch: nothing more is due. Nothing delivered: the receivers are failing.
        if delivery.handled < DELIVERY_BATCH or not delivery.delivered:
            break
    if report.webhooks_delivered or report.webhooks_retrying or report.webhooks_failed:
        log.info("Sweep: webhooks delivered %d, to retry %d, failed %d.", report.webhooks_delivered,
                 report.webhooks_retrying, report.webhooks_failed)
