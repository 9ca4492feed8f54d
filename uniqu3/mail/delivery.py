"""Outbox delivery (first cut: plain text, one SMTP connection a batch).

Contract used by the jobs and the CLI:
    deliver(ids=None, *, limit=500) -> DeliveryReport
sends the pending rows that are due (only `ids` when given), marks each sent row, and
on failure keeps it pending with attempts, last error and a later next try.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_mail import Message
from sqlalchemy import select, update

from ..extensions import db, mail
from ..models import OutboxEmail, OutboxStatus
from ..timeutil import utcnow


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def deliver(ids: list[int] | None = None, *, limit: int = 500) -> DeliveryReport:
    now = (current_app.config.get("CLOCK") or utcnow)()
    query = (
        select(OutboxEmail)
        .where(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OutboxEmail.id.in_(ids))
    rows = list(db.session.scalars(query))
    report = DeliveryReport()
    if not rows:
        db.session.rollback()
        return report
    with mail.connect() as conn:
        for row in rows:
            claimed = db.session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == row.id, OutboxEmail.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            if claimed.rowcount != 1:
                continue
            try:
                conn.send(Message(
                    subject=f"[{row.kind}] commande {row.data.get('order_id')}",
                    recipients=[row.to_email],
                    body=f"{row.kind}\n{row.data}",
                ))
            except Exception as exc:
                row.status = OutboxStatus.PENDING
                row.attempts += 1
                row.last_error = str(exc)[:1000]
                row.next_attempt_at = now + timedelta(minutes=2 ** row.attempts)
                report.retrying.append(row.id)
            else:
                row.status = OutboxStatus.SENT
                row.attempts += 1
                row.sent_at = now
                report.sent.append(row.id)
            db.session.commit()
    return report
