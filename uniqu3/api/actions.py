"""The workflow's actions over the API (spec section 9): the same calls as the seller's
buttons, for a storefront or a seller's label software.

Each view finds the order among the key's (404 otherwise: a key bound to a seller never
learns whether another seller's order exists), reads its body into its model (422 with the
field paths), calls the workflow and answers the order as `GET` shows it. A refusal of the
workflow is answered by `errors._workflow_refusal`: 422 with the rule's `code`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from flask import Response, jsonify
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel
from sqlalchemy import inspect as sa_inspect

from ..extensions import db
from ..services import workflow
from ..workflow import Actor, ParcelChanges, Result, Workflow, rules
from ..workflow.errors import REPEATED_SKU, UNKNOWN_LINE
from ..workflow.loading import line_ids_of, load_order, order_id_of, shipment_id_of
from .auth import current_client
from .blueprint import bp, state
from .errors import ApiError
from .idempotency import request_token
from .openapi import REFERENCE, UNAUTHORIZED, Answer, Operation, error, register
from .schemas.actions import (
    CancellationInput,
    ClosureInput,
    LineQuantity,
    MessageInput,
    NoBody,
    ParcelEditInput,
    PaymentInput,
    PaymentUndoInput,
    RefundInput,
    ShipmentInput,
)
from .schemas.orders import Order
from .serialize import normal_reference, order_json
from .validation import INVALID, read_body

UNKNOWN_ORDER = "Commande introuvable : %(reference)s."


def _actor() -> Actor:
    return Actor.api(current_client().name)


def _not_found(reference: str) -> ApiError:
    return ApiError(404, _l(UNKNOWN_ORDER, reference=reference[:40]))


def _order_id(reference: str) -> int:
    """The key's order with this reference, or 404."""
    client = current_client()
    ref = normal_reference(reference)
    order_id = None
    if ref is not None and not client.reads_nothing():
        order_id = order_id_of(db.session, ref, seller_id=client.seller_id)
    if order_id is None:
        raise _not_found(reference)
    return order_id


def _line_ids(reference: str) -> tuple[int, dict[str, int]]:
    """The key's order with this reference and its lines' ids by SKU, or 404."""
    client = current_client()
    ref = normal_reference(reference)
    found = None
    if ref is not None and not client.reads_nothing():
        found = line_ids_of(db.session, ref, seller_id=client.seller_id)
    if found is None:
        raise _not_found(reference)
    return found


def _shipment_id(reference: str, number: int) -> tuple[int, int]:
    """The key's order with this reference and its parcel `number` (ids), or 404."""
    client = current_client()
    ref = normal_reference(reference)
    found = None
    if ref is not None and not client.reads_nothing():
        found = shipment_id_of(db.session, ref, number, seller_id=client.seller_id)
    if found is None:
        _order_id(reference)  # the order's own 404 first
        raise ApiError(404, _l("Colis n° %(number)s introuvable dans cette commande.", number=number))
    return found


def _quantities(lines: list[LineQuantity], line_ids: Mapping[str, int], form_prefix: str) -> dict[int, int]:
    """Quantities by SKU (the API's) as quantities by line id (the workflow's); 422 for a SKU
    the order lacks or one given twice. The workflow's refusal of a line's quantity names the
    line as the seller's form does (`qty_<line id>`): it is answered as `lines[i].quantity`."""
    unknown = {i: _l("Aucune ligne de cette commande n'a cette référence (SKU).")
               for i, item in enumerate(lines) if item.sku not in line_ids}
    repeated = {i: _l("Cette référence (SKU) est déjà dans lines[%(line)d].", line=j)
                for i, j in rules.repeated_skus([item.sku for item in lines]).items()}
    if unknown or repeated:
        raise ApiError(422, INVALID, code=UNKNOWN_LINE if unknown else REPEATED_SKU,
                       fields={f"lines[{i}].sku": [text] for i, text in {**repeated, **unknown}.items()})
    state()["field_names"] = {f"{form_prefix}_{line_ids[item.sku]}": f"lines[{i}].quantity"
                              for i, item in enumerate(lines)}
    return {line_ids[item.sku]: item.quantity for item in lines}


def _workflow() -> Workflow:
    """The workflow keeping the order it acts on as committed: the answer shows it as it is."""
    return workflow(keep_order=True)


def _answer(result: Result, status: int = 200) -> tuple[Response, int]:
    """The order as `GET` shows it: the workflow's, as committed, unless it had to let it go
    (expired by a commit or by the rollback of a request that changed nothing): read again."""
    order, state = result.order, sa_inspect(result.order)
    if state.expired:
        # Its id from the identity: reading `order.id` would load the row alone first.
        assert state.identity is not None
        fresh = load_order(db.session, order_id=state.identity[0], seller=True, problems=True, refunds=True)
        assert fresh is not None  # orders are never deleted
        order = fresh
    return jsonify(order_json(order)), status


def _request_key() -> str | None:
    """A name for what this request does, when it has an Idempotency-Key: the workflow then
    records it once even if the request is run again after a crash."""
    token = request_token()
    return f"api-{token}" if token is not None else None


@bp.post("/orders/<reference>/payment")
def confirm_payment(reference: str) -> tuple[Response, int]:
    order_id = _order_id(reference)
    body = read_body(PaymentInput, optional=True)
    return _answer(_workflow().confirm_payment(order_id, actor=_actor(), note=body.note))


@bp.post("/orders/<reference>/payment/cancellation")
def undo_payment(reference: str) -> tuple[Response, int]:
    order_id = _order_id(reference)
    body = read_body(PaymentUndoInput, optional=True)
    return _answer(workflow().undo_payment(order_id, actor=_actor(), reason=body.reason))


@bp.post("/orders/<reference>/cancellation")
def cancel(reference: str) -> tuple[Response, int]:
    order_id = _order_id(reference)
    body = read_body(CancellationInput)
    return _answer(_workflow().cancel(order_id, actor=_actor(), reason=body.reason))


@bp.post("/orders/<reference>/shipments")
def ship(reference: str) -> tuple[Response, int]:
    order_id, line_ids = _line_ids(reference)
    body = read_body(ShipmentInput)
    quantities = _quantities(body.lines, line_ids, "qty")
    state()["field_names"]["carrier_label"] = "carrier_name"
    result = _workflow().ship(
        order_id, actor=_actor(),
        quantities=quantities,
        carrier=body.carrier, tracking_number=body.tracking_number or "", shipped_on=body.shipped_on,
        carrier_label=body.carrier_name or "", request_key=_request_key(),
    )
    return _answer(result, 201 if result.changed else 200)


@bp.post("/orders/<reference>/remainder-closure")
def close_remainder(reference: str) -> tuple[Response, int]:
    order_id, line_ids = _line_ids(reference)
    body = read_body(ClosureInput)
    quantities = _quantities(body.lines, line_ids, "close") if body.lines is not None else None
    return _answer(_workflow().close_remainder(order_id, actor=_actor(), reason=body.reason,
                                               quantities=quantities, request_key=_request_key()))


@bp.patch("/orders/<reference>/shipments/<int:number>")
def edit_shipment(reference: str, number: int) -> tuple[Response, int]:
    order_id, _ = _shipment_id(reference, number)
    body = read_body(ParcelEditInput, optional=True)
    # A member left out (None) keeps the parcel's value: the workflow reads it under the lock.
    changes = ParcelChanges(carrier=body.carrier, tracking_number=body.tracking_number,
                            shipped_on=body.shipped_on, carrier_label=body.carrier_name)
    state()["field_names"] = {"carrier_label": "carrier_name"}
    return _answer(workflow().edit_shipment(order_id, number, changes, actor=_actor()))


@bp.post("/orders/<reference>/refunds")
def record_refund(reference: str) -> tuple[Response, int]:
    order_id = _order_id(reference)
    body = read_body(RefundInput)
    result = workflow().record_refund(order_id, actor=_actor(), amount_cents=body.amount, method=body.method,
                                      reference=body.reference, note=body.note, request_key=_request_key())
    return _answer(result, 201 if result.changed else 200)


@bp.post("/orders/<reference>/shipments/<int:number>/receipt-request")
def request_receipt(reference: str, number: int) -> tuple[Response, int]:
    _, shipment_id = _shipment_id(reference, number)
    read_body(NoBody, optional=True)
    return _answer(_workflow().request_receipt(shipment_id, actor=_actor()))


# ----------------------------------------------------------------------------- a parcel in problem
@bp.post("/orders/<reference>/shipments/<int:number>/messages")
def message_buyer(reference: str, number: int) -> tuple[Response, int]:
    _, shipment_id = _shipment_id(reference, number)
    body = read_body(MessageInput)
    return _answer(_workflow().message_buyer(shipment_id, actor=_actor(), message=body.message,
                                             request_key=_request_key()))


@bp.post("/orders/<reference>/shipments/<int:number>/receipt-relaunch")
def relaunch_receipt(reference: str, number: int) -> tuple[Response, int]:
    _, shipment_id = _shipment_id(reference, number)
    read_body(NoBody, optional=True)
    return _answer(_workflow().relaunch_receipt(shipment_id, actor=_actor()))


@bp.post("/orders/<reference>/shipments/<int:number>/loss")
def declare_lost(reference: str, number: int) -> tuple[Response, int]:
    _, shipment_id = _shipment_id(reference, number)
    read_body(NoBody, optional=True)
    return _answer(_workflow().declare_lost(shipment_id, actor=_actor()))


# ----------------------------------------------------------------------------- the document
NUMBER: Mapping[str, Any] = {"name": "number", "in": "path", "required": True,
                             "description": "The parcel's number in the order (1, 2…).",
                             "schema": {"type": "integer", "minimum": 1, "examples": [1]}}
NOT_FOUND = error("No such order (or another seller's, for a seller's key).")
NO_PARCEL = error("No such order, or no parcel of that number in it.")
REFUSED = error("Refused, nothing changed: `code` names the workflow's rule (`not_paid`, "
                "`nothing_left_to_ship`, `quantity_exceeds_remaining`, `already_cancelled`…) with "
                "the field concerned in `fields`; or a body of the wrong shape (`validation_failed`, "
                "every problem by field path).")
BODY_ERRORS = {413: error("Body larger than API_MAX_BODY_BYTES (256 KB by default)."),
               415: error("Content-Type is not application/json.")}


def _same_order(*operation_ids: str, parcel: bool = False) -> dict[str, Any]:
    """Links from an order answered to the next operations on it (`parcel`: on its first parcel)."""
    links: dict[str, Any] = {}
    for operation_id in operation_ids:
        parameters = {"reference": "$response.body#/reference"}
        if parcel:
            parameters["number"] = "$response.body#/shipments/0/number"
        links[operation_id[0].upper() + operation_id[1:]] = {"operationId": operation_id,
                                                               "parameters": parameters}
    return links


#: A link's `requestBody` is the whole body of the next call: a tool that generates bodies
#: (schemathesis) takes it as given rather than merging it into a body of its own.
WHOLE_BODY = {"x-schemathesis": {"merge_body": False}}

#: From a paid order to a parcel of its first line (a carrier without tracking number).
SHIP_FIRST_LINE = {"CreateShipment": {
    "operationId": "createShipment",
    "parameters": {"reference": "$response.body#/reference"},
    "requestBody": {"lines": [{"sku": "$response.body#/lines/0/sku", "quantity": 1}],
                    "carrier": "hand_delivery"},
    **WHOLE_BODY,
}}

#: From a new parcel to its correction: its ship date confirmed (the same values: nothing done).
EDIT_FIRST_PARCEL = {"EditShipment": {
    "operationId": "editShipment",
    "parameters": {"reference": "$response.body#/reference", "number": "$response.body#/shipments/0/number"},
    "requestBody": {"shipped_on": "$response.body#/shipments/0/shipped_on"},
    **WHOLE_BODY,
}}

#: From an order that owes money to its refund: all that is due, by transfer.
REFUND_DUE = {"RecordRefund": {
    "operationId": "recordRefund",
    "parameters": {"reference": "$response.body#/reference"},
    "requestBody": {"amount": "$response.body#/refund_due", "method": "transfer"},
    **WHOLE_BODY,
}}


def _action(path: str, operation_id: str, summary: str, answer: Answer, *,
            body: type[BaseModel] | None = None, body_required: bool = True, parcel: bool = False,
            description: str = "", status: int = 200, more: Mapping[int, Answer] | None = None,
            method: Literal["post", "patch"] = "post") -> Operation:
    """An action on an order (`parcel`: on one of its parcels): its answer and the errors they share."""
    return Operation(
        method, path, operation_id, summary, description=description,
        parameters=(REFERENCE, NUMBER) if parcel else (REFERENCE,),
        body=body, body_required=body_required,
        answers={status: answer, **(more or {}), 401: UNAUTHORIZED,
                 404: NO_PARCEL if parcel else NOT_FOUND, 422: REFUSED, **BODY_ERRORS},
    )


register(
    _action("/orders/{reference}/payment", "confirmPayment",
            "« Confirmer le paiement »: the seller was paid (E3 to the buyer).",
            Answer("The order, paid (again: as it is, nothing more done).", Order,
                   links={**SHIP_FIRST_LINE, **_same_order("getOrder", "cancelOrder", "undoPayment")}),
            body=PaymentInput, body_required=False),
    _action("/orders/{reference}/payment/cancellation", "undoPayment",
            "« Annuler la confirmation du paiement »: a payment confirmed by mistake, while nothing "
            "has shipped (E3U to the buyer).",
            Answer("The order, awaiting payment again.", Order,
                   links=_same_order("getOrder", "confirmPayment")),
            body=PaymentUndoInput, body_required=False,
            description="Refused once a parcel has left (`already_shipped`), once some of it is closed "
                        "(`remainder_closed`), for a cancelled order (`already_cancelled`) and for an "
                        "order not paid (`not_paid`)."),
    _action("/orders/{reference}/shipments", "createShipment",
            "A parcel leaves: its items, carrier, tracking number and date (E4 to the buyer).",
            Answer("The order with the new parcel (the last of `shipments`).", Order,
                   links={**_same_order("requestReceipt", parcel=True), **EDIT_FIRST_PARCEL,
                          **_same_order("getOrder")}),
            body=ShipmentInput, status=201,
            more={200: Answer("This request's parcel was already recorded (a retry after its answer "
                              "was lost): nothing more done.", Order)},
            description="Only once paid; each quantity from 1 to what is left to ship; a tracking "
                        "number except for the carriers without one; a ship date not in the future."),
    _action("/orders/{reference}/shipments/{number}/receipt-request", "requestReceipt",
            "« Activer la confirmation de réception »: the buyer is asked to confirm (E5); "
            "received automatically after AUTO_RECEIPT_DAYS.",
            Answer("The order, the parcel awaiting the buyer's confirmation.", Order,
                   links=_same_order("getOrder")), parcel=True),
    _action("/orders/{reference}/shipments/{number}", "editShipment",
            "« Modifier le suivi »: a parcel's carrier, tracking number or ship date typed wrong "
            "(E4U to the buyer with the new tracking; the history keeps both).",
            Answer("The order with the parcel as corrected (the same values again: as it is, nothing "
                   "more done).", Order, links=_same_order("getOrder")),
            body=ParcelEditInput, body_required=False, parcel=True, method="patch",
            description="A member left out (or null) keeps the parcel's value. By the rules of shipping (a "
                        "tracking number except for the carriers without one, a ship date not in the "
                        "future), while the parcel is neither received (`already_received`) nor lost "
                        "(`parcel_lost`); not after its receipt request "
                        "(`ship_date_after_receipt_request`)."),
    _action("/orders/{reference}/cancellation", "cancelOrder",
            "Cancel the order while nothing has shipped (E8 to the buyer).",
            Answer("The order, cancelled (paid: its `refund_due` is what was paid).", Order,
                   links={**_same_order("getOrder"), **REFUND_DUE}), body=CancellationInput),
    _action("/orders/{reference}/refunds", "recordRefund",
            "« Remboursement effectué »: money given back to the buyer (R1 to the buyer).",
            Answer("The order with the refund (the last of `refunds`), its `refund_due` lowered.", Order,
                   links=_same_order("getOrder")),
            body=RefundInput, status=201,
            more={200: Answer("This request's refund was already recorded (a retry after its answer "
                              "was lost): nothing more done.", Order)},
            description="Only what an order owes: a cancelled paid order, closed quantities (« Clore le "
                        "reste »); never more than `refund_due` (`amount_exceeds_due`), never 0 "
                        "(`invalid_amount`), nothing before payment (`not_paid`) or with nothing owed "
                        "(`nothing_to_refund`); `method` one of the list (`unknown_refund_method`)."),
    _action("/orders/{reference}/remainder-closure", "closeRemainder",
            "« Clore le reste »: what is left to ship will not be (the buyer is told the items and "
            "the amount).",
            Answer("The order, its status following what was shipped (the closed items' amount in "
                   "`refund_due`).", Order, links={**_same_order("getOrder"), **REFUND_DUE}),
            body=ClosureInput),
    _action("/orders/{reference}/shipments/{number}/messages", "messageBuyer",
            "A message to the buyer about a parcel (e-mailed, kept in the history).",
            Answer("The order.", Order, links=_same_order("getOrder")), body=MessageInput, parcel=True),
    _action("/orders/{reference}/shipments/{number}/receipt-relaunch", "relaunchReceipt",
            "« Relancer la confirmation » of a parcel in problem: a new request and a new deadline.",
            Answer("The order, the parcel awaiting receipt again.", Order, links=_same_order("getOrder")),
            parcel=True),
    _action("/orders/{reference}/shipments/{number}/loss", "declareLost",
            "« Colis perdu »: the parcel is closed as lost, its items are to ship again (the buyer "
            "is told).",
            Answer("The order, the parcel lost.", Order, links=_same_order("getOrder")), parcel=True),
)
