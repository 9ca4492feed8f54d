"""`/o/<token>`: the buyer follows the order; `/r/<token>`: the buyer confirms a parcel's receipt;
`/r/<token>/probleme`: the buyer reports a problem with it (« Signaler un problème »).

A GET never changes anything (mail scanners open links before people do): the receipt is
confirmed only by the POST of the page's button. A bad link, whatever the reason (tampered,
expired, made for another purpose, for something that no longer exists), gets the same
page, which reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import ValidationError, validate_csrf

from ..auth import throttle
from ..errors import render_too_many
from ..extensions import csrf, db
from ..labels import (
    PROBLEM_REASONS,
    STATUS_LABELS,
    problem_reason,
    refund_method,
    shipment_label,
    shown_carrier,
)
from ..mail.render import Item, delivery_lines
from ..models import Order, OrderEvent, ReceivedBy, Shipment, ShipmentStatus
from ..services import workflow
from ..tokens import (
    InvalidToken,
    order_id_from_token,
    order_token,
    receipt_token,
    shipment_id_from_token,
)
from ..workflow import InvalidInput, InvalidTransition, NotFound, refunds, rules
from ..workflow.loading import load_order
from .history import buyer_history

bp = Blueprint("buyer", __name__)


@bp.after_request
def _private(response: Response) -> Response:
    # Token pages are personal: never kept by a browser, a proxy or a search engine.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@dataclass(frozen=True)
class Parcel:
    id: int
    number: int
    status: ShipmentStatus
    status_label: str
    handed_over: bool  # « Remise en main propre »: « Remis le », not « Expédié le »
    carrier: str
    tracking_number: str
    tracking_url: str | None
    shipped_on: object
    items: list[Item]
    receipt_due_at: datetime | None
    received_at: datetime | None
    received_by: ReceivedBy | None
    receipt_token: str | None  # only while the buyer may still confirm or report
    can_confirm: bool
    can_report: bool
    reports: list[Note]
    messages: list[Note]  # the seller's, about this parcel


@dataclass(frozen=True)
class Note:
    """Words dated on a parcel: the buyer's report (with its reason) or a message of the seller."""

    at: datetime
    text: str
    reason: str = ""


def _parcel(order: Order, shipment: Shipment) -> Parcel:
    open_ = rules.can_report(shipment.status) or rules.can_confirm(shipment.status)
    return Parcel(
        id=shipment.id,
        number=shipment.number,
        status=shipment.status,
        status_label=shipment_label(shipment),
        handed_over=shipment.handed_over,
        carrier=shown_carrier(shipment.carrier_label) or shipment.carrier,
        tracking_number=shipment.tracking_number,
        tracking_url=shipment.tracking_url,
        shipped_on=shipment.shipped_on,
        items=[Item(line.sku, line.title, quantity) for line, quantity in shipment.items],
        receipt_due_at=shipment.receipt_due_at,
        received_at=shipment.received_at,
        received_by=shipment.received_by,
        receipt_token=receipt_token(shipment.id) if open_ else None,
        can_confirm=rules.can_confirm(shipment.status),
        can_report=rules.can_report(shipment.status),
        reports=[Note(r.reported_at, r.message, problem_reason(r.reason)) for r in shipment.problems],
        messages=_seller_messages(order.events, shipment.id),
    )


def _seller_messages(events: list[OrderEvent], shipment_id: int) -> list[Note]:
    return [Note(e.at, str((e.details or {}).get("message") or "")) for e in events
            if e.kind == "seller_message" and (e.details or {}).get("shipment_id") == shipment_id]


def _load_order(order_id: int) -> Order | None:
    return load_order(db.session, order_id=order_id, seller=True, events=True, problems=True, refunds=True)


def _locale() -> str:
    return str(get_locale() or "fr")


def invalid_link() -> tuple[str, int]:
    return render_template("buyer/invalid_link.html"), 404


# ----------------------------------------------------------------------------- order page
@bp.get("/o/<token>")
def order_page(token: str) -> tuple[str, int] | str:
    try:
        order_id = order_id_from_token(token)
    except InvalidToken:
        return invalid_link()
    order = _load_order(order_id)
    if order is None:
        return invalid_link()
    return render_template(
        "buyer/order.html",
        order=order,
        several_parcels=rules.in_several_parcels(order),
        shipping=delivery_lines(order, _locale()),
        shop_name=order.seller.shop_name,
        status_label=str(STATUS_LABELS.get(order.status, order.status)),
        parcels=[_parcel(order, s) for s in order.shipments],
        still_to_ship=[Item(line.sku, line.title, line.remaining)
                       for line in order.lines if line.remaining > 0],
        history=buyer_history(reversed(order.events), order.seller.shop_name),
        reasons=PROBLEM_REASONS,
        money=refunds.money_of(order),
        refund_method=refund_method,
    )


# ----------------------------------------------------------------------------- receipt
def _shipment_of(token: str) -> Shipment | None:
    """The parcel a receipt link names; None for a tampered, expired or outdated link."""
    try:
        return db.session.get(Shipment, shipment_id_from_token(token))
    except InvalidToken:
        return None


@bp.route("/r/<token>", methods=["GET", "POST"])
# Checked in the view, to answer an outdated form with the button again.
@csrf.exempt  # type: ignore[untyped-decorator]  # Flask-WTF ships no types
def confirm_receipt(token: str) -> tuple[str, int] | str:
    shipment = _shipment_of(token)
    if shipment is None:
        return invalid_link()
    shipment_id = shipment.id

    state, status = _state(shipment), 200
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            return _receipt_page(shipment_id, token, "expired_form", 400)
        try:
            result = workflow().confirm_receipt(
                shipment_id,
                ip=request.remote_addr or "",
                user_agent=request.user_agent.string or "",
            )
        except NotFound:
            return invalid_link()
        except InvalidTransition:
            return _receipt_page(shipment_id, token, "not_requested", 409)
        state = "thanks" if result.changed else _state(result.shipment or shipment)
    return _receipt_page(shipment_id, token, state, status)


def _state(shipment: Shipment) -> str:
    if shipment.status == ShipmentStatus.RECEIVED:
        return "auto" if shipment.received_by == ReceivedBy.AUTO else "already"
    if shipment.status == ShipmentStatus.AWAITING_RECEIPT:
        return "ask"
    if shipment.status == ShipmentStatus.PROBLEM:
        return "problem"
    if shipment.status == ShipmentStatus.LOST:
        return "lost"
    return "not_requested"


def _receipt_page(shipment_id: int, token: str, state: str, status: int) -> tuple[str, int]:
    db.session.expire_all()  # the workflow may just have changed the parcel
    shipment = db.session.get(Shipment, shipment_id)
    order = _load_order(shipment.order_id) if shipment is not None else None
    if shipment is None or order is None:
        return invalid_link()
    if state == "expired_form" and not rules.can_confirm(shipment.status):
        state = _state(shipment)  # nothing left to confirm: say how things stand
    return render_template(
        "buyer/receipt.html",
        order=order,
        several_parcels=rules.in_several_parcels(order),
        shop_name=order.seller.shop_name,
        parcel=_parcel(order, shipment),
        state=state,
        token=token,
        order_token=order_token(order.id),
        reasons=PROBLEM_REASONS,
    ), status


# ----------------------------------------------------------------------------- problem
@bp.route("/r/<token>/probleme", methods=["GET", "POST"])
@csrf.exempt  # type: ignore[untyped-decorator]  # checked in the view: an outdated form is shown again
def report_problem(token: str) -> tuple[str, int] | str | Response:
    """GET shows the form (or why it is closed), POST records the report."""
    if request.method == "POST":
        try:
            throttle.buyer_report()  # before anything else: a POST to a bad link counts too
        except throttle.Throttled as refused:
            return render_too_many(_("Trop de signalements en peu de temps. Patientez avant de réessayer, "
                                     "ou écrivez directement au vendeur."), refused.retry_after)
    shipment = _shipment_of(token)
    if shipment is None:
        return invalid_link()
    shipment_id = shipment.id
    form = {"reason": (request.form.get("reason") or "")[:20],
            "message": (request.form.get("message") or "")[:rules.MESSAGE_MAX * 2]}
    if request.method == "GET":
        return _problem_page(shipment_id, token, "form", 200)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return _problem_page(shipment_id, token, "form", 400, form=form, error=_(
            "Votre signalement n'a pas pu être enregistré : la page était ouverte depuis trop longtemps. "
            "Envoyez-le de nouveau."), field="")
    try:
        workflow().report_problem(
            shipment_id,
            reason=form["reason"],
            message=request.form.get("message") or "",
            ip=request.remote_addr or "",
            user_agent=request.user_agent.string or "",
        )
    except NotFound:
        return invalid_link()
    except InvalidInput as error:
        return _problem_page(shipment_id, token, "form", 422, form=form, error=error.translated(_),
                             field=error.field or "")
    except InvalidTransition:
        return _problem_page(shipment_id, token, "form", 409)
    return _problem_page(shipment_id, token, "reported", 200)


def _problem_page(shipment_id: int, token: str, state: str, status: int, *,
                  form: dict[str, str] | None = None, error: str = "", field: str = "") -> tuple[str, int]:
    db.session.expire_all()  # the workflow may just have changed the parcel
    shipment = db.session.get(Shipment, shipment_id)
    order = _load_order(shipment.order_id) if shipment is not None else None
    if shipment is None or order is None:
        return invalid_link()
    parcel = _parcel(order, shipment)
    if state == "form" and not parcel.can_report:
        state = _state(shipment)  # received or lost: say so, and how to reach the seller
    return render_template(
        "buyer/problem.html",
        order=order,
        several_parcels=rules.in_several_parcels(order),
        shop_name=order.seller.shop_name,
        parcel=parcel,
        state=state,
        token=token,
        order_token=order_token(order.id),
        reasons=PROBLEM_REASONS,
        form=form or {"reason": "", "message": ""},
        error=error,
        field=field,
        message_max=rules.MESSAGE_MAX,
    ), status
