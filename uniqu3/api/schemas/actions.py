"""Bodies of the workflow's actions over the API (payment, parcels, cancellation, answers).

Shapes and limits only: whether the action is allowed (paid, quantities left, carrier and
tracking number, ship date) is the workflow's to say, with the same refusal as in the
seller's pages.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
)

from ...carriers import CARRIERS
from ...models import OrderStatus
from ...workflow.refunds import METHODS, NOTE_MAX, REFERENCE_MAX
from ...workflow.rules import MAX_LINES, MESSAGE_MAX
from .fields import Price, Quantity, problem
from .orders import Order

#: One line of text: no control character (C0 and DEL).
ONE_LINE = r"^[^\u0000-\u001f\u007f]*$"
#: Free text of several lines (a note, a reason): line breaks allowed, other control characters not.
FREE_TEXT = r"^[^\u0000-\u0009\u000b-\u001f\u007f]*$"

#: Orders per page of `GET /orders`: by default, and at most.
LIST_DEFAULT = 25
LIST_MAX = 100

Note = Annotated[str, StringConstraints(max_length=500, pattern=FREE_TEXT)]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ONE_LINE)]
CarrierCode = Annotated[str, Field(json_schema_extra={"enum": list[JsonValue](sorted(CARRIERS))},
                                   max_length=40)]
CarrierName = Annotated[str, StringConstraints(max_length=100, pattern=ONE_LINE)]
TrackingNumber = Annotated[str, StringConstraints(max_length=64, pattern=ONE_LINE)]


class _Body(BaseModel):
    # Strict: "2" is not a quantity; unknown members are refused rather than ignored (a
    # misspelt "tracking" would otherwise ship a parcel without its number).
    model_config = ConfigDict(strict=True, extra="forbid")


class PaymentInput(_Body):
    """`POST /orders/{reference}/payment`: the seller was paid (E3 to the buyer)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "Virement reçu le 5 décembre"}]})

    note: Note = Field("", description="How and when the seller was paid (shown in the history).")


class LineQuantity(_Body):
    sku: Sku = Field(description="A SKU of the order.")
    # The intake's quantity: 1 … MAX_QUANTITY, and 2.0 is the integer 2 (JSON has one number type).
    quantity: Annotated[Quantity, Field(description="How many of it.")]


class ShipmentInput(_Body):
    """`POST /orders/{reference}/shipments`: a parcel leaves (E4 to the buyer)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "lines": [{"sku": "BAG-RED-01", "quantity": 1}],
        "carrier": "colissimo", "tracking_number": "6A12345678901", "shipped_on": "2026-12-05",
    }]})

    lines: list[LineQuantity] = Field(min_length=1, max_length=MAX_LINES,
                                           description="What the parcel holds, each SKU once.")
    carrier: CarrierCode = Field(description="The carrier's code.")
    carrier_name: CarrierName | None = Field(
        None, description="The carrier's name, required with the carrier `other`.")
    tracking_number: TrackingNumber | None = Field(
        None, description="Required except for the carriers without tracking.")
    shipped_on: date | None = Field(
        None, description="The day it left (Europe/Paris), not in the future; default today.")


class ParcelEditInput(_Body):
    """`PATCH /orders/{reference}/shipments/{number}`: a parcel's carrier, tracking number or
    ship date typed wrong (E4U to the buyer). A member left out (or null) keeps the parcel's value."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"carrier": "colissimo", "tracking_number": "6A98765432109", "shipped_on": "2026-12-04"},
        {"tracking_number": "6A98765432109"},
    ]})

    carrier: CarrierCode | None = Field(None, description="The carrier's code.")
    carrier_name: CarrierName | None = Field(
        None, description="The carrier's name, required with the carrier `other` (kept while the "
                          "carrier stays `other`).")
    tracking_number: TrackingNumber | None = Field(
        None, description="Required except for the carriers without tracking.")
    shipped_on: date | None = Field(
        None, description="The day it left (Europe/Paris), not in the future, not after the receipt "
                          "request.")


class PaymentUndoInput(_Body):
    """`POST /orders/{reference}/payment/cancellation`: a payment confirmed by mistake, while
    nothing has shipped (E3U to the buyer)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Virement confirmé par erreur"}]})

    reason: Note = Field("", description="Why (told to the buyer, kept in the history).")


class RefundInput(_Body):
    """`POST /orders/{reference}/refunds`: « Remboursement effectué » (R1 to the buyer)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"amount": "12.50", "method": "transfer", "reference": "VIR-2026-1204", "note": "Carte épuisée"}]})

    amount: Annotated[Price, Field(
        description="Euros given back (\"12.50\"): more than 0, at most `refund_due`.")]
    method: str = Field(json_schema_extra={"enum": list[JsonValue](METHODS)}, max_length=40,
                        description="How it was given back.")
    reference: Annotated[str, StringConstraints(max_length=REFERENCE_MAX, pattern=ONE_LINE)] = Field(
        "", description="The payment's reference (a transfer's, a PayPal transaction id…).")
    note: Annotated[str, StringConstraints(max_length=NOTE_MAX, pattern=FREE_TEXT)] = Field(
        "", description="For the seller (kept in the history).")


class CancellationInput(_Body):
    """`POST /orders/{reference}/cancellation`: before anything shipped (E8 to the buyer)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Article en rupture de stock"}]})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=FREE_TEXT)] = Field(
        description="Why the order is cancelled (told to the buyer).")


class ClosureInput(_Body):
    """`POST /orders/{reference}/remainder-closure`: what is left to ship will not be (out of
    stock); the buyer is told which items and the amount concerned."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"reason": "Rupture de stock", "lines": [{"sku": "CARD-01", "quantity": 1}]}]})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=FREE_TEXT)] = Field(
        description="Why (told to the buyer).")
    lines: list[LineQuantity] | None = Field(
        None, min_length=1, max_length=MAX_LINES,
        description="The quantities to close, each SKU once; absent: everything left to ship.")


class MessageInput(_Body):
    """`POST /orders/{reference}/shipments/{number}/message`: a message to the buyer (P3)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Bonjour, le transporteur a ouvert une enquête ; je reviens vers vous demain."}]})

    message: Annotated[str, StringConstraints(min_length=1, max_length=MESSAGE_MAX,
                                              pattern=FREE_TEXT)] = Field(
        description="Sent to the buyer by e-mail and kept in the history.")


_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T.+")


def _iso_date_time(value: Any) -> Any:
    """Only ISO 8601 text: pydantic would also read a number as a Unix time."""
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise problem(_l("Date et heure ISO 8601 attendues, avec leur décalage "
                         "(ex. 2026-12-01T10:00:00Z)."))
    return value


class OrderListQuery(BaseModel):
    """`GET /orders`'s query: filters, and where the previous page ended."""

    # Query strings are text: "25" is read as a number here (the body models are strict).
    # An unknown parameter is refused: a misspelt filter must not answer every order.
    model_config = ConfigDict(extra="forbid")

    status: OrderStatus | None = Field(None, description="Only the orders in this status.")
    updated_since: Annotated[AwareDatetime, BeforeValidator(_iso_date_time)] | None = Field(
        None, description="Only the orders changed at or after this time (ISO 8601, with its offset).",
        examples=["2026-12-01T10:00:00Z"])
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None, description="The order the marketplace knows under this id (at most one per seller).")
    limit: int = Field(LIST_DEFAULT, ge=1, le=LIST_MAX, description="Orders per page.")
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="`next_cursor` of the previous page, as it was given.")


class NoBody(_Body):
    """The actions that take nothing: no body, or `{}`."""


class OrderList(BaseModel):
    """A page of `GET /orders`."""

    orders: list[Order] = Field(description="Most recently updated first, as `GET /orders/{reference}`.")
    next_cursor: str | None = Field(description="Give it as `cursor` for the next page; null on the last.")
