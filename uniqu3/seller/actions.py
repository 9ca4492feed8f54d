"""The order page's actions. Each one calls the workflow and answers in one of two ways:

- htmx: the updated parts of the page (the main target plus out-of-band swaps of the
  status badge, lines, parcels and the new history entries), or a 422 partial with the
  seller's input kept and the reason;
- a plain form post (no JavaScript): POST-redirect-GET with a flash message, or the whole
  page again with the reason (422).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..services import workflow
from ..workflow import Actor, InvalidInput, Result, WorkflowError
from . import queries
from .blueprint import bp
from .forms import FormState, parse_ship
from .pages import order_context
from .rendering import wants_fragment


def _actor() -> Actor:
    return Actor.seller(current_user.email)


def _own_order_id(reference: str) -> int:
    order_id = queries.order_id(current_user.id, reference)
    if order_id is None:
        abort(404)
    return order_id


def _order_url(reference: str, anchor: str = "") -> str:
    return url_for("seller.order_detail", reference=reference) + (f"#{anchor}" if anchor else "")


def _done(reference: str, since: int, message: str, parts: tuple[str, ...], *,
          shipment_number: int | None = None, anchor: str = "") -> Response:
    if not wants_fragment():
        flash(message, "success")
        return redirect(_order_url(reference, anchor), code=303)  # type: ignore[return-value]
    order = queries.order_page(current_user.id, reference)
    if order is None:
        abort(404)
    context = order_context(order, parts=parts, message=message)
    context["new_entries"] = [entry for entry in context["timeline"] if entry.id > since]
    if shipment_number is not None:
        context["shipment"] = next(s for s in order.shipments if s.number == shipment_number)
    return make_response(render_template("seller/_action.html", **context))


def _refused(reference: str, state: FormState, part: str = "next", *,
             shipment_number: int | None = None) -> Response:
    order = queries.order_page(current_user.id, reference)
    if order is None:
        abort(404)
    context = order_context(order, state)
    if wants_fragment():
        context["parts"] = (part,)
        if shipment_number is not None:
            context["shipment"] = next(s for s in order.shipments if s.number == shipment_number)
        body = render_template("seller/_action.html", **context)
    else:
        body = render_template("seller/order.html", **context)
    return make_response(body, 422)


def _run(reference: str, form_name: str, action: Callable[[int], Result],
         values: Mapping[str, str]) -> tuple[Result | None, int, Response | None]:
    """Run one workflow action on the seller's own order; a refusal becomes a 422 answer."""
    order_id = _own_order_id(reference)
    since = queries.last_event_id(order_id)
    try:
        return action(order_id), since, None
    except WorkflowError as error:
        return None, since, _refused(reference, FormState.refused(form_name, values, error))


@bp.post("/commandes/<reference>/paiement")
def confirm_payment(reference: str) -> Response:
    note = request.form.get("note", "")
    result, since, refusal = _run(
        reference, "pay", lambda oid: workflow().confirm_payment(oid, actor=_actor(), note=note),
        request.form,
    )
    if refusal is not None:
        return refusal
    assert result is not None
    message = (_("Paiement confirmé : le client en est informé par e-mail.") if result.changed
               else _("Le paiement était déjà confirmé."))
    return _done(reference, since, message, ("next", "status", "payment"))


@bp.post("/commandes/<reference>/annulation")
def cancel(reference: str) -> Response:
    reason = request.form.get("reason", "")
    result, since, refusal = _run(
        reference, "cancel", lambda oid: workflow().cancel(oid, actor=_actor(), reason=reason),
        request.form,
    )
    if refusal is not None:
        return refusal
    assert result is not None
    message = (_("Commande annulée : le client en est informé par e-mail.") if result.changed
               else _("La commande était déjà annulée."))
    return _done(reference, since, message, ("next", "status", "payment"))


@bp.post("/commandes/<reference>/expedition")
def ship(reference: str) -> Response:
    shipment_request, errors = parse_ship(request.form)
    if errors:
        _own_order_id(reference)
        field, message = next(iter(errors.items()))
        error = InvalidInput(message, field=field)
        state = FormState.refused("ship", request.form, error)
        state.errors.update(errors)
        return _refused(reference, state)
    r = shipment_request
    result, since, refusal = _run(reference, "ship", lambda oid: workflow().ship(
        oid, actor=_actor(), quantities=r.quantities, carrier=r.carrier, tracking_number=r.tracking_number,
        shipped_on=r.shipped_on, carrier_url=r.carrier_url, carrier_label=r.carrier_label,
        request_key=r.request_key,
    ), request.form)
    if refusal is not None:
        return refusal
    assert result is not None and result.shipment is not None
    number = result.shipment.number
    if result.changed:
        message = _("Colis n° %(number)s expédié : le client reçoit le suivi par e-mail.", number=number)
        parts: tuple[str, ...] = ("next", "status", "lines", "new_shipment")
    else:
        # A double submit: the parcel already exists, show it rather than a second one.
        message = _("Ce colis (n° %(number)s) était déjà enregistré.", number=number)
        parts = ("next", "status", "lines", "shipments")
    return _done(reference, since, message, parts, shipment_number=number, anchor=f"colis-{number}")


@bp.post("/commandes/<reference>/colis/<int:number>/reception")
def request_receipt(reference: str, number: int) -> Response:
    shipment_id = queries.shipment_id(current_user.id, reference, number)
    if shipment_id is None:
        abort(404)
    since = queries.last_event_id(_own_order_id(reference))
    try:
        result = workflow().request_receipt(shipment_id, actor=_actor())
    except WorkflowError as error:
        state = FormState.refused(f"receipt-{number}", request.form, error)
        return _refused(reference, state, "shipment", shipment_number=number)
    message = (_("Confirmation de réception activée pour le colis n° %(number)s : le client reçoit la "
                 "demande par e-mail.", number=number) if result.changed
               else _("La confirmation de réception était déjà activée pour ce colis."))
    return _done(reference, since, message, ("shipment", "status"), shipment_number=number,
                 anchor=f"colis-{number}")


# ----------------------------------------------------------------------------- a parcel in problem
def _parcel_action(reference: str, number: int, form_name: str,
                   action: Callable[[int], Result]) -> tuple[Result | None, int, Response | None]:
    """Run a workflow action on one of the seller's parcels; a refusal redraws the parcel."""
    shipment_id = queries.shipment_id(current_user.id, reference, number)
    if shipment_id is None:
        abort(404)
    since = queries.last_event_id(_own_order_id(reference))
    try:
        return action(shipment_id), since, None
    except WorkflowError as error:
        state = FormState.refused(f"{form_name}-{number}", request.form, error)
        return None, since, _refused(reference, state, "shipment", shipment_number=number)


@bp.post("/commandes/<reference>/colis/<int:number>/message")
def message_buyer(reference: str, number: int) -> Response:
    message, key = request.form.get("message", ""), request.form.get("request_key") or None
    result, since, refusal = _parcel_action(
        reference, number, "message",
        lambda sid: workflow().message_buyer(sid, actor=_actor(), message=message, request_key=key))
    if refusal is not None:
        return refusal
    assert result is not None
    text = (_("Message envoyé au client par e-mail.") if result.changed
            else _("Ce message était déjà envoyé."))
    return _done(reference, since, text, ("shipment",), shipment_number=number, anchor=f"colis-{number}")


@bp.post("/commandes/<reference>/colis/<int:number>/relance")
def relaunch_receipt(reference: str, number: int) -> Response:
    result, since, refusal = _parcel_action(
        reference, number, "answer", lambda sid: workflow().relaunch_receipt(sid, actor=_actor()))
    if refusal is not None:
        return refusal
    assert result is not None
    text = (_("Confirmation relancée pour le colis n° %(number)s : le client reçoit une nouvelle demande "
              "par e-mail, avec un nouveau délai complet.", number=number) if result.changed
            else _("La confirmation de ce colis était déjà relancée."))
    return _done(reference, since, text, ("shipment", "status"), shipment_number=number,
                 anchor=f"colis-{number}")


@bp.post("/commandes/<reference>/colis/<int:number>/perdu")
def declare_lost(reference: str, number: int) -> Response:
    result, since, refusal = _parcel_action(
        reference, number, "answer", lambda sid: workflow().declare_lost(sid, actor=_actor()))
    if refusal is not None:
        return refusal
    assert result is not None
    text = (_("Colis n° %(number)s déclaré perdu : ses articles sont de nouveau à expédier, le client en est "
              "informé par e-mail.", number=number) if result.changed
            else _("Ce colis était déjà déclaré perdu."))
    return _done(reference, since, text, ("shipment", "status", "lines", "next"), shipment_number=number,
                 anchor=f"colis-{number}")
