"""The order status: one pure function of payment, lines and shipments (spec section 2)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..models import OrderStatus, ShipmentStatus


def derive_status(
    *,
    cancelled: bool,
    paid: bool,
    lines: Iterable[Sequence[int]],
    shipment_statuses: Iterable[ShipmentStatus],
) -> OrderStatus:
    """`lines` are (ordered, shipped) or (ordered, shipped, closed) quantities;
    `shipment_statuses` one per parcel.

    A lost parcel no longer counts: its quantities are back in what is left to ship. Closed
    quantities (« Clore le reste ») will never ship: a line is done once shipped + closed
    reach what was ordered, and an order whose every unit is closed, none shipped, is
    cancelled.
    """
    if cancelled:
        return OrderStatus.CANCELLED
    if not paid:
        return OrderStatus.AWAITING_PAYMENT
    triples = [(line[0], line[1], line[2] if len(line) > 2 else 0) for line in lines]
    shipped_units = sum(shipped for _, shipped, _ in triples)
    if shipped_units == 0:
        if triples and all(closed >= ordered for ordered, _, closed in triples):
            return OrderStatus.CANCELLED
        return OrderStatus.PAID
    if any(shipped + closed < ordered for ordered, shipped, closed in triples):
        return OrderStatus.PARTIALLY_SHIPPED
    if all(status in (ShipmentStatus.RECEIVED, ShipmentStatus.LOST) for status in shipment_statuses):
        return OrderStatus.RECEIVED
    return OrderStatus.SHIPPED
