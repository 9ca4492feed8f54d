"""The order page's corrections: « Modifier le suivi » of a parcel, « Annuler la confirmation du
paiement ». Answered like every action of the page (seller/actions.py): the updated parts for
htmx, POST-redirect-GET without JavaScript, a refusal by the blueprint's error handler."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..services import workflow
from ..workflow import rules
from . import actions, queries
from .blueprint import bp
from .forms import FormState, parse_parcel
from .pages import order_context
from .rendering import wants_fragment


@bp.post("/commandes/<reference>/paiement/annulation")
def undo_payment(reference: str) -> Response:
    order_id, before = actions._start(reference)
    workflow().undo_payment(order_id, actor=actions._actor(), reason=request.form.get("reason", ""))
    return actions._done(reference, before, _("Confirmation du paiement annulée : le client en est informé "
                                             "par e-mail."), ("next", "status", "payment"))


@bp.post("/commandes/<reference>/colis/<int:number>/suivi")
def edit_shipment(reference: str, number: int) -> Response:
    actions.own_shipment_id(reference, number)
    errors: dict[str, str] = {}
    details = parse_parcel(request.form, errors)
    if errors:  # a date that is not one: the workflow is not asked
        state = FormState(f"edit-{number}", dict(request.form), errors, next(iter(errors.values())))
        return actions._refused(reference, state, "shipment", shipment_number=number)
    order_id, before = actions._start(reference)
    result = workflow().edit_shipment(order_id, number, details, actor=actions._actor())
    text = (_("Colis n° %(number)s modifié : le client reçoit le suivi à jour par e-mail.", number=number)
            if result.changed else _("Rien n'a changé dans ce colis : le client n'est pas prévenu."))
    return actions._done(reference, before, text, ("shipment",), shipment_number=number,
                         anchor=f"colis-{number}")


@bp.get("/commandes/<reference>/colis/<int:number>/suivi")
def edit_shipment_form(reference: str, number: int) -> Response | str:
    """A parcel's correction form alone, fetched by htmx when the seller opens it in a parcel
    an action redrew; without htmx, the parcel on the order page."""
    actions.own_shipment_id(reference, number)
    if not wants_fragment():
        response = redirect(url_for("seller.order_detail", reference=reference) + f"#colis-{number}")
        response.vary.add("HX-Request")
        return response
    order = queries.order_page(current_user.id, reference)
    if order is None:
        abort(404)
    shipment = next(s for s in order.shipments if s.number == number)
    if not rules.can_edit_parcel(shipment.status):
        return ""  # received or lost meanwhile: nothing to correct
    return render_template("seller/_edit_parcel.html", shipment=shipment, **order_context(order))
