"""Orders as the API shows them: amounts as decimal strings, times in ISO 8601 UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import object_session

from .. import receipt_proof
from ..extensions import db
from ..labels import SHIPMENT_LABELS, STATUS_LABELS, problem_reason, refund_method, shown_carrier
from ..mail.links import seller_proof_url
from ..models import Order, OrderLine, Refund, Shipment, ShipmentStatus
from ..money import cents_to_decimal_str
from ..timeutil import iso_utc
from ..workflow import refunds
from ..workflow.loading import loaded_refunds
from .blueprint import PREFIX
from .errors import api_locale

RECEIPT_NOT_REQUESTED = "not_requested"
RECEIPT_AWAITING = "awaiting"
RECEIPT_RECEIVED = "received"
RECEIPT_PROBLEM = "problem"  # the buyer reported a problem: no automatic receipt
RECEIPT_LOST = "lost"


def timestamp(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_links(reference: str) -> dict[str, str]:
    base = current_app.config["BASE_URL"]
    return {
        "self": f"{base}{PREFIX}/orders/{reference}",
        "seller_page": f"{base}/commandes/{reference}",
    }


def order_json(order: Order, *, locale: str | None = None) -> dict[str, Any]:
    # Status labels speak the API's language: French unless Accept-Language asks for English
    # (`locale` when there is no request to ask, as for the webhooks' bodies).
    with force_locale(locale or api_locale()):
        return _order_json(order)


def _order_json(order: Order) -> dict[str, Any]:
    session = object_session(order) or db.session
    proofs = receipt_proof.proofs(session, order.shipments)
    recorded = loaded_refunds(session, order)
    money = refunds.money_of(order, recorded)
    return {
        "reference": order.reference,
        "external_id": order.external_id,
        "seller": order.seller.email,
        "status": order.status,
        "status_label": str(STATUS_LABELS[order.status]),
        "buyer": {"name": order.buyer_name, "email": order.buyer_email, "phone": order.buyer_phone},
        "billing_address": _address(order.billing_address),
        "shipping_address": _address(order.shipping_address),
        "pickup_point": dict(order.pickup_point) if order.pickup_point else None,
        "currency": order.currency,
        "totals": {
            "items": cents_to_decimal_str(order.items_cents),
            "shipping": cents_to_decimal_str(order.shipping_cents),
            "amount": cents_to_decimal_str(order.total_cents),
            "quantity": sum(line.quantity for line in order.lines),
            "shipped_quantity": sum(line.shipped_quantity for line in order.lines),
        },
        "lines": [_line(line) for line in order.lines],
        "shipments": [_shipment(s, proofs[s.id], order.reference) for s in order.shipments],
        "paid_at": timestamp(order.paid_at),
        "cancelled_at": timestamp(order.cancelled_at),
        "cancel_reason": order.cancel_reason or None,
        "refund_owed": cents_to_decimal_str(money.owed_cents),
        "refund_due": cents_to_decimal_str(money.due_cents),
        "refunds": [_refund(refund) for refund in recorded],
        "created_at": timestamp(order.created_at),
        "updated_at": timestamp(order.updated_at),
        "links": order_links(order.reference),
    }


def _address(raw: dict[str, str]) -> dict[str, str]:
    return {key: str(raw.get(key) or "") for key in
            ("name", "line1", "line2", "postal_code", "city", "country")}


def _line(line: OrderLine) -> dict[str, Any]:
    return {
        "position": line.position,
        "sku": line.sku,
        "title": line.title,
        "quantity": line.quantity,
        "shipped_quantity": line.shipped_quantity,
        "closed_quantity": line.closed_quantity,
        "remaining_quantity": line.remaining,
        "unit_price": cents_to_decimal_str(line.unit_price_cents),
        "line_total": cents_to_decimal_str(line.line_total_cents),
    }


def _refund(refund: Refund) -> dict[str, Any]:
    return {
        "amount": cents_to_decimal_str(refund.amount_cents),
        "method": refund.method,
        "method_label": refund_method(refund.method),
        "reference": refund.reference,
        "note": refund.note,
        "recorded_at": timestamp(refund.recorded_at),
    }


def _shipment(shipment: Shipment, proof: receipt_proof.ReceiptProof, reference: str) -> dict[str, Any]:
    if shipment.status == ShipmentStatus.RECEIVED:
        receipt_status = RECEIPT_RECEIVED
    elif shipment.status == ShipmentStatus.AWAITING_RECEIPT:
        receipt_status = RECEIPT_AWAITING
    elif shipment.status == ShipmentStatus.PROBLEM:
        receipt_status = RECEIPT_PROBLEM
    elif shipment.status == ShipmentStatus.LOST:
        receipt_status = RECEIPT_LOST
    else:
        receipt_status = RECEIPT_NOT_REQUESTED
    return {
        "number": shipment.number,
        "status": shipment.status,
        "status_label": str(SHIPMENT_LABELS[shipment.status]),
        "carrier": shipment.carrier,
        "carrier_label": shown_carrier(shipment.carrier_label),
        "tracking_number": shipment.tracking_number or None,
        "tracking_url": shipment.tracking_url or None,
        "shipped_on": day(shipment.shipped_on),
        "items": [{"sku": line.sku, "quantity": quantity} for line, quantity in shipment.items],
        "receipt": _receipt(receipt_status, proof, reference),
        "lost_at": timestamp(shipment.lost_at),
        # The buyer's reports (« Signaler un problème »), oldest first, kept as evidence.
        "problems": [
            {
                "reported_at": timestamp(report.reported_at),
                "reason": report.reason,
                "reason_label": problem_reason(report.reason),
                "message": report.message,
                "resolved_at": timestamp(report.resolved_at),
                "resolution": report.resolution,
            }
            for report in shipment.problems
        ],
    }


def _receipt(status: str, proof: receipt_proof.ReceiptProof, reference: str) -> dict[str, Any]:
    """The proof of receipt, with the same facts as the seller's « Preuve de réception » page."""
    return {
        "status": status,
        "requested_at": timestamp(proof.requested_at),
        "request_email_to": proof.request.to_email if proof.request else None,
        "request_email_sent_at": timestamp(proof.request.sent_at) if proof.request else None,
        "request_email_message_id": proof.request_email_message_id,
        "due_at": timestamp(proof.due_at),
        "reminded_at": timestamp(proof.reminded_at),
        "received_at": timestamp(proof.received_at),
        "received_by": proof.received_by,
        "ip": proof.ip,
        "user_agent": proof.user_agent,
        "proof_page": seller_proof_url(reference, proof.number) if proof.received else None,
    }
