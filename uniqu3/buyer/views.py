"""`/o/<token>`: the buyer follows the order; `/r/<token>`: the buyer confirms a parcel's receipt.

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
from flask_wtf.csrf import ValidationError, validate_csrf

from ..extensions import csrf, db
from ..labels import SHIPMENT_LABELS, STATUS_LABELS, shown_carrier
from ..mail.render import Item, address_lines
from ..models import Order, ReceivedBy, Shipment, ShipmentStatus
from ..services import workflow
from ..tokens import (
    InvalidToken,
    order_id_from_token,
    order_token,
    receipt_token,
    shipment_id_from_token,
)
from ..workflow import InvalidTransition, NotFound
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
    carrier: str
    tracking_number: str
    tracking_url: str | None
    shipped_on: object
    items: list[Item]
    receipt_due_at: datetime | None
    received_at: datetime | None
    received_by: ReceivedBy | None
    receipt_token: str | None  # only while the buyer's confirmation is awaited


def _parcel(shipment: Shipment) -> Parcel:
    awaiting = shipment.status == ShipmentStatus.AWAITING_RECEIPT
    return Parcel(
        id=shipment.id,
        number=shipment.number,
        status=shipment.status,
        status_label=str(SHIPMENT_LABELS.get(shipment.status, shipment.status)),
        carrier=shown_carrier(shipment.carrier_label) or shipment.carrier,
        tracking_number=shipment.tracking_number,
        tracking_url=shipment.tracking_url,
        shipped_on=shipment.shipped_on,
        items=[Item(line.sku, line.title, quantity) for line, quantity in shipment.items],
        receipt_due_at=shipment.receipt_due_at,
        received_at=shipment.received_at,
        received_by=shipment.received_by,
        receipt_token=receipt_token(shipment.id) if awaiting else None,
    )


def _load_order(order_id: int) -> Order | None:
    return load_order(db.session, order_id=order_id, seller=True, events=True)


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
        shipping=address_lines(order.shipping_address, _locale()),
        shop_name=order.seller.shop_name,
        status_label=str(STATUS_LABELS.get(order.status, order.status)),
        parcels=[_parcel(s) for s in order.shipments],
        still_to_ship=[Item(line.sku, line.title, line.remaining)
                       for line in order.lines if line.remaining > 0],
        history=buyer_history(reversed(order.events), order.seller.shop_name),
    )


# ----------------------------------------------------------------------------- receipt
@bp.route("/r/<token>", methods=["GET", "POST"])
# Checked in the view, to answer an outdated form with the button again.
@csrf.exempt  # type: ignore[untyped-decorator]  # Flask-WTF ships no types
def confirm_receipt(token: str) -> tuple[str, int] | str:
    try:
        shipment_id = shipment_id_from_token(token)
    except InvalidToken:
        return invalid_link()
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return invalid_link()

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
    return "not_requested"


def _receipt_page(shipment_id: int, token: str, state: str, status: int) -> tuple[str, int]:
    db.session.expire_all()  # the workflow may just have changed the parcel
    shipment = db.session.get(Shipment, shipment_id)
    order = _load_order(shipment.order_id) if shipment is not None else None
    if shipment is None or order is None:
        return invalid_link()
    if state == "expired_form" and shipment.status != ShipmentStatus.AWAITING_RECEIPT:
        state = _state(shipment)  # nothing left to confirm: say how things stand
    return render_template(
        "buyer/receipt.html",
        order=order,
        shop_name=order.seller.shop_name,
        parcel=_parcel(shipment),
        state=state,
        token=token,
        order_token=order_token(order.id),
    ), status
