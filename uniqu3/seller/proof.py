"""« Preuve de réception »: one printable page per parcel, for the order's own seller."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from .. import receipt_proof
from ..extensions import db
from ..services import workflow
from . import history, queries
from .blueprint import bp
from .labels import SHIPMENT_LABELS, STATUS_LABELS


@bp.get("/commandes/<reference>/colis/<int:number>/preuve")
def receipt_proof_page(reference: str, number: int) -> str:
    order = queries.order_page(current_user.id, reference)
    shipment = next((s for s in order.shipments if s.number == number), None) if order else None
    if order is None or shipment is None:
        abort(404)  # like every URL naming an order or parcel that is not this seller's
    lines_by_id = {line.id: line for line in order.lines}
    return render_template(
        "seller/proof.html",
        order=order,
        shipment=shipment,
        proof=receipt_proof.proofs(db.session, [shipment])[shipment.id],
        items=[(lines_by_id[item.order_line_id], item.quantity) for item in shipment.lines
               if item.order_line_id in lines_by_id],
        labels=STATUS_LABELS,
        shipment_labels=SHIPMENT_LABELS,
        parcel_history=history.timeline([event for event in order.events
                                         if (event.details or {}).get("shipment_id") == shipment.id]),
        made_at=workflow().clock(),
    )
