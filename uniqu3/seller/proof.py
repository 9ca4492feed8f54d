"""« Preuve de réception »: one printable page per parcel, for the order's own seller."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from .. import receipt_proof
from ..extensions import db
from ..labels import PROBLEM_REASONS, PROBLEM_RESOLUTIONS, SHIPMENT_LABELS, STATUS_LABELS
from ..services import now
from ..workflow import rules
from . import history, queries
from .blueprint import bp


@bp.get("/commandes/<reference>/colis/<int:number>/preuve")
def receipt_proof_page(reference: str, number: int) -> str:
    order = queries.order_page(current_user.id, reference, refunds=False)
    shipment = next((s for s in order.shipments if s.number == number), None) if order else None
    if order is None or shipment is None:
        abort(404)  # like every URL naming an order or parcel that is not this seller's
    return render_template(
        "seller/proof.html",
        order=order,
        shipment=shipment,
        proof=receipt_proof.proofs(db.session, [shipment])[shipment.id],
        items=shipment.items,
        labels=STATUS_LABELS,
        problem_reasons=PROBLEM_REASONS,
        problem_resolutions=PROBLEM_RESOLUTIONS,
        shipment_labels=SHIPMENT_LABELS,
        parcel_history=history.timeline([event for event in order.events
                                         if (event.details or {}).get("shipment_id") == shipment.id]),
        made_at=now(),
        several_parcels=rules.in_several_parcels(order),  # the words of the buyer's button
    )
