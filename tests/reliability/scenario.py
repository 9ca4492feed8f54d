"""Reading the database the way the checks need it: references, lines, tokens, the outbox."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from uniqu3.models import Order, OrderEvent, OrderLine, OutboxEmail, Shipment


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
