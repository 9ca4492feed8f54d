"""One way to load orders: each reader says which parts it shows, and gets them in a fixed
number of queries whatever the order's size (one per part, the seller joined).

Every load reads the rows again (`populate_existing`): an order already in the session may
have been changed since by another transaction, or by the workflow's plain UPDATEs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, inspect, select
from sqlalchemy.orm import Session, joinedload, scoped_session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.interfaces import ORMOption

from ..models import Order, OrderEvent, OrderLine, Refund, Shipment, ShipmentLine, ShipmentProblem

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
    """The order with this id or reference (of this seller, if given), or None, with the parts
    asked (see `order_options`): one query per part, as `selectinload` would run them.

    Written out rather than left to `selectinload`: for one order, its per-load machinery costs
    about 250 µs a part on SQLite, three times what running the part's cached statement does."""
    criteria = {"order_id": order_id, "reference": reference, "seller_id": seller_id}
    given = {name: value for name, value in criteria.items() if value is not None}
    order: Order | None = session.scalar(_load_statement(tuple(given), parts.get("seller", False)), given)
    if order is not None:
        _load_parts(session, order, **{name: on for name, on in parts.items() if name != "seller"})
    return order


@functools.cache
def _load_statement(criteria: tuple[str, ...], seller: bool) -> Select[Order]:
    """`load_order`'s statement for these criteria (bound by name), built once: an action loads
    its order several times, and building the statement and its cache key costs more than
    SQLite's running it."""
    columns = {"order_id": Order.id, "reference": Order.reference, "seller_id": Order.seller_id}
    return select_orders(seller=seller, lines=False, shipments=False).where(
        *(columns[name] == bindparam(name) for name in criteria))


def _fresh(stmt: Select[Any]) -> Select[Any]:
    return stmt.execution_options(populate_existing=True)


_OF_ORDER: BindParameter[int] = bindparam("order_id")
#: One order's parts, each read afresh in the order its relationship states.
_PART_STATEMENTS: dict[str, Select[Any]] = {
    "lines": _fresh(select(OrderLine).where(OrderLine.order_id == _OF_ORDER).order_by(OrderLine.position)),
    "shipments": _fresh(select(Shipment).where(Shipment.order_id == _OF_ORDER).order_by(Shipment.number)),
    "events": _fresh(select(OrderEvent).where(OrderEvent.order_id == _OF_ORDER).order_by(OrderEvent.id)),
    "refunds": _fresh(select(Refund).where(Refund.order_id == _OF_ORDER).order_by(Refund.id)),
}
_PARCEL_PART_STATEMENTS: dict[str, Select[Any]] = {
    "lines": _fresh(select(ShipmentLine).join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                    .where(Shipment.order_id == _OF_ORDER).order_by(ShipmentLine.id)),
    "problems": _fresh(select(ShipmentProblem).join(Shipment, Shipment.id == ShipmentProblem.shipment_id)
                       .where(Shipment.order_id == _OF_ORDER).order_by(ShipmentProblem.id)),
}


def _load_parts(session: AnySession, order: Order, *, lines: bool = True, shipments: bool = True,
                events: bool = False, problems: bool = False, refunds: bool = False) -> None:
    """Set the order's parts asked as loaded (`order_options`' meaning of each flag). Parcels'
    own parts are read only when the order has parcels, as `selectinload` does."""
    key = {"order_id": order.id}
    wanted = {"lines": lines or shipments, "shipments": shipments, "events": events, "refunds": refunds}
    for part, on in wanted.items():
        if on:
            set_committed_value(order, part, list(session.scalars(_PART_STATEMENTS[part], key)))
    if not shipments:
        return
    parcels = order.shipments
    for part in ("lines", "problems") if problems else ("lines",):
        rows: dict[int, list[Any]] = {parcel.id: [] for parcel in parcels}
        if parcels:
            for row in session.scalars(_PARCEL_PART_STATEMENTS[part], key):
                rows.setdefault(row.shipment_id, []).append(row)
        for parcel in parcels:
            set_committed_value(parcel, part, rows[parcel.id])


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


#: The id lookups by reference (and seller, when the key is a seller's), built once each.
_ORDER_ID = select(Order.id).where(Order.reference == bindparam("reference"))
_SHIPMENT_IDS = (select(Order.id, Shipment.id).join(Shipment, Shipment.order_id == Order.id)
                 .where(Order.reference == bindparam("reference"), Shipment.number == bindparam("number")))
_LINE_IDS = (select(Order.id, OrderLine.sku, OrderLine.id)
             .outerjoin(OrderLine, OrderLine.order_id == Order.id)
             .where(Order.reference == bindparam("reference")))
_OF_SELLER = Order.seller_id == bindparam("seller_id")
_ORDER_ID_OF_SELLER, _SHIPMENT_IDS_OF_SELLER, _LINE_IDS_OF_SELLER = (
    stmt.where(_OF_SELLER) for stmt in (_ORDER_ID, _SHIPMENT_IDS, _LINE_IDS))


def order_id_of(session: AnySession, reference: str, *, seller_id: int | None = None) -> int | None:
    """The id of the order with this reference (of this seller, if given), or None."""
    stmt = _ORDER_ID if seller_id is None else _ORDER_ID_OF_SELLER
    found: int | None = session.scalar(stmt, {"reference": reference, "seller_id": seller_id})
    return found


def shipment_id_of(session: AnySession, reference: str, number: int, *,
                   seller_id: int | None = None) -> tuple[int, int] | None:
    """The ids of the order with this reference (of this seller, if given) and of its parcel
    `number`, or None."""
    stmt = _SHIPMENT_IDS if seller_id is None else _SHIPMENT_IDS_OF_SELLER
    found = session.execute(stmt, {"reference": reference, "number": number, "seller_id": seller_id}).first()
    return (found[0], found[1]) if found is not None else None


def line_ids_of(session: AnySession, reference: str, *,
                seller_id: int | None = None) -> tuple[int, dict[str, int]] | None:
    """The id of the order with this reference (of this seller, if given) and its lines' ids
    by SKU, in one query; None when there is no such order."""
    stmt = _LINE_IDS if seller_id is None else _LINE_IDS_OF_SELLER
    rows = session.execute(stmt, {"reference": reference, "seller_id": seller_id}).all()
    if not rows:
        return None
    return rows[0][0], {sku: line_id for _, sku, line_id in rows if line_id is not None}
