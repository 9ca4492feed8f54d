"""The order page's corrections: « Modifier le suivi » of a parcel, « Annuler la confirmation du
paiement ». Answered like every action of the page (seller/actions.py): the updated parts for
htmx, POST-redirect-GET without JavaScript, a refusal by the blueprint's error handler."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..services import workflow
from . import actions
from .blueprint import bp
from .forms import FormState, parse_parcel


@bp.post("/commandes/<reference>/paiement/annulation")
def undo_payment(reference: str) -> Response:
    order_id, since = actions._start(reference)
    workflow().undo_payment(order_id, actor=actions._actor(), reason=request.form.get("reason", ""))
    return actions._done(reference, since, _("Confirmation du paiement annulée : le client en est informé "
                                             "par e-mail."), ("next", "status", "payment"))


@bp.post("/commandes/<reference>/colis/<int:number>/suivi")
def edit_shipment(reference: str, number: int) -> Response:
    actions.own_shipment_id(reference, number)
    errors: dict[str, str] = {}
    details = parse_parcel(request.form, errors)
    if errors:  # a date that is not one: the workflow is not asked
        state = FormState(f"edit-{number}", dict(request.form), errors, next(iter(errors.values())))
        return actions._refused(reference, state, "shipment", shipment_number=number)
    order_id, since = actions._start(reference)
    result = workflow().edit_shipment(order_id, number, details, actor=actions._actor())
    text = (_("Colis n° %(number)s modifié : le client reçoit le suivi à jour par e-mail.", number=number)
            if result.changed else _("Rien n'a changé dans ce colis : le client n'est pas prévenu."))
    return actions._done(reference, since, text, ("shipment",), shipment_number=number,
                         anchor=f"colis-{number}")
