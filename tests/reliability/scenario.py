"""Reading the database the way the checks need it: references, lines, tokens, the outbox."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.conftest import order_input, ship_all
from uniqu3.models import Order, OrderEvent, OrderLine, OutboxEmail, OutboxStatus, Shipment
from uniqu3.workflow import Actor, Workflow, signals


def lines_of(session: Session, reference: str) -> dict[int, int]:
    """{order line id: quantity still to ship} of an order."""
    rows = session.execute(
        select(OrderLine.id, OrderLine.quantity - OrderLine.shipped_quantity)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.reference == reference)
        .order_by(OrderLine.position)
    ).all()
    return {line_id: left for line_id, left in rows}


def references(session: Session) -> list[str]:
    return list(session.scalars(select(Order.reference).order_by(Order.id)))


def shipment_ids(session: Session, reference: str) -> list[int]:
    return list(session.scalars(
        select(Shipment.id).join(Order, Order.id == Shipment.order_id)
        .where(Order.reference == reference).order_by(Shipment.number)
    ))


def outbox_rows(session: Session) -> list[OutboxEmail]:
    session.expire_all()
    return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def outbox_statuses(session: Session) -> Counter[str]:
    return Counter(dict(session.execute(
        select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all()))


def events(session: Session, kind: str) -> int:
    return int(session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == kind))
               or 0)


def server_errors(answers: list[Any]) -> list[tuple[int, str]]:
    return [(a.status, a.body[:200]) for a in answers if a.status >= 500]


def awaiting_parcels(wf: Workflow, seller_email: str, count: int, prefix: str) -> list[int]:
    """`count` orders paid, handed over whole in one parcel each and awaiting receipt: the
    parcels' ids."""
    actor = Actor.seller(seller_email)
    parcels: list[int] = []
    for i in range(count):
        order = wf.place_order(order_input(seller_email, f"{prefix}-{i}"), actor=Actor.api("shop")).order
        wf.confirm_payment(order.id, actor=actor)
        shipment = ship_all(wf, order, actor=actor, carrier="hand_delivery", tracking_number="")
        wf.request_receipt(shipment.id, actor=actor)
        parcels.append(shipment.id)
    return parcels


def overdue_parcels(wf: Workflow, seller_email: str, count: int, prefix: str) -> list[int]:
    """`count` orders paid, shipped in one parcel each and awaiting receipt, their 7 days over
    (real clock) and their e-mails so far sent: what a sweep finds after a quiet week.
    No job is queued for them (signals muted): the sweep is what the test runs."""
    with signals.emails_queued.muted(), signals.receipt_requested.muted():
        parcels = awaiting_parcels(wf, seller_email, count, prefix)
    session = wf.session
    session.execute(update(Shipment).where(Shipment.id.in_(parcels))
                    .values(receipt_due_at=datetime.now(UTC) - timedelta(minutes=1)))
    session.execute(update(OutboxEmail).values(status=OutboxStatus.SENT))
    session.commit()
    return parcels
