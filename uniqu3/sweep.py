"""The periodic safety net: receive every overdue parcel, retry every due e-mail.

Run by the RQ cron scheduler, by `flask admin sweep`, or inline without Redis.
"""

from __future__ import annotations

from dataclasses import dataclass

from .mail import deliver
from .services import workflow


@dataclass
class SweepReport:
    auto_received: int
    emails_sent: int
    emails_retrying: int


def run_sweep() -> SweepReport:
    received = workflow().auto_receive_due()
    delivery = deliver()
    return SweepReport(
        auto_received=len(received.received),
        emails_sent=len(delivery.sent),
        emails_retrying=len(delivery.retrying),
    )
