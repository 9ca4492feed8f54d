"""Outbox delivery: send the pending e-mails that are due, once each, with retries.

Contract used by the jobs and the CLI:
    deliver(ids=None, *, limit=500) -> DeliveryReport(sent, retrying, failed)
    retry(ids) / retry_failed() -> ids put back in the queue

How a row moves:
- `pending` and due -> claimed (`sending`, with this run's claim_token, and a Message-ID if
  it has none yet) by one conditional UPDATE, so two deliverers at once never both take a
  row (PostgreSQL: rows another deliverer holds are skipped, not waited for);
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

deliver() works in a database session of its own: call it after the caller's own work is
committed (the workflow's signals fire after its commit). The outcomes are written in small
batches, each in one short transaction (at most OUTCOME_BATCH messages or OUTCOME_SECONDS
apart, and when the run ends or stops on an error): no transaction stays open while the
SMTP server is talked to, and a commit per message would cost as much as the message.

Delivery is at-least-once: a worker killed after the server accepted a message but before
its outcome was written leaves the row `sending` (at most the batch not yet written); after
LEASE another run takes it again and the recipient gets it twice, with the same Message-ID
(written when the row was first claimed), which mail clients use to fold duplicates. A run
stops sending once half the lease is used, so a slow but living worker never overlaps with
the one that takes its rows over.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import ColumnElement, String, Table, and_, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from .. import services
from ..database import outcome_statement
from ..extensions import db
from ..models import EmailKind, Order, OutboxEmail, OutboxStatus
from ..workflow.loading import load_orders
from . import smtp
from .compose import InvalidAddress, Mailbox, Sender, clean_header, compose, mailbox
from .render import MissingData, RenderedEmail, render_email
from .smtp import CONNECTION_ERRORS, close_quietly

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
ERROR_LIMIT = 1000
SERVICE_NOT_AVAILABLE = 421
OUTBOX: Table = OutboxEmail.__table__
# Outcomes are written together, in one transaction, at most this many or this long apart.
OUTCOME_BATCH = 50
OUTCOME_SECONDS = 0.25


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
    keep_bodies: bool = True


class _Claimed(Protocol):
    """A claimed row, rendered (_Job) or not yet (OutboxEmail)."""

    @property
    def id(self) -> int: ...

    @property
    def attempts(self) -> int: ...


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4 … minutes, at most an hour."""
    return min(BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 16), BACKOFF_CAP)


def deliver(ids: list[int] | None = None, *, limit: int = 500) -> DeliveryReport:
    """Send the pending e-mails that are due (only `ids` when given), at most `limit` of them."""
    config = current_app.config
    now = services.now()
    report = DeliveryReport()
    sender = Sender.from_config(config.get("MAIL_DEFAULT_SENDER"), config.get("BASE_URL", ""))
    # A session of its own: the caller's (a request's, after its action) is left alone, and
    # the claim's commit does not expire the loaded rows.
    with Session(db.engine, expire_on_commit=False) as session:
        token = str(uuid.uuid4())
        rows = _claim(session, now, ids, limit, token, sender)
        if not rows:
            return report
        run = _Run(session=session, token=token, now=now, report=report,
                   max_attempts=int(config["OUTBOX_MAX_ATTEMPTS"]))
        try:
            orders = load_orders(session, (row.order_id for row in rows), seller=True)
            session.commit()  # no transaction stays open while sending
            todo = deque(rows)
            if config.get("MAIL_TO_DEV_MAILBOX"):
                while (job := _next_job(todo, orders, sender, run)) is not None:
                    run.sent(job)
            else:
                _send_all(todo, orders, config, sender, run)
        finally:
            # Also when stopped midway (a job timeout, an error): what was sent is written.
            run.write_outcomes()
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
def _claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now),
        # Left `sending` by a worker that died: taken again once its lease is over.
        and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_at < now - LEASE),
    )


def _claim(session: Session, now: datetime, ids: list[int] | None, limit: int,
           token: str, sender: Sender) -> list[OutboxEmail]:
    """Take the due rows in one UPDATE; a row gets its Message-ID now, kept for every try.

    A read first: with nothing due (a job whose rows the sweep sent, an idle sweep) nothing
    is written, and SQLite's write lock is left to the web process."""
    if ids is not None and not ids:
        return []
    pick = select(OutboxEmail.id).where(_claimable(now)).order_by(OutboxEmail.id).limit(limit)
    if ids is not None:
        pick = pick.where(OutboxEmail.id.in_(ids))
    if session.scalar(pick.limit(1)) is None:
        session.rollback()
        return []
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        # Concurrent deliverers take different rows instead of waiting on each other.
        pick = pick.with_for_update(skip_locked=True)
    message_id = func.coalesce(
        OutboxEmail.message_id,
        literal("<uq", String) + cast(OutboxEmail.id, String)
        + literal(sender.message_id_end(uuid.UUID(token).hex), String),
    )
    # The WHERE repeats the test: of two runs that read the same rows, only one wins each.
    claim = (
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(pick), _claimable(now))
        .values(status=OutboxStatus.SENDING, claim_token=token, claimed_at=now, message_id=message_id)
        .execution_options(synchronize_session=False)
    )
    if dialect.update_returning:
        rows = list(session.scalars(claim.returning(OutboxEmail)))
    else:
        session.execute(claim)
        rows = list(session.scalars(select(OutboxEmail).where(OutboxEmail.claim_token == token)))
    session.commit()
    return sorted(rows, key=lambda row: row.id)


def _requeue(which: Any) -> list[int]:
    now = services.now()
    statuses = [OutboxStatus.FAILED] if which is None else [OutboxStatus.FAILED, OutboxStatus.PENDING]
    condition: ColumnElement[bool] = OutboxEmail.status.in_(statuses)
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
class _Outcome:
    row_id: int
    values: dict[str, Any]
    report_as: str  # the DeliveryReport list it goes in, once written
    sent: bool = False


@dataclass
class _Run:
    """Writes each row's outcome, only if this run still holds its claim, in small batches."""

    session: Session
    token: str
    now: datetime
    report: DeliveryReport
    max_attempts: int
    waiting: list[_Outcome] = field(default_factory=list)
    first_waiting_at: float = 0.0

    def sent(self, job: _Job) -> None:
        self._finish(job.id, "sent", status=OutboxStatus.SENT, attempts=job.attempts + 1,
                     sent_at=services.now(), last_error="", **self._content(job))

    def attempt_failed(self, row_id: int, attempts: int, error: str, job: _Job | None = None) -> None:
        """A try that failed: retried later, or `failed` when it was the last one allowed."""
        attempts += 1
        if attempts >= self.max_attempts:
            self._give_up(row_id, attempts, error, job)
        else:
            self._finish(row_id, "retrying", status=OutboxStatus.PENDING, attempts=attempts,
                         last_error=error[:ERROR_LIMIT], next_attempt_at=self.now + backoff(attempts),
                         **(self._content(job) if job else {}))

    def failed(self, row_id: int, attempts: int, error: str, job: _Job | None = None) -> None:
        """A try that can never succeed: `failed` now."""
        self._give_up(row_id, attempts + 1, error, job)

    def _give_up(self, row_id: int, attempts: int, error: str, job: _Job | None) -> None:
        self._finish(row_id, "failed", status=OutboxStatus.FAILED, attempts=attempts,
                     last_error=error[:ERROR_LIMIT], **(self._content(job) if job else {}))
        log.error("outbox %s failed: %s", row_id, error)

    def unreachable(self, jobs: Iterable[_Claimed], error: str) -> None:
        """The server could not be used: every row waits for a later try, none is given up."""
        for job in jobs:
            attempts = job.attempts + 1
            self._finish(job.id, "retrying", status=OutboxStatus.PENDING, attempts=attempts,
                         last_error=error[:ERROR_LIMIT], next_attempt_at=self.now + backoff(attempts))

    def release(self, jobs: Iterable[_Claimed]) -> None:
        """Not tried in this run: back in the queue as they were, due now."""
        for job in jobs:
            self._finish(job.id, "", status=OutboxStatus.PENDING)

    @staticmethod
    def _content(job: _Job) -> dict[str, Any]:
        if not job.keep_bodies:
            return {"subject": job.rendered.subject[:300], "body_text": None, "body_html": None}
        return {"subject": job.rendered.subject[:300], "body_text": job.rendered.text,
                "body_html": job.rendered.html}

    def _finish(self, row_id: int, report_as: str, **values: Any) -> None:
        if not self.waiting:
            self.first_waiting_at = time.monotonic()
        self.waiting.append(_Outcome(row_id, values, report_as, sent=values["status"] == OutboxStatus.SENT))

    def outcomes_due(self) -> bool:
        """Enough outcomes wait, or the oldest has waited long enough, to be written now."""
        return bool(self.waiting) and (len(self.waiting) >= OUTCOME_BATCH
                                       or time.monotonic() - self.first_waiting_at >= OUTCOME_SECONDS)

    def write_outcomes(self) -> None:
        """Write the waiting outcomes in one transaction, where this run still holds the claim
        (a row whose lease ran out belongs to the run that took it over)."""
        if not self.waiting:
            return
        try:
            conn = self.session.connection()  # Core statements: no need for the ORM's layer
            # Read first: SQLite takes no lock for it, and one UPDATE per kind of outcome
            # (executemany) replaces one per row.
            held = set(conn.scalars(select(OutboxEmail.id).where(
                OutboxEmail.id.in_([outcome.row_id for outcome in self.waiting]),
                OutboxEmail.claim_token == self.token)))
            batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for outcome in self.waiting:
                if outcome.row_id in held:
                    batches.setdefault(tuple(outcome.values), []).append(
                        {"row_id": outcome.row_id, "token": self.token,
                         **{f"new_{name}": value for name, value in outcome.values.items()}})
            written = sum(conn.execute(outcome_statement(OUTBOX, names), rows).rowcount
                          for names, rows in batches.items())
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
        if conn.dialect.supports_sane_multi_rowcount and written != len(held):
            log.warning("outbox: %d outcome(s) not written, their rows taken over meanwhile",
                        len(held) - written)
        for outcome in self.waiting:
            if outcome.row_id in held and outcome.report_as:
                getattr(self.report, outcome.report_as).append(outcome.row_id)
            elif outcome.row_id not in held and outcome.sent:
                log.warning("outbox %s: sent, but another run had taken it over", outcome.row_id)
        self.waiting.clear()


# ----------------------------------------------------------------------------- render and send
def _next_job(todo: deque[OutboxEmail], orders: dict[int, Order], sender: Sender, run: _Run) -> _Job | None:
    """The next row of `todo` that can be rendered; one that cannot fails here."""
    while todo:
        row = todo.popleft()
        try:
            return _job(row, orders.get(row.order_id or 0), sender)
        except (MissingData, InvalidAddress) as exc:
            run.failed(row.id, row.attempts, str(exc))
        except Exception as exc:  # a template or data bug: retried, then failed
            log.exception("outbox %s: could not be rendered", row.id)
            run.attempt_failed(row.id, row.attempts, f"Rendu impossible : {exc!r}")
    return None


def _job(row: OutboxEmail, order: Order | None, sender: Sender) -> _Job:
    rendered = render_email(row, order)
    to = mailbox(row.to_name, row.to_email)
    reply_to: Mailbox | None = None
    from_name = sender.name
    if row.recipient_role == "buyer":
        assert order is not None  # render_email raised MissingData otherwise
        shop = clean_header(order.seller.shop_name, 60)
        from_name = f"{shop} via {sender.name}" if shop else sender.name
        try:
            # The buyer's answer goes to the seller.
            reply_to = mailbox(order.seller.shop_name, order.seller.notify_address)
        except InvalidAddress:
            reply_to = None
    elif row.kind == EmailKind.PROBLEM_REPORTED_SELLER and order is not None:
        try:
            # The seller answers the buyer who reported the problem.
            reply_to = mailbox(order.buyer_name, order.buyer_email)
        except InvalidAddress:
            reply_to = None
    # Given by the claim; a row read another way gets one of its own.
    message_id = row.message_id or sender.message_id(row.id, uuid.uuid4().hex)
    raw = compose(rendered, sender=sender, from_name=from_name, to=to, reply_to=reply_to,
                  message_id=message_id, date=services.now(), locale=row.locale or "fr")
    # A reset link opens the account: once sent over SMTP, its text is not kept in the database
    # (the dev mailbox, which has nothing else to show, keeps it).
    secret = row.kind == EmailKind.PASSWORD_RESET and not current_app.config.get("MAIL_TO_DEV_MAILBOX")
    return _Job(id=row.id, attempts=row.attempts, to_email=to.addr_spec, message_id=message_id,
                rendered=rendered, raw=raw, keep_bodies=not secret)


def _send_all(todo: deque[OutboxEmail], orders: dict[int, Order], config: Any, sender: Sender,
              run: _Run) -> None:
    """Render and send the rows one by one over one connection (another only if the server
    dropped it). Each message is rendered while the server takes in the one before: once a
    message is handed over, the server's answer takes as long as rendering the next one."""
    started = time.monotonic()
    hand_over = partial(_hand_over, from_addr=sender.email)
    job = _next_job(todo, orders, sender, run)
    conn: smtplib.SMTP | None = None
    answer_due = False  # stopped by an exception in between, the connection is not reused
    try:
        while job is not None:
            if time.monotonic() - started > LEASE.total_seconds() / 2:
                run.release([job, *todo])
                return
            if run.outcomes_due():
                run.write_outcomes()
            if conn is None or getattr(conn, "sock", None) is None:  # closed after a 421
                close_quietly(conn)
                conn = None
                try:
                    conn = smtp.connect(config, ehlo_name=sender.domain)
                except CONNECTION_ERRORS as exc:
                    run.unreachable([job, *todo], f"Serveur SMTP indisponible : {exc!r}")
                    return
            answer_due = True
            handed_over = _attempt(run, job, conn, hand_over)
            following = _next_job(todo, orders, sender, run)
            if handed_over and _attempt(run, job, conn, _answer):
                run.sent(job)
            answer_due = False
            job = following
    finally:
        smtp.done_with(conn, config, ehlo_name=sender.domain, reusable=not answer_due)


def _attempt(run: _Run, job: _Job, conn: smtplib.SMTP, step: Callable[[smtplib.SMTP, _Job], None]) -> bool:
    """Run one step of sending `job`; a failure is the job's outcome (False)."""
    try:
        step(conn, job)
    except smtplib.SMTPRecipientsRefused as exc:
        code = min((answer[0] for answer in exc.recipients.values()), default=550)
        _refused(run, job, code, repr(exc))
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        _refused(run, job, exc.smtp_code, repr(exc))
    except CONNECTION_ERRORS as exc:
        # The connection broke while sending: this message counts a try (it may even have
        # arrived: at-least-once), the next ones go over a new connection.
        run.attempt_failed(job.id, job.attempts, f"Envoi interrompu : {exc!r}", job)
        close_quietly(conn)
    except Exception as exc:  # this message could not be sent; the connection is fine
        log.exception("outbox %s: not sent", job.id)
        run.attempt_failed(job.id, job.attempts, f"Envoi impossible : {exc!r}", job)
        _abandon(conn, 0)  # whatever this message's transaction had begun
    else:
        return True
    return False


def _hand_over(conn: smtplib.SMTP, job: _Job, *, from_addr: str) -> None:
    """`SMTP.sendmail` up to the end of the message (MAIL, RCPT, DATA, the message) with the
    same errors; the server's answer to the message is read by `_answer`."""
    options = f" SIZE={len(job.raw)}" if conn.does_esmtp and conn.has_extn("size") else ""
    code, reply = _command(conn, "mail", f"FROM:{_quoted_address(from_addr)}{options}")
    if code != 250:
        _abandon(conn, code)
        raise smtplib.SMTPSenderRefused(code, reply, from_addr)
    # The address was checked (compose.mailbox): ASCII, nothing to quote.
    code, reply = _command(conn, "rcpt", f"TO:<{job.to_email}>")
    if code not in (250, 251):
        _abandon(conn, code)
        raise smtplib.SMTPRecipientsRefused({job.to_email: (code, reply)})
    code, reply = _command(conn, "data")
    if code != 354:
        _abandon(conn, code)
        raise smtplib.SMTPDataError(code, reply)
    # A line starting with a dot gets another (RFC 5321 4.5.2; the first line is a header);
    # the message ends with CRLF.
    conn.send(job.raw.replace(b"\r\n.", b"\r\n..") + b".\r\n")


def _answer(conn: smtplib.SMTP, job: _Job) -> None:
    """The server's answer to the message `_hand_over` sent."""
    code, reply = conn.getreply()
    if code != 250:
        _abandon(conn, code)
        raise smtplib.SMTPDataError(code, reply)


def _command(conn: smtplib.SMTP, name: str, args: str = "") -> tuple[int, bytes]:
    conn.putcmd(name, args)
    return conn.getreply()


@lru_cache(maxsize=64)
def _quoted_address(address: str) -> str:
    return smtplib.quoteaddr(address)


def _abandon(conn: smtplib.SMTP, code: int) -> None:
    """After a refusal: a 421 closes the connection (as smtplib does), anything else resets the
    transaction for the next message."""
    if code == SERVICE_NOT_AVAILABLE:
        conn.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        conn.rset()


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
