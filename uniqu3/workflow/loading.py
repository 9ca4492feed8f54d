"""One way to load orders: each reader says which parts it shows, and gets them in a fixed
number of queries whatever the order's size (one per part, the seller joined).

Every load reads the rows again (`populate_existing`): an order already in the session may
have been changed since by another transaction, or by the workflow's plain UPDATEs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import Session, joinedload, scoped_session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.interfaces import ORMOption

from ..models import Order, Refund, Shipment

AnySession = Session | scoped_session[Any]


def order_options(*, seller: bool = False, lines: bool = True, shipments: bool = True,
                  events: bool = False, problems: bool = False, refunds: bool = False) -> list[ORMOption]:
    """The loader options for the parts asked. Parcels bring the order's lines too: a parcel's
    items name them (`Shipment.items`). `problems`: the buyer's reports of each parcel;
    `refunds`: the refunds recorded."""
    options: list[ORMOption] = []
    if seller:
        options.append(joinedload(Order.seller))
    if lines or shipments:
        options.append(selectinload(Order.lines))
    if shipments:
        options.append(selectinload(Order.shipments).selectinload(Shipment.lines))
    if shipments and problems:
        options.append(selectinload(Order.shipments).selectinload(Shipment.problems))
    if events:
        options.append(selectinload(Order.events))
    if refunds:
        options.append(selectinload(Order.refunds))
    return options


def select_orders(**parts: bool) -> Select[Order]:
    """`SELECT orders` with the parts asked (see `order_options`), read afresh."""
    return select(Order).options(*order_options(**parts)).execution_options(populate_existing=True)


def load_order(session: AnySession, *, order_id: int | None = None, reference: str | None = None,
               seller_id: int | None = None, **parts: bool) -> Order | None:
    """The order with this id or reference (of this seller, if given), or None."""
    stmt = select_orders(**parts)
    if order_id is not None:
        stmt = stmt.where(Order.id == order_id)
    if reference is not None:
        stmt = stmt.where(Order.reference == reference)
    if seller_id is not None:
        stmt = stmt.where(Order.seller_id == seller_id)
    result: Order | None = session.scalar(stmt)
    return result


def load_orders(session: AnySession, order_ids: Iterable[int | None], **parts: bool) -> dict[int, Order]:
    """Several orders by id (None and unknown ids left out), in as many queries as one."""
    wanted = {i for i in order_ids if i is not None}
    if not wanted:
        return {}
    return {order.id: order for order in session.scalars(select_orders(**parts).where(Order.id.in_(wanted)))}


def loaded_refunds(session: AnySession, order: Order) -> list[Refund]:
    """The order's refunds: as loaded with it (`refunds=True`), or read now (one query)."""
    if "refunds" in inspect(order).dict:
        return list(order.refunds)
    return list(session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)))


def load_new_order(session: AnySession, order_id: int) -> Order:
    """An order just placed, with its seller and lines, in one query: it has no parcel nor
    history to read yet beyond what the caller knows."""
    stmt = (select(Order).where(Order.id == order_id)
            .options(joinedload(Order.seller), joinedload(Order.lines))
            .execution_options(populate_existing=True))
    order: Order = session.scalars(stmt).unique().one()
    set_committed_value(order, "shipments", [])
    set_committed_value(order, "refunds", [])
    return order
