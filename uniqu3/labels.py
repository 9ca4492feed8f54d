"""Translatable labels shared by pages, e-mails, the API and the CLI (French msgids).

The French words are the seller guide's; they go through the catalogue and are rendered in
the reader's language when shown.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from . import carriers
from .models import OrderStatus, ProblemReason, Shipment, ShipmentStatus

STATUS_LABELS: dict[OrderStatus, Any] = {
    OrderStatus.AWAITING_PAYMENT: _l("En attente de paiement"),
    OrderStatus.PAID: _l("Payée"),
    OrderStatus.PARTIALLY_SHIPPED: _l("Partiellement expédiée"),
    OrderStatus.SHIPPED: _l("Expédiée"),
    OrderStatus.RECEIVED: _l("Reçue"),
    OrderStatus.CANCELLED: _l("Annulée"),
}

SHIPMENT_LABELS: dict[ShipmentStatus, Any] = {
    ShipmentStatus.SHIPPED: _l("Expédié"),
    ShipmentStatus.AWAITING_RECEIPT: _l("Confirmation de réception demandée"),
    ShipmentStatus.RECEIVED: _l("Reçu"),
    ShipmentStatus.PROBLEM: _l("Problème signalé"),
    ShipmentStatus.LOST: _l("Colis perdu"),
}

#: A parcel handed over by the seller is not « en route »: it has arrived.
HANDED_OVER = _l("Remis en main propre")


def shipment_label(shipment: Shipment) -> str:
    """A parcel's status as people read it (a hand delivery's « Expédié » is « Remis »)."""
    if shipment.status == ShipmentStatus.SHIPPED and shipment.handed_over:
        return str(HANDED_OVER)
    return str(SHIPMENT_LABELS.get(shipment.status, shipment.status))


#: The buyer's choices in « Signaler un problème », in the form's order.
PROBLEM_REASONS: dict[str, Any] = {
    ProblemReason.NOT_RECEIVED: _l("Colis non reçu"),
    ProblemReason.DAMAGED: _l("Article endommagé"),
    ProblemReason.WRONG_ITEMS: _l("Article manquant ou non conforme"),
    ProblemReason.OTHER: _l("Autre"),
}


#: How a problem report was closed (`ShipmentProblem.resolution`).
PROBLEM_RESOLUTIONS: dict[str, Any] = {
    "relaunched": _l("le vendeur a relancé la demande de confirmation"),
    "lost": _l("le vendeur a déclaré le colis perdu"),
    "received": _l("le client a ensuite confirmé la réception"),
}


#: How a seller gave money back (workflow.refunds.METHODS), in the form's order.
REFUND_METHODS: dict[str, Any] = {
    "transfer": _l("Virement"),
    "paypal": _l("PayPal"),
    "card": _l("Carte bancaire"),
    "cheque": _l("Chèque"),
    "cash": _l("Espèces"),
    "other": _l("Autre moyen"),
}


def refund_method(code: str) -> str:
    label = REFUND_METHODS.get(code)
    return str(label) if label is not None else code


def problem_reason(code: str) -> str:
    label = PROBLEM_REASONS.get(code)
    return str(label) if label is not None else code

# Carrier names are brand names, except these two.
CARRIER_NAMES: dict[str, Any] = {
    "other": _l("Autre transporteur"),
    "hand_delivery": _l("Remise en main propre"),
}

# A parcel stores the carrier's name as shown when it was shipped (French for these two).
_STORED_GENERIC_NAMES: dict[str, Any] = {
    carriers.get_carrier(code).name: label for code, label in CARRIER_NAMES.items()
}


def carrier_name(code: str, default: str) -> str:
    return str(CARRIER_NAMES.get(code, default))


def handed_over_label(stored_label: str) -> bool:
    """Whether a carrier name stored in the history is « Remise en main propre »."""
    return stored_label == carriers.get_carrier(carriers.HAND_DELIVERY).name


def shown_carrier(stored_label: str) -> str:
    """A parcel's stored carrier label, the generic French names in the reader's language."""
    label = _STORED_GENERIC_NAMES.get(stored_label)
    return str(label) if label is not None else stored_label
