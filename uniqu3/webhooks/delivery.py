"""The webhook outbox: deliver each event to each endpoint, in order, once, with retries.

Contract used by the jobs, the sweep and the CLI:
    deliver(ids=None, *, limit=500) -> WebhookReport(delivered, retrying, failed)
    retry(ids) -> ids put back in line

How a delivery moves:
- `pending`, due, its endpoint active, and no earlier delivery of the same order to the same
  endpoint still waiting -> claimed (`sending`, this run's token) by one conditional UPDATE;
  so an endpoint receives one order's events in the order they happened, and two deliverers
  never take the same row;
- POSTed with the event's stored body and `webhook-id` (the same on every try), signed for
  this try -> `delivered` on 2xx;
- 410 Gone: the receiver wants no more: the endpoint is turned off, its waiting deliveries
  `failed`;
- no answer in WEBHOOK_TIMEOUT, no connection, or any other status (a redirect included: they
  are not followed) -> back to `pending`, next try after RETRY_SCHEDULE (5 s … 10 h, about
  27 h in all), then `failed` (`flask admin webhook-deliveries --retry ID`);
- a URL that may not be called (http, or a private address, in production) -> `failed`;
  a host that does not resolve is tried again like a connection error.

deliver() works in a session of its own, after the action's commit. The outcomes are written
in small batches (at most OUTCOME_BATCH or OUTCOME_SECONDS apart, and when a claim is done),
each in one short transaction, never while a receiver is being waited on. Delivery is
at-least-once: a deliverer stopped after the receiver answered but before the outcome was
written leaves the row `sending`; after LEASE another run sends it again, with the same
`webhook-id`, which receivers use to drop the repeat (Standard Webhooks). A run stops taking
rows once half the lease is used, so a slow run never overlaps the one that takes over.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Table, and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from .. import services
from ..database import outcome_statement
from ..extensions import db
from ..models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEvent
from . import sending
from .addresses import Target, UnsafeUrl, resolve

log = logging.getLogger(__name__)

PENDING, SENDING = WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.SENDING
DELIVERED, FAILED = WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.FAILED
LEASE = timedelta(minutes=10)
#: The wait after each failed try (Standard Webhooks' suggestion): the 8th and last try comes
#: about 27 h 35 min after the first.
RETRY_SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                  timedelta(hours=5), timedelta(hours=10), timedelta(hours=10))
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
GONE = 410
ERROR_LIMIT = 1000
OUTCOME_BATCH = 50
OUTCOME_SECONDS = 0.25
DELIVERIES: Table = WebhookDelivery.__table__


@dataclass
class WebhookReport:
    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.delivered) + len(self.retrying) + len(self.failed)


@dataclass
class _Claimed:
    """One claimed delivery with what sending it needs: plain values, commits cannot expire them."""

    id: int
    attempts: int
    endpoint_id: int
    order_id: int
    url: str
    secret: str
    message_id: str
    body: bytes


def retry_wait(attempts: int) -> timedelta | None:
    """The wait before the next try after `attempts` failed ones; None: no more tries."""
    return RETRY_SCHEDULE[attempts - 1] if 1 <= attempts <= len(RETRY_SCHEDULE) else None


def deliver(ids: list[int] | None = None, *, limit: int = 500) -> WebhookReport:
    """Deliver what is due (among `ids` when given, and what each delivered row made the next
    in line), at most `limit` rows."""
    config = current_app.config
    report = WebhookReport()
    started = time.monotonic()
    connections = sending.Connections()
    follow: set[tuple[int, int]] = set()  # (endpoint, order) whose next event may now go
    try:
        with Session(db.engine, expire_on_commit=False) as session:
            while report.handled < limit and time.monotonic() - started < LEASE.total_seconds() / 2:
                token = str(uuid.uuid4())
                rows = _claim(session, services.now(), ids, follow, limit - report.handled, token)
                if not rows:
                    break
                outcomes = _Outcomes(session, token, report)
                try:
                    for index, row in enumerate(rows):
                        if time.monotonic() - started > LEASE.total_seconds() / 2:
                            outcomes.release(rows[index:])
                            return report
                        _send(row, config, connections, outcomes)
                        if outcomes.due():
                            outcomes.write()
                finally:
                    # Also when stopped midway: what was sent is written.
                    delivered = outcomes.write()
                if not delivered:
                    break
                follow.update((row.endpoint_id, row.order_id) for row in rows if row.id in delivered)
    finally:
        connections.close()
    return report


def retry(ids: list[int], *, now: datetime) -> list[int]:
    """Put these deliveries back in line (failed or waiting: due now, tries from zero), and
    turn their endpoints back on. Returns the ids concerned; delivered ones are left alone."""
    if not ids:
        return []
    with Session(db.engine) as session, session.begin():
        chosen = list(session.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.id.in_(ids), WebhookDelivery.status.in_([FAILED, PENDING]))
            .order_by(WebhookDelivery.id)))
        if chosen:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(chosen), WebhookDelivery.status.in_([FAILED, PENDING]))
                .values(status=PENDING, attempts=0, next_attempt_at=now, claim_token=None, claimed_at=None)
                .execution_options(synchronize_session=False))
            session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id.in_(select(WebhookDelivery.endpoint_id)
                                              .where(WebhookDelivery.id.in_(chosen))),
                       WebhookEndpoint.active.is_(False))
                .values(active=True, disabled_at=None, disabled_reason="")
                .execution_options(synchronize_session=False))
    return chosen


# ----------------------------------------------------------------------------- claim
def _claimable(now: datetime) -> Any:
    earlier = aliased(WebhookDelivery)
    return and_(
        or_(
            and_(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now),
            # Left `sending` by a deliverer that stopped: taken again once its lease is over.
            and_(WebhookDelivery.status == SENDING, WebhookDelivery.claimed_at < now - LEASE),
        ),
        WebhookDelivery.endpoint_id.in_(select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))),
        # The endpoint's earlier events of this order go first.
        ~exists().where(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                        earlier.order_id == WebhookDelivery.order_id,
                        earlier.id < WebhookDelivery.id,
                        earlier.status.in_([PENDING, SENDING])),
    )


def _claim(session: Session, now: datetime, ids: list[int] | None, follow: set[tuple[int, int]],
           limit: int, token: str) -> list[_Claimed]:
    """Take the due rows in one UPDATE (a read first: with nothing due nothing is written)."""
    if ids is not None and not ids:
        return []
    pick = select(WebhookDelivery.id).where(_claimable(now)).order_by(WebhookDelivery.id).limit(limit)
    if ids is not None:
        wanted: Any = WebhookDelivery.id.in_(ids)
        if follow:
            wanted = or_(wanted, *(and_(WebhookDelivery.endpoint_id == endpoint_id,
                                        WebhookDelivery.order_id == order_id)
                                   for endpoint_id, order_id in sorted(follow)))
        pick = pick.where(wanted)
    if session.scalar(pick.limit(1)) is None:
        session.rollback()
        return []
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(pick), _claimable(now))
        .values(status=SENDING, claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False))
    rows = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookDelivery.endpoint_id,
               WebhookDelivery.order_id, WebhookEndpoint.url, WebhookEndpoint.secret,
               WebhookEvent.message_id, WebhookEvent.body)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.claim_token == token)
        .order_by(WebhookDelivery.id)).all()
    session.commit()
    return [_Claimed(id=r.id, attempts=r.attempts, endpoint_id=r.endpoint_id, order_id=r.order_id,
                     url=r.url, secret=r.secret, message_id=r.message_id, body=r.body.encode("utf-8"))
            for r in rows]


# ----------------------------------------------------------------------------- send
def _send(row: _Claimed, config: Any, connections: sending.Connections, outcomes: _Outcomes) -> None:
    """Try one delivery; its outcome waits in `outcomes`."""
    allow_private = bool(config["WEBHOOK_ALLOW_PRIVATE"])
    status: int | None = None
    try:
        target: Target = resolve(row.url, allow_private=allow_private)
        answer = sending.post(connections, target, secret=row.secret, message_id=row.message_id,
                              body=row.body, timeout=float(config["WEBHOOK_TIMEOUT"]))
    except UnsafeUrl as exc:
        if exc.permanent:
            outcomes.add(row, FAILED, error=f"Adresse refusée : {exc}")
            return
        error = f"Adresse injoignable : {exc}"
    except Exception as exc:  # timeout, refused, reset, TLS: the receiver could not be reached
        error = f"Pas de réponse : {exc!r}"
    else:
        status = answer.status
        if 200 <= status < 300:
            outcomes.add(row, DELIVERED, status=status)
            return
        if status == GONE:
            outcomes.add(row, FAILED, status=status,
                         error=f"410 Gone : le destinataire ne veut plus de ces événements. {answer.text}")
            outcomes.write()
            _turn_off(outcomes.session, row.endpoint_id, "410 Gone")
            return
        error = f"Réponse {status} : {answer.text}"
    wait = retry_wait(row.attempts + 1)
    if wait is None:
        outcomes.add(row, FAILED, status=status, error=error)
    else:
        outcomes.add(row, PENDING, status=status, error=error, next_attempt_at=services.now() + wait)


@dataclass
class _Outcomes:
    """The outcomes of one claim, written together (at most OUTCOME_BATCH or OUTCOME_SECONDS
    apart), only where this run still holds the row: a commit per delivery would cost as much
    as the request itself."""

    session: Session
    token: str
    report: WebhookReport
    waiting: list[tuple[int, WebhookDeliveryStatus, dict[str, Any]]] = field(default_factory=list)
    first_at: float = 0.0

    def add(self, row: _Claimed, outcome: WebhookDeliveryStatus, *, status: int | None = None,
            error: str = "", next_attempt_at: datetime | None = None) -> None:
        now = services.now()
        values: dict[str, Any] = dict(status=outcome, attempts=row.attempts + 1, last_status_code=status,
                                      last_error=error[:ERROR_LIMIT], last_attempt_at=now)
        if outcome == DELIVERED:
            values["delivered_at"] = now
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if not self.waiting:
            self.first_at = time.monotonic()
        self.waiting.append((row.id, outcome, values))

    def due(self) -> bool:
        return bool(self.waiting) and (len(self.waiting) >= OUTCOME_BATCH
                                       or time.monotonic() - self.first_at >= OUTCOME_SECONDS)

    def write(self) -> set[int]:
        """Write what waits, in one transaction; returns the ids written as delivered."""
        if not self.waiting:
            return set()
        waiting, self.waiting = self.waiting, []
        try:
            conn = self.session.connection()
            held = set(conn.scalars(select(WebhookDelivery.id).where(
                WebhookDelivery.id.in_([row_id for row_id, _, _ in waiting]),
                WebhookDelivery.claim_token == self.token)))
            batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row_id, _, values in waiting:
                if row_id in held:
                    batches.setdefault(tuple(values), []).append(
                        {"row_id": row_id, "token": self.token,
                         **{f"new_{name}": value for name, value in values.items()}})
            for names, params in batches.items():
                conn.execute(outcome_statement(DELIVERIES, names), params)
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
        delivered: set[int] = set()
        for row_id, outcome, values in waiting:
            if row_id not in held:
                log.warning("webhook delivery %s: outcome not written, another run had taken it over", row_id)
            elif outcome == DELIVERED:
                self.report.delivered.append(row_id)
                delivered.add(row_id)
            elif outcome == FAILED:
                self.report.failed.append(row_id)
                log.error("webhook delivery %s failed: %s", row_id, values["last_error"])
            else:
                self.report.retrying.append(row_id)
        return delivered

    def release(self, rows: list[_Claimed]) -> None:
        """Not tried in this run: back in line as they were, due now."""
        self.write()
        self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([row.id for row in rows]),
                   WebhookDelivery.claim_token == self.token)
            .values(status=PENDING, claim_token=None, claimed_at=None)
            .execution_options(synchronize_session=False))
        self.session.commit()


def _turn_off(session: Session, endpoint_id: int, reason: str) -> None:
    """The receiver answered 410: no more deliveries to it; those waiting are given up."""
    now = services.now()
    session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.active.is_(True))
        .values(active=False, disabled_at=now, disabled_reason=reason)
        .execution_options(synchronize_session=False))
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == PENDING)
        .values(status=FAILED, last_error="Point de réception désactivé (410 Gone).")
        .execution_options(synchronize_session=False))
    session.commit()
    log.warning("webhook endpoint %s turned off: %s", endpoint_id, reason)
