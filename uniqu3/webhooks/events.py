"""The events and `record()`, the one place that writes them.

The workflow calls `record()` for each event of an action, inside the action's transaction,
once its changes are flushed (Workflow._commit): the event and its deliveries are committed
with the action, or not at all. An action names its events with `wf._webhook(TYPE, order,
shipment)` before its `_commit()` (a parcel's edit: SHIPMENT_UPDATED; a refund:
REFUND_RECORDED). The body is the order as `GET /api/v1/orders/{reference}` shows it at that
moment, kept as the exact bytes that every try sends.

Only the endpoints that want it get a delivery: active, of the order's seller or of every
seller, and listening to this type (or to all). With no such endpoint nothing is written and
the order is not even read again: an action costs one small query more.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.orm import Session

from ..models import Order, Shipment, WebhookDelivery, WebhookEndpoint, WebhookEvent
from ..timeutil import iso_utc
from ..workflow.loading import load_order

ORDER_CREATED = "order.created"
ORDER_PAID = "order.paid"
ORDER_CANCELLED = "order.cancelled"
SHIPMENT_CREATED = "shipment.created"
SHIPMENT_UPDATED = "shipment.updated"
SHIPMENT_RECEIPT_REQUESTED = "shipment.receipt_requested"
SHIPMENT_RECEIVED = "shipment.received"
SHIPMENT_PROBLEM_REPORTED = "shipment.problem_reported"
SHIPMENT_PROBLEM_RESOLVED = "shipment.problem_resolved"
REFUND_RECORDED = "refund.recorded"

#: Every type, in the order of the spec (section 9).
EVENT_TYPES = (
    ORDER_CREATED, ORDER_PAID, ORDER_CANCELLED, SHIPMENT_CREATED, SHIPMENT_UPDATED,
    SHIPMENT_RECEIPT_REQUESTED, SHIPMENT_RECEIVED, SHIPMENT_PROBLEM_REPORTED,
    SHIPMENT_PROBLEM_RESOLVED, REFUND_RECORDED,
)

#: The language of the labels in the bodies (`status_label`…): the API's default.
BODY_LOCALE = "fr"

#: The active endpoints of a seller's orders (theirs and every seller's), built once: every
#: action asks.
_ENDPOINTS = (
    select(WebhookEndpoint.id, WebhookEndpoint.event_types)
    .where(WebhookEndpoint.active.is_(True),
           or_(WebhookEndpoint.seller_id.is_(None), WebhookEndpoint.seller_id == bindparam("seller_id")))
    .order_by(WebhookEndpoint.id)
)


def record(session: Session, type: str, order: Order, shipment: Shipment | None = None, *,
           at: datetime) -> list[int]:
    """Write the event `type` of `order` (and `shipment`, for a parcel's event) and one
    delivery per endpoint that wants it, in the caller's transaction; returns the deliveries'
    ids, to announce once committed. The caller has flushed its changes."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    endpoints = [
        endpoint_id for endpoint_id, types in session.execute(_ENDPOINTS, {"seller_id": order.seller_id})
        if not types or type in types
    ]
    if not endpoints:
        return []
    body = json.dumps({"type": type, "timestamp": iso_utc(at), "data": {"order": _snapshot(session, order)}},
                      ensure_ascii=False, separators=(",", ":"))
    events = WebhookEvent.__table__
    event_id = session.scalar(insert(events).returning(events.c.id), dict(
        message_id=f"msg_{uuid.uuid4().hex}", type=type, order_id=order.id, body=body, created_at=at,
    ))
    deliveries = WebhookDelivery.__table__
    return list(session.scalars(insert(deliveries).returning(deliveries.c.id), [
        dict(event_id=event_id, endpoint_id=endpoint_id, order_id=order.id, status="pending",
             attempts=0, next_attempt_at=at, last_error="", created_at=at)
        for endpoint_id in endpoints
    ]))


def _snapshot(session: Session, order: Order) -> dict[str, Any]:
    """The order as the API shows it, read again in this transaction (the workflow's plain
    UPDATEs are not in the objects it holds)."""
    from ..api.serialize import order_json  # the API package imports the workflow: here, not above

    fresh = load_order(session, order_id=order.id, seller=True, problems=True)
    assert fresh is not None
    return order_json(fresh, locale=BODY_LOCALE)
