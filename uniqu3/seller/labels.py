"""Translatable labels for statuses and carriers (French msgids)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ..models import OrderStatus, ShipmentStatus

STATUS_LABELS: dict[str, Any] = {
    OrderStatus.AWAITING_PAYMENT: _l("En attente de paiement"),
    OrderStatus.PAID: _l("Payée"),
    OrderStatus.PARTIALLY_SHIPPED: _l("Partiellement expédiée"),
    OrderStatus.SHIPPED: _l("Expédiée"),
    OrderStatus.RECEIVED: _l("Reçue"),
    OrderStatus.CANCELLED: _l("Annulée"),
}

SHIPMENT_LABELS: dict[str, Any] = {
    ShipmentStatus.SHIPPED: _l("Expédié"),
    ShipmentStatus.AWAITING_RECEIPT: _l("Confirmation de réception demandée"),
    ShipmentStatus.RECEIVED: _l("Reçu"),
}

# Carrier names are brand names, except these two.
CARRIER_NAMES: dict[str, Any] = {
    "other": _l("Autre transporteur"),
    "hand_delivery": _l("Remise en main propre"),
}


def carrier_name(code: str, default: str) -> str:
    return str(CARRIER_NAMES.get(code, default))
