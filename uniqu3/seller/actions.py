"""The order page's actions. Each one calls the workflow and answers in one of two ways:

- htmx: the updated parts of the page (the main target plus out-of-band swaps of the
  status badge, lines, parcels and the new history entries), or a 422 partial with the
  seller's input kept and the reason;
- a plain form post (no JavaScript): POST-redirect-GET with a flash message, or the whole
  page again with the reason (422).

A view only calls the workflow: its refusal (`WorkflowError`) is answered by the blueprint's
error handler below, the same way for every action.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..errors import render_error
from ..services import workflow
from ..workflow import Actor, Result, WorkflowError
from ..workflow.refunds import lost_quantities
from . import queries
from .blueprint import bp
from .forms import FormState, parse_close, parse_refund, parse_ship
from .pages import order_context, receipts_at_top
from .queries import OrderMark
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


def _done(reference: str, before: OrderMark, message: str, parts: tuple[str, ...], *,
          shipment_number: int | None = None, anchor: str = "") -> Response:
    if not wants_fragment():
        flash(message, "success")
        return redirect(_order_url(reference, anchor), code=303)
    order = queries.order_page(current_user.id, reference)
    if order is None:
        abort(404)
    context = order_context(order, parts=parts, message=message)
    context["new_entries"] = [entry for entry in context["timeline"] if entry.id > before.last_event_id]
    if shipment_number is not None:
        context["shipment"] = next(s for s in order.shipments if s.number == shipment_number)
    if context["receipts_in_next"] != receipts_at_top(before.status, before.open_problems):
        # The receipt buttons moved between « Prochaine étape » and the parcels (the last parcel
        # shipped or closed, a problem answered): both places are redrawn, the parcels' by their
        # small slot only, and focus goes to the first button when they came to the step.
        step = () if {"next", "next_oob"} & set(parts) else ("next_oob",)
        context["parts"] = (*parts, "receipt_slots", *step)
        context["focus_receipts"] = context["receipts_in_next"] and "next" in parts
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


#: The form each action view shows again when the workflow refuses it (other views: the
#: view's own name).
_FORMS = {"seller.confirm_payment": "pay", "seller.cancel": "cancel", "seller.ship": "ship",
          "seller.close_remainder": "close", "seller.record_refund": "refund",
          "seller.request_receipt": "receipt-{number}", "seller.message_buyer": "message-{number}",
          "seller.relaunch_receipt": "answer-{number}", "seller.declare_lost": "answer-{number}",
          "seller.edit_shipment": "edit-{number}"}


#: The part of the page holding an action's form, when it is not « Prochaine étape ».
_PARTS = {"seller.record_refund": "refund"}


@bp.errorhandler(WorkflowError)
def _workflow_refusal(error: WorkflowError) -> Response:
    """A refused action: its form again with the seller's input and the reason (422), as the
    whole page or, for htmx, as the part that holds the form."""
    args = request.view_args or {}
    endpoint = request.endpoint or ""
    if "reference" not in args:  # not about one order: the reason alone
        return render_error(400, error.translated(_))
    name = _FORMS.get(endpoint, endpoint.rpartition(".")[2]).format(**args)
    state = FormState.refused(name, request.form, error)
    number = args.get("number")
    if number is not None and not _from_next_step():  # a parcel's own button
        return _refused(args["reference"], state, "shipment", shipment_number=number)
    return _refused(args["reference"], state, _PARTS.get(endpoint, "next"))


def _start(reference: str) -> tuple[int, OrderMark]:
    """The seller's own order (404 otherwise) and how it stands before the action."""
    order_id = _own_order_id(reference)
    return order_id, queries.order_mark(order_id)


@bp.post("/commandes/<reference>/paiement")
def confirm_payment(reference: str) -> Response:
    order_id, before = _start(reference)
    result = workflow().confirm_payment(order_id, actor=_actor(), note=request.form.get("note", ""))
    message = (_("Paiement confirmé : le client en est informé par e-mail.") if result.changed
               else _("Le paiement était déjà confirmé."))
    return _done(reference, before, message, ("next", "status", "payment"))


@bp.post("/commandes/<reference>/annulation")
def cancel(reference: str) -> Response:
    order_id, before = _start(reference)
    result = workflow().cancel(order_id, actor=_actor(), reason=request.form.get("reason", ""))
    message = (_("Commande annulée : le client en est informé par e-mail.") if result.changed
               else _("La commande était déjà annulée."))
    return _done(reference, before, message, ("next", "status", "payment", "lines", "shipments"))


@bp.post("/commandes/<reference>/cloture")
def close_remainder(reference: str) -> Response:
    quantities, reason, request_key, errors = parse_close(request.form)
    if errors:  # a quantity that is not even a number: the workflow is not asked
        _own_order_id(reference)
        state = FormState("close", dict(request.form), errors, next(iter(errors.values())))
        return _refused(reference, state)
    order_id, before = _start(reference)
    result = workflow().close_remainder(order_id, actor=_actor(), reason=reason, quantities=quantities,
                                        request_key=request_key)
    message = (_("Reste clos : le client en est informé par e-mail.") if result.changed
               else _("Ces articles étaient déjà clos."))
    # The parcels' card changes only when the closure cancelled the order.
    parts = ("next", "status", "payment", "lines", *(("shipments",) if result.order.is_cancelled else ()))
    return _done(reference, before, message, parts)


@bp.post("/commandes/<reference>/remboursement")
def record_refund(reference: str) -> Response:
    r, errors = parse_refund(request.form)
    if errors:  # an amount that is not an amount: the workflow is not asked
        _own_order_id(reference)
        state = FormState("refund", dict(request.form), errors, errors["amount"])
        return _refused(reference, state, "refund")
    order_id, before = _start(reference)
    result = workflow().record_refund(order_id, actor=_actor(), amount_cents=r.amount_cents, method=r.method,
                                      reference=r.reference, note=r.note, request_key=r.request_key)
    message = (_("Remboursement enregistré : le client en est informé par e-mail.") if result.changed
               else _("Ce remboursement était déjà enregistré."))
    return _done(reference, before, message, ("refund",), anchor="payment")


@bp.post("/commandes/<reference>/expedition")
def ship(reference: str) -> Response:
    r, errors = parse_ship(request.form)
    if errors:  # a field that is not even a number or a date: the workflow is not asked
        _own_order_id(reference)
        return _refused(reference, FormState("ship", dict(request.form), errors, next(iter(errors.values()))))
    order_id, before = _start(reference)
    p = r.parcel
    result = workflow().ship(
        order_id, actor=_actor(), quantities=r.quantities, carrier=p.carrier,
        tracking_number=p.tracking_number, shipped_on=p.shipped_on, carrier_url=p.carrier_url,
        carrier_label=p.carrier_label, request_key=r.request_key,
    )
    assert result.shipment is not None
    number = result.shipment.number
    if result.changed:
        message = _("Colis n° %(number)s expédié : le client reçoit le suivi par e-mail.", number=number)
        parts: tuple[str, ...] = ("next", "status", "lines", "new_shipment",
                                  # Lost items shipped again are no longer owed back.
                                  *(("payment",) if lost_quantities(result.order.shipments) else ()))
    else:
        # A double submit: the parcel already exists, show it rather than a second one.
        message = _("Ce colis (n° %(number)s) était déjà enregistré.", number=number)
        parts = ("next", "status", "lines", "shipments")
    return _done(reference, before, message, parts, shipment_number=number, anchor=f"colis-{number}")


# ----------------------------------------------------------------------------- a parcel's actions
def own_shipment_id(reference: str, number: int) -> int:
    """One of the seller's parcels (404 otherwise)."""
    shipment_id = queries.shipment_id(current_user.id, reference, number)
    if shipment_id is None:
        abort(404)
    return shipment_id


def _parcel_action(reference: str, number: int, action: Callable[[int], Result], texts: tuple[str, str],
                   parts: tuple[str, ...], anchor: str = "") -> Response:
    """One of the seller's parcels (404 otherwise) given to `action`; `texts` says it was done,
    or that it was already."""
    shipment_id = own_shipment_id(reference, number)
    before = _start(reference)[1]
    result = action(shipment_id)
    done, already = texts
    return _done(reference, before, done if result.changed else already, parts, shipment_number=number,
                 anchor=anchor or f"colis-{number}")


@bp.post("/commandes/<reference>/colis/<int:number>/reception")
def request_receipt(reference: str, number: int) -> Response:
    # From « Prochaine étape » (all is shipped) the card is the part swapped, else the parcel.
    from_next = _from_next_step()
    parts = ("next", "shipment_oob", "status") if from_next else ("shipment", "status")
    return _parcel_action(reference, number, partial(workflow().request_receipt, actor=_actor()), (
        _("Confirmation de réception activée pour le colis n° %(number)s : le client reçoit la "
          "demande par e-mail.", number=number),
        _("La confirmation de réception était déjà activée pour ce colis.")), parts,
        anchor="next" if from_next else "")


def _from_next_step() -> bool:
    """The form sits in « Prochaine étape » (all is shipped), not in its parcel."""
    return request.form.get("from") == "next"


@bp.post("/commandes/<reference>/colis/<int:number>/message")
def message_buyer(reference: str, number: int) -> Response:
    action = partial(workflow().message_buyer, actor=_actor(), message=request.form.get("message", ""),
                     request_key=request.form.get("request_key") or None)
    return _parcel_action(reference, number, action, (
        _("Message envoyé au client par e-mail."), _("Ce message était déjà envoyé.")), ("shipment",))


@bp.post("/commandes/<reference>/colis/<int:number>/relance")
def relaunch_receipt(reference: str, number: int) -> Response:
    return _parcel_action(reference, number, partial(workflow().relaunch_receipt, actor=_actor()), (
        _("Confirmation relancée pour le colis n° %(number)s : le client reçoit une nouvelle demande "
          "par e-mail, avec un nouveau délai complet.", number=number),
        _("La confirmation de ce colis était déjà relancée.")), ("shipment", "status"))


@bp.post("/commandes/<reference>/colis/<int:number>/perdu")
def declare_lost(reference: str, number: int) -> Response:
    return _parcel_action(reference, number, partial(workflow().declare_lost, actor=_actor()), (
        _("Colis n° %(number)s déclaré perdu : ses articles sont à expédier de nouveau, sinon à rembourser ; "
          "le client en est informé par e-mail.", number=number),
        # « Prochaine étape » (the ship form is back) and the payment card (its items are owed back
        # until shipped again), out of band: the parcel is the part swapped.
        _("Ce colis était déjà déclaré perdu.")), ("shipment", "status", "lines", "next_oob", "payment"))
