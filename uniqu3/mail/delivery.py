"""Outbox delivery: send the pending e-mails that are due, once each, with retries.

Contract used by the jobs and the CLI:
    deliver(ids=None, *, limit=500) -> DeliveryReport(sent, retrying, failed)
    retry(ids) / retry_failed() -> ids put back in the queue

How a row moves:
- `pending` and due -> claimed (`sending`, with this run's claim_token) by one conditional
  UPDATE, so two deliverers at once never both take a row;
- rendered from the database now, sent over ONE SMTP connection for the batch (or, with
  MAIL_TO_DEV_MAILBOX, only stored for the dev mailbox) -> `sent`, with the rendered
  subject, bodies and Message-ID kept on the row;
- the server refused it for a while (4xx), the connection broke while sending, or it could
  not be rendered -> back to `pending` with attempts + 1, the error and a later try
  (exponential backoff with a cap); after OUTBOX_MAX_ATTEMPTS -> `failed`;
- the server refused it for good (5xx), the address is malformed, or the order is gone
  -> `failed` at once (retrying cannot help; `flask admin outbox` shows it);
- the server cannot be reached at all (refused, timeout, login) or answers 421 (service not
  available): back to `pending` with a later try, never `failed`: an SMTP outage delays
  e-mails, it never drops them.

deliver() works in a database session of its own and commits after each message: call it
after the caller's own work is committed (the workflow's signals fire after its commit).

Delivery is at-least-once: a worker killed after the server accepted a message but before
the row was marked `sent` leaves it `sending`; after LEASE another run takes it again and
the recipient gets it twice (with the same Message-ID, which mail clients use to fold
duplicates). A run stops sending once half the lease is used, so a slow but living worker
never overlaps with the one that takes its rows over.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Order, OutboxEmail, OutboxStatus
from ..timeutil import utcnow
from .compose import InvalidAddress, Sender, build_message, clean_header, mailbox, wire_bytes
from .render import MissingData, RenderedEmail, load_orders, render_email
from .smtp import CONNECTION_ERRORS, close_quietly, open_connection

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
ERROR_LIMIT = 1000
SERVICE_NOT_AVAILABLE = 421


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@dataclass
class _Job:
    """One claimed row, rendered: plain values only, so commits cannot expire them."""

    id: int
    attempts: int
    to_email: str
    message_id: str
    rendered: RenderedEmail
    raw: bytes


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4 … minutes, at most an hour."""
    return min(BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 16), BACKOFF_CAP)


def deliver(ids: list[int] | None = None, *, limit: int = 500) -> DeliveryReport:
    """Send the pending e-mails that are due (only `ids` when given), at most `limit` of them."""
    config = current_app.config
    now = _now()
    report = DeliveryReport()
    # A session of its own: the caller's (a request's, after its action) is left alone, and a
    # commit after each message does not expire a batch's worth of loaded objects.
    with Session(db.engine, expire_on_commit=False) as session:
        token = str(uuid.uuid4())
        rows = _claim(session, now, ids, limit, token)
        if not rows:
            return report
        sender = Sender.from_config(config.get("MAIL_DEFAULT_SENDER"), config.get("BASE_URL", ""))
        run = _Run(session=session, token=token, now=now, report=report,
                   max_attempts=int(config["OUTBOX_MAX_ATTEMPTS"]))
        jobs = _prepare(rows, sender, run)
        session.expunge_all()  # the jobs hold plain values from here on
        if not jobs:
            return report
        if config.get("MAIL_TO_DEV_MAILBOX"):
            for job in jobs:
                run.sent(job)
        else:
            _send_batch(jobs, config, sender, run)
    return report


def retry(ids: list[int]) -> list[int]:
    """Put failed (or waiting) e-mails back in the queue, due now; returns the ids concerned.

    Attempts start again from zero, so a retried e-mail gets the full number of tries;
    the last error stays visible until the next attempt. Sent e-mails are never re-sent.
    """
    if not ids:
        return []
    return _requeue(OutboxEmail.id.in_(ids))


def retry_failed() -> list[int]:
    """Every failed e-mail back in the queue (see `retry`)."""
    return _requeue(None)


# ----------------------------------------------------------------------------- claim
def _now() -> datetime:
    return (current_app.config.get("CLOCK") or utcnow)()


def _claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now),
        # Left `sending` by a worker that died: taken again once its lease is over.
        and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_at < now - LEASE),
    )


def _claim(session: Session, now: datetime, ids: list[int] | None, limit: int,
           token: str) -> list[OutboxEmail]:
    pick = select(OutboxEmail.id).where(_claimable(now)).order_by(OutboxEmail.id).limit(limit)
    if ids is not None:
        if not ids:
            return []
        pick = pick.where(OutboxEmail.id.in_(ids))
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent deliverers take different rows instead of waiting on each other.
        pick = pick.with_for_update(skip_locked=True)
    candidates = list(session.scalars(pick))
    if not candidates:
        session.rollback()
        return []
    # The WHERE repeats the test: of two runs that read the same rows, only one wins each.
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(candidates), _claimable(now))
        .values(status=OutboxStatus.SENDING, claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.id.in_(candidates), OutboxEmail.claim_token == token)
        .order_by(OutboxEmail.id)
        .execution_options(populate_existing=True)
    ))


def _requeue(which: Any) -> list[int]:
    now = _now()
    statuses = [OutboxStatus.FAILED] if which is None else [OutboxStatus.FAILED, OutboxStatus.PENDING]
    condition = OutboxEmail.status.in_(statuses)
    if which is not None:
        condition = and_(condition, which)
    with Session(db.engine) as session, session.begin():
        chosen = list(session.scalars(select(OutboxEmail.id).where(condition).order_by(OutboxEmail.id)))
        if chosen:
            session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id.in_(chosen), OutboxEmail.status.in_(statuses))
                .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now,
                        claim_token=None, claimed_at=None)
                .execution_options(synchronize_session=False)
            )
    return chosen


# ----------------------------------------------------------------------------- outcome
@dataclass
class _Run:
    """Writes each row's outcome, only if this run still holds its claim."""

    session: Session
    token: str
    now: datetime
    report: DeliveryReport
    max_attempts: int

    def sent(self, job: _Job) -> None:
        if self._finish(job.id, status=OutboxStatus.SENT, attempts=job.attempts + 1, sent_at=_now(),
                        last_error="", **self._content(job)):
            self.report.sent.append(job.id)
        else:
            log.warning("outbox %s: sent, but another run had taken it over", job.id)

    def attempt_failed(self, row_id: int, attempts: int, error: str, job: _Job | None = None) -> None:
        """A try that failed: retried later, or `failed` when it was the last one allowed."""
        attempts += 1
        if attempts >= self.max_attempts:
            self._give_up(row_id, attempts, error, job)
        elif self._finish(row_id, status=OutboxStatus.PENDING, attempts=attempts,
                          last_error=error[:ERROR_LIMIT], next_attempt_at=self.now + backoff(attempts),
                          **(self._content(job) if job else {})):
            self.report.retrying.append(row_id)

    def failed(self, row_id: int, attempts: int, error: str, job: _Job | None = None) -> None:
        """A try that can never succeed: `failed` now."""
        self._give_up(row_id, attempts + 1, error, job)

    def _give_up(self, row_id: int, attempts: int, error: str, job: _Job | None) -> None:
        if self._finish(row_id, status=OutboxStatus.FAILED, attempts=attempts, last_error=error[:ERROR_LIMIT],
                        **(self._content(job) if job else {})):
            self.report.failed.append(row_id)
        log.error("outbox %s failed: %s", row_id, error)

    def unreachable(self, jobs: list[_Job], error: str) -> None:
        """The server could not be used: every job waits for a later try, none is given up."""
        for job in jobs:
            attempts = job.attempts + 1
            if self._finish(job.id, status=OutboxStatus.PENDING, attempts=attempts,
                            last_error=error[:ERROR_LIMIT], next_attempt_at=self.now + backoff(attempts),
                            message_id=job.message_id, commit=False):
                self.report.retrying.append(job.id)
        self.session.commit()

    def release(self, jobs: list[_Job]) -> None:
        """Not tried in this run: back in the queue as they were, due now."""
        for job in jobs:
            self._finish(job.id, status=OutboxStatus.PENDING, commit=False)
        self.session.commit()

    @staticmethod
    def _content(job: _Job) -> dict[str, Any]:
        return {"message_id": job.message_id, "subject": job.rendered.subject[:300],
                "body_text": job.rendered.text, "body_html": job.rendered.html}

    def _finish(self, row_id: int, *, commit: bool = True, **values: Any) -> bool:
        result = self.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == row_id, OutboxEmail.claim_token == self.token)
            .values(claim_token=None, **values)
            .execution_options(synchronize_session=False)
        )
        if commit:
            self.session.commit()
        return bool(result.rowcount == 1)


# ----------------------------------------------------------------------------- prepare and send
def _prepare(rows: list[OutboxEmail], sender: Sender, run: _Run) -> list[_Job]:
    """Render every claimed row before the first commit (which would expire the loaded orders)."""
    orders = load_orders((row.order_id for row in rows), run.session)
    jobs: list[_Job] = []
    problems: list[tuple[int, int, str, bool]] = []  # row id, attempts, error, permanent
    for row in rows:
        try:
            jobs.append(_job(row, orders.get(row.order_id or 0), sender))
        except (MissingData, InvalidAddress) as exc:
            problems.append((row.id, row.attempts, str(exc), True))
        except Exception as exc:  # a template or data bug: retried, then failed
            log.exception("outbox %s: could not be rendered", row.id)
            problems.append((row.id, row.attempts, f"Rendu impossible : {exc!r}", False))
    for row_id, attempts, error, permanent in problems:
        if permanent:
            run.failed(row_id, attempts, error)
        else:
            run.attempt_failed(row_id, attempts, error)
    return jobs


def _job(row: OutboxEmail, order: Order | None, sender: Sender) -> _Job:
    rendered = render_email(row, order)
    assert order is not None  # render_email raised MissingData otherwise
    to = mailbox(row.to_name, row.to_email)
    reply_to: Address | None = None
    from_name = sender.name
    if row.recipient_role == "buyer":
        shop = clean_header(order.seller.shop_name, 60)
        from_name = f"{shop} via {sender.name}" if shop else sender.name
        try:
            # The buyer's answer goes to the seller.
            reply_to = mailbox(order.seller.shop_name, order.seller.notify_address)
        except InvalidAddress:
            reply_to = None
    message_id = row.message_id or sender.new_message_id(row.id)
    with force_locale(row.locale or "fr"):
        message = build_message(rendered, sender=sender, from_name=from_name, to=to, reply_to=reply_to,
                                message_id=message_id, date=_now(), locale=row.locale or "fr")
    # Serialised now: an address that cannot be encoded fails here, for this row alone.
    try:
        raw = wire_bytes(message)
    except (ValueError, UnicodeError) as exc:
        raise InvalidAddress(f"Message impossible à encoder : {exc}") from exc
    return _Job(id=row.id, attempts=row.attempts, to_email=to.addr_spec, message_id=message_id,
                rendered=rendered, raw=raw)


def _send_batch(jobs: list[_Job], config: Any, sender: Sender, run: _Run) -> None:
    """Send over one connection; open another only if the server dropped this one."""
    started = time.monotonic()
    waiting = list(jobs)
    conn: smtplib.SMTP | None = None
    try:
        while waiting:
            if time.monotonic() - started > LEASE.total_seconds() / 2:
                run.release(waiting)
                return
            if conn is None or getattr(conn, "sock", None) is None:  # smtplib closes it on a 421
                close_quietly(conn)
                conn = None
                try:
                    conn = open_connection(config, ehlo_name=sender.domain)
                except CONNECTION_ERRORS as exc:
                    run.unreachable(waiting, f"Serveur SMTP indisponible : {exc!r}")
                    return
            job = waiting.pop(0)
            try:
                conn.sendmail(sender.email, [job.to_email], job.raw)
            except smtplib.SMTPRecipientsRefused as exc:
                code = min((answer[0] for answer in exc.recipients.values()), default=550)
                _refused(run, job, code, repr(exc))
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                _refused(run, job, exc.smtp_code, repr(exc))
            except CONNECTION_ERRORS as exc:
                # The connection broke while sending: this message counts a try (it may even
                # have arrived: at-least-once), the next ones go over a new connection.
                run.attempt_failed(job.id, job.attempts, f"Envoi interrompu : {exc!r}", job)
                close_quietly(conn)
                conn = None
            except Exception as exc:  # this message could not be sent; the connection is fine
                log.exception("outbox %s: not sent", job.id)
                run.attempt_failed(job.id, job.attempts, f"Envoi impossible : {exc!r}", job)
            else:
                run.sent(job)
    finally:
        close_quietly(conn)


def _refused(run: _Run, job: _Job, code: int, error: str) -> None:
    """The server answered about this message: 5xx for good, 4xx for now.

    421 is the server closing the channel (shutting down, overloaded): an outage, not an
    answer about this message, so however long it lasts it never makes the e-mail `failed`.
    """
    if code == SERVICE_NOT_AVAILABLE:
        run.unreachable([job], f"Serveur SMTP indisponible : {error}")
    elif code >= 500:
        run.failed(job.id, job.attempts, f"Refusé par le serveur SMTP : {error}", job)
    else:
        run.attempt_failed(job.id, job.attempts, f"Refusé temporairement : {error}", job)
