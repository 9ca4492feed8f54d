"""An order: the body the marketplace sends (`OrderInput`) and the order as the API shows it.

The input models check the body (`uniqu3.intake` reads it through them, for the API and the
CLI import); the output models describe what `uniqu3.api.serialize` writes (the tests check
every answer against them). Both are the OpenAPI document's schemas, under their class names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from ...models import OrderStatus, ProblemReason, ShipmentStatus
from ...workflow import refunds, rules
from ...workflow.inputs import Address, PickupPoint
from .fields import (
    FRENCH_POSTAL_CODE_SCHEMA,
    Country,
    Currency,
    Email,
    Phone,
    PostalCode,
    Price,
    Quantity,
    bounded_list,
    postal_code_of,
    text,
)

# Column sizes (uniqu3/models.py).
MAX_EXTERNAL_ID = 100
MAX_NAME = 200
MAX_ADDRESS_LINE = 200
MAX_CITY = 100
MAX_SKU = 64
MAX_TITLE = 300
MAX_PICKUP_CARRIER = 100
MAX_PICKUP_ID = 64

#: The spec's example (section 4), shown in the document and accepted by the API.
EXAMPLE: dict[str, Any] = {
    "external_id": "MKT-1001",
    "seller": "atelier@example.fr",
    "buyer": {"name": "Camille Martin", "email": "camille@example.fr"},
    "billing_address": {"name": "Camille Martin", "line1": "12 rue des Lilas", "line2": "",
                        "postal_code": "69003", "city": "Lyon", "country": "FR"},
    "shipping_address": {"name": "Camille Martin", "line1": "12 rue des Lilas", "line2": "",
                         "postal_code": "69003", "city": "Lyon", "country": "FR"},
    "currency": "EUR",
    "lines": [{"sku": "BAG-RED-01", "title": "Sac cabas rouge", "quantity": 2, "unit_price": "34.90"}],
}

Sku = Annotated[str, text(MAX_SKU, description="The product reference; unique within the order.")]


# ----------------------------------------------------------------------------- input
class AddressInput(BaseModel):
    model_config = ConfigDict(json_schema_extra=FRENCH_POSTAL_CODE_SCHEMA)

    name: Annotated[str, text(MAX_NAME)]
    line1: Annotated[str, text(MAX_ADDRESS_LINE)]
    line2: Annotated[str, text(MAX_ADDRESS_LINE, required=False)] = ""
    city: Annotated[str, text(MAX_CITY)]
    # Before the postal code, which is checked against it.
    country: Country
    postal_code: PostalCode

    @field_validator("postal_code")
    @classmethod
    def _postal_code_of_the_country(cls, code: str, info: ValidationInfo) -> str:
        return postal_code_of(code, info.data.get("country"))


class PickupPointInput(AddressInput):
    """A relay or pickup point (Mondial Relay, Relais Colis, point retrait): where the parcel
    goes instead of the shipping address."""

    carrier: Annotated[str, text(MAX_PICKUP_CARRIER, description="The point's network, as the "
                                 "marketplace names it.")]
    id: Annotated[str, text(MAX_PICKUP_ID, description="The point's id in its network: the "
                            "seller writes it on the parcel.")]


class BuyerInput(BaseModel):
    name: Annotated[str, text(MAX_NAME)]
    email: Annotated[Email, Field(description="The buyer's e-mail. ASCII only.")]
    phone: Phone = None


class LineInput(BaseModel):
    sku: Sku
    title: Annotated[str, text(MAX_TITLE)]
    quantity: Quantity
    unit_price: Price


_line_count = bounded_list(
    rules.MAX_LINES,
    _l("Une commande a au plus %(max)d lignes.", max=rules.MAX_LINES),
    _l("Une commande a au moins une ligne."),
)


class OrderInput(BaseModel):
    model_config = ConfigDict(json_schema_extra={
        "description": (
            "Unknown members are ignored. Rules a schema cannot state are answered 422: the seller "
            "must exist and be active (and be the key's seller for a key bound to a seller), SKUs "
            "are unique within the order, the order's total is at most 21474836.47, and texts are "
            "not blank."
        ),
        "examples": [EXAMPLE],
    })

    external_id: Annotated[str, text(
        MAX_EXTERNAL_ID,
        description="The marketplace's own order id: sending it again with the same content "
                    "is answered 200 with the same order; with another content, 409.",
    )]
    seller: Annotated[Email, Field(description="The seller's login e-mail. ASCII only.")]
    buyer: BuyerInput
    billing_address: AddressInput
    shipping_address: AddressInput
    currency: Currency
    lines: Annotated[list[LineInput], BeforeValidator(_line_count),
                     Field(json_schema_extra={"minItems": 1, "maxItems": rules.MAX_LINES})]
    shipping_price: Annotated[Price, Field(json_schema_extra={
        "description": "What the buyer pays for the shipping, in the total. Euros as a decimal "
                       "string, at most 2 decimals, not negative.",
        "default": "0.00",
    })] = 0
    pickup_point: PickupPointInput | None = None


# ----------------------------------------------------------------------------- output
Money = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["34.90"])]
Timestamp = Annotated[datetime, Field(description="ISO 8601, UTC.")]


class Line(BaseModel):
    position: Annotated[int, Field(ge=1)]
    sku: str
    title: str
    quantity: Annotated[int, Field(ge=1)]
    shipped_quantity: Annotated[int, Field(ge=0)]
    closed_quantity: Annotated[int, Field(ge=0, description=(
        "Closed by the seller (« Clore le reste »): will not be shipped, its amount is owed back "
        "to the buyer."))]
    remaining_quantity: Annotated[int, Field(ge=0, description="Still to ship: quantity − shipped − closed.")]
    unit_price: Money
    line_total: Money


class ShipmentItem(BaseModel):
    sku: str
    quantity: Annotated[int, Field(ge=1)]


class Receipt(BaseModel):
    """The proof of receipt: the same facts as the seller's printable « Preuve de réception » page."""

    status: Literal["not_requested", "awaiting", "received", "problem", "lost"]
    requested_at: Annotated[datetime | None, Field(
        description="When the seller asked the buyer to confirm (the request e-mail E5 was written).")]
    request_email_to: Annotated[str | None, Field(description="The address the request e-mail was sent to.")]
    request_email_sent_at: Annotated[datetime | None, Field(
        description="When the mail server accepted the request e-mail; null until then.")]
    request_email_message_id: Annotated[str | None, Field(
        description="The request e-mail's Message-ID header.", examples=["<uq42.5f0c…@uniqu3app.fr>"])]
    due_at: Annotated[datetime | None, Field(
        description="When it becomes received automatically without the buyer's confirmation (UTC).")]
    reminded_at: Annotated[datetime | None, Field(
        description="When the reminder before the deadline was sent; null if none was.")]
    received_at: Annotated[datetime | None, Field(description="ISO 8601, UTC.")]
    received_by: Literal["buyer", "auto"] | None
    ip: Annotated[str | None, Field(
        description="The buyer's IP address when they confirmed (received_by buyer), else null.")]
    user_agent: Annotated[str | None, Field(
        description="The buyer's browser (User-Agent) when they confirmed, else null.")]
    proof_page: Annotated[str | None, Field(
        description="The printable proof of receipt in the seller's dashboard, once received.")]


class ProblemReport(BaseModel):
    """A buyer's « Signaler un problème » report."""

    reported_at: Timestamp
    reason: ProblemReason
    reason_label: Annotated[str, Field(examples=["Colis non reçu"])]
    message: Annotated[str, Field(max_length=rules.MESSAGE_MAX)]
    resolved_at: Annotated[datetime | None, Field(description="ISO 8601, UTC.")]
    resolution: Annotated[Literal["relaunched", "lost", "received"] | None, Field(
        description="How it ended: confirmation asked again, parcel lost, or received by the buyer.")]


class Shipment(BaseModel):
    number: Annotated[int, Field(ge=1, description="Parcel number within the order.")]
    status: Annotated[ShipmentStatus, Field(
        description="`problem`: the buyer reported a problem, the parcel is not received "
                    "automatically until the seller answers; `lost`: closed by the seller "
                    "as lost, its quantities are back in `remaining_quantity`.")]
    status_label: Annotated[str, Field(examples=["Expédié", "Problème signalé"])]
    carrier: Annotated[str, Field(examples=["colissimo"])]
    carrier_label: Annotated[str, Field(examples=["Colissimo (La Poste)"])]
    tracking_number: str | None
    tracking_url: str | None
    shipped_on: date
    items: list[ShipmentItem]
    receipt: Receipt
    lost_at: Annotated[datetime | None, Field(description="When the seller declared it lost (UTC).")]
    problems: Annotated[list[ProblemReport], Field(
        description="The buyer's « Signaler un problème » reports, oldest first.")]


class Buyer(BaseModel):
    name: str
    email: str
    phone: Annotated[str | None, Field(description="E.164.", examples=["+33612345678"])]


class Totals(BaseModel):
    items: Annotated[Money, Field(description="The items' subtotal.")]
    shipping: Annotated[Money, Field(description="The shipping costs.")]
    amount: Annotated[Money, Field(description="What the buyer pays: items and shipping.")]
    quantity: Annotated[int, Field(ge=1)]
    shipped_quantity: Annotated[int, Field(ge=0)]


class RefundRecord(BaseModel):
    """A refund the seller recorded (« Remboursement effectué »)."""

    amount: Money
    method: Annotated[str, Field(json_schema_extra={"enum": list(refunds.METHODS)})]
    method_label: Annotated[str, Field(examples=["Virement"])]
    reference: str
    note: str
    recorded_at: Timestamp


class OrderLinks(BaseModel):
    self: Annotated[str, Field(description="This order in the API.")]
    seller_page: Annotated[str, Field(description="The order in the seller's pages.")]


#: Reference shape ("UQ-2026-000123"); anything else is not looked up.
REFERENCE_PATTERN = r"UQ-[0-9]{4}-[0-9]{6,20}"


class Order(BaseModel):
    reference: Annotated[str, Field(pattern=f"^{REFERENCE_PATTERN}$", examples=["UQ-2026-000123"])]
    external_id: str
    seller: str
    status: OrderStatus
    status_label: Annotated[str, Field(examples=["En attente de paiement"])]
    buyer: Buyer
    # The addresses as the order keeps them (the workflow's dataclasses), shown as they are.
    billing_address: Address
    shipping_address: Address
    pickup_point: Annotated[PickupPoint | None, Field(
        description="The relay or pickup point the parcel goes to, instead of the shipping address.")]
    currency: Annotated[str, Field(json_schema_extra={"enum": [rules.CURRENCY]})]
    totals: Totals
    lines: list[Line]
    shipments: list[Shipment]
    paid_at: Annotated[datetime | None, Field(description="ISO 8601, UTC.")]
    cancelled_at: Annotated[datetime | None, Field(description="ISO 8601, UTC.")]
    cancel_reason: str | None
    refund_owed: Annotated[str, Field(
        pattern=r"^[0-9]+\.[0-9]{2}$", examples=["34.90"],
        description="What the buyer must get back in all: everything paid for a cancelled paid order "
                    "(items and shipping costs), else the closed quantities of a paid order; 0.00 until "
                    "paid. Equals `refund_due` + the sum of `refunds`.")]
    refund_due: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["0.00"],
                                     description="What is still to refund.")]
    refunds: Annotated[list[RefundRecord], Field(
        description="The refunds recorded, oldest first; never more in all than what was paid.")]
    created_at: Timestamp
    updated_at: Timestamp
    links: OrderLinks
