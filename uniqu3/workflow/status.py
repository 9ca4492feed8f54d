"""The order status: one pure function of payment, lines and shipments (spec section 2)."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import OrderStatus, ShipmentStatus


def derive_status(
    *,
    cancelled: bool,
    paid: bool,
    lines: Iterable[tuple[int, int]],
    shipment_statuses: Iterable[ShipmentStatus],
) -> OrderStatus:
    """`lines` are (ordered, shipped) quantities; `shipment_statuses` one per parcel.

    A lost parcel no longer counts: its quantities are back in what is left to ship.
    """
    if cancelled:
        return OrderStatus.CANCELLED
    if not paid:
        return OrderStatus.AWAITING_PAYMENT
    pairs = list(lines)
    shipped_units = sum(shipped for _, shipped in pairs)
    if shipped_units == 0:
        return OrderStatus.PAID
    if any(shipped < ordered for ordered, shipped in pairs):
        return OrderStatus.PARTIALLY_SHIPPED
    if all(status in (ShipmentStatus.RECEIVED, ShipmentStatus.LOST) for status in shipment_statuses):
        return OrderStatus.RECEIVED
    return OrderStatus.SHIPPED
