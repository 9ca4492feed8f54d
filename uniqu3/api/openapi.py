"""The OpenAPI 3.1 document of the API, built from the same limits the code enforces."""

from __future__ import annotations

from functools import cache
from typing import Any

from .. import intake
from ..models import OrderStatus, ProblemReason, ShipmentStatus
from ..workflow import refunds, rules
from .blueprint import PREFIX
from .errors import CODES
from .serialize import REFERENCE_PATTERN

JSON = "application/json"


def _text(max_length: int, *, required: bool = True, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "maxLength": max_length,
        "pattern": f"^{intake.TEXT_PATTERN}$",
    }
    if required:
        schema["minLength"] = 1
    if description:
        schema["description"] = description
    return schema


def _email(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": rules.EMAIL_MAX,
        # RFC 5321's mailbox, as the API checks it; in ASCII: e-mails are sent without SMTPUTF8.
        "format": "email",
        "description": f"{description} ASCII only.",
        "examples": ["camille@example.fr"],
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


_TIMESTAMP = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC."}
_MONEY = {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "examples": ["34.90"]}

ADDRESS_IN: dict[str, Any] = {
    "type": "object",
    "required": ["name", "line1", "postal_code", "city", "country"],
    "properties": {
        "name": _text(intake.MAX_NAME),
        "line1": _text(intake.MAX_ADDRESS_LINE),
        "line2": _nullable(_text(intake.MAX_ADDRESS_LINE, required=False)),
        "postal_code": {
            "type": "string",
            "pattern": f"^{intake.POSTAL_CODE_PATTERN}$",
            "description": "FR: 5 digits. Elsewhere: 2 to 10 letters, digits, spaces or dashes.",
        },
        "city": _text(intake.MAX_CITY),
        "country": {
            "type": "string",
            "enum": sorted(intake.COUNTRY_CODES),
            "description": "ISO 3166-1 alpha-2, upper case.",
        },
    },
    # The French rule on top of the general one.
    "if": {"properties": {"country": {"const": "FR"}}, "required": ["country"]},
    "then": {"properties": {"postal_code": {"pattern": f"^{intake.FR_POSTAL_CODE_PATTERN}$"}}},
}

LINE_IN: dict[str, Any] = {
    "type": "object",
    "required": ["sku", "title", "quantity", "unit_price"],
    "properties": {
        "sku": _text(intake.MAX_SKU, description="The product reference; unique within the order."),
        "title": _text(intake.MAX_TITLE),
        "quantity": {"type": "integer", "minimum": 1, "maximum": rules.MAX_QUANTITY},
        "unit_price": {
            "type": "string",
            "pattern": f"^{intake.PRICE_PATTERN}$",
            "description": "Euros as a decimal string, at most 2 decimals, not negative.",
            "examples": ["34.90"],
        },
    },
}

ORDER_IN: dict[str, Any] = {
    "type": "object",
    "required": [
        "external_id", "seller", "buyer", "billing_address", "shipping_address", "currency", "lines",
    ],
    "description": (
        "Unknown members are ignored. Rules a schema cannot state are answered 422: the seller "
        "must exist and be active (and be the key's seller for a key bound to a seller), SKUs "
        "are unique within the order, the order's total is at most 21474836.47, and texts are "
        "not blank."
    ),
    "properties": {
        "external_id": _text(
            intake.MAX_EXTERNAL_ID,
            description="The marketplace's own order id: sending it again with the same content "
                        "is answered 200 with the same order; with another content, 409.",
        ),
        "seller": _email("The seller's login e-mail."),
        "buyer": {
            "type": "object",
            "required": ["name", "email"],
            "properties": {"name": _text(intake.MAX_NAME), "email": _email("The buyer's e-mail.")},
        },
        "billing_address": _ref("AddressInput"),
        "shipping_address": _ref("AddressInput"),
        "currency": {"type": "string", "enum": [rules.CURRENCY]},
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": rules.MAX_LINES,
            "items": _ref("LineInput"),
        },
    },
    "examples": [{
        "external_id": "MKT-1001",
        "seller": "atelier@example.fr",
        "buyer": {"name": "Camille Martin", "email": "camille@example.fr"},
        "billing_address": {"name": "Camille Martin", "line1": "12 rue des Lilas", "line2": "",
                            "postal_code": "69003", "city": "Lyon", "country": "FR"},
        "shipping_address": {"name": "Camille Martin", "line1": "12 rue des Lilas", "line2": "",
                             "postal_code": "69003", "city": "Lyon", "country": "FR"},
        "currency": "EUR",
        "lines": [{"sku": "BAG-RED-01", "title": "Sac cabas rouge", "quantity": 2,
                   "unit_price": "34.90"}],
    }],
}

ADDRESS_OUT: dict[str, Any] = {
    "type": "object",
    "required": ["name", "line1", "line2", "postal_code", "city", "country"],
    "properties": {key: {"type": "string"} for key in
                   ("name", "line1", "line2", "postal_code", "city", "country")},
}

LINE_OUT: dict[str, Any] = {
    "type": "object",
    "required": ["position", "sku", "title", "quantity", "shipped_quantity", "closed_quantity",
                 "remaining_quantity", "unit_price", "line_total"],
    "properties": {
        "position": {"type": "integer", "minimum": 1},
        "sku": {"type": "string"},
        "title": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "shipped_quantity": {"type": "integer", "minimum": 0},
        "closed_quantity": {"type": "integer", "minimum": 0,
                            "description": "Closed by the seller (« Clore le reste »): will not be shipped, "
                                           "its amount is owed back to the buyer."},
        "remaining_quantity": {"type": "integer", "minimum": 0,
                               "description": "Still to ship: quantity − shipped − closed."},
        "unit_price": _MONEY,
        "line_total": _MONEY,
    },
}

SHIPMENT_OUT: dict[str, Any] = {
    "type": "object",
    "required": ["number", "status", "status_label", "carrier", "carrier_label", "tracking_number",
                 "tracking_url", "shipped_on", "items", "receipt", "lost_at", "problems"],
    "properties": {
        "number": {"type": "integer", "minimum": 1, "description": "Parcel number within the order."},
        "status": {"type": "string", "enum": [s.value for s in ShipmentStatus],
                   "description": "`problem`: the buyer reported a problem, the parcel is not received "
                                  "automatically until the seller answers; `lost`: closed by the seller "
                                  "as lost, its quantities are back in `remaining_quantity`."},
        "status_label": {"type": "string", "examples": ["Expédié", "Problème signalé"]},
        "carrier": {"type": "string", "examples": ["colissimo"]},
        "carrier_label": {"type": "string", "examples": ["Colissimo (La Poste)"]},
        "tracking_number": {"type": ["string", "null"]},
        "tracking_url": {"type": ["string", "null"]},
        "shipped_on": {"type": "string", "format": "date"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}},
            },
        },
        "receipt": {
            "type": "object",
            "description": "The proof of receipt: the same facts as the seller's printable "
                           "« Preuve de réception » page.",
            "required": ["status", "requested_at", "request_email_to", "request_email_sent_at",
                         "request_email_message_id", "due_at", "reminded_at", "received_at",
                         "received_by", "ip", "user_agent", "proof_page"],
            "properties": {
                "status": {"type": "string",
                           "enum": ["not_requested", "awaiting", "received", "problem", "lost"]},
                "requested_at": _nullable({**_TIMESTAMP, "description": "When the seller asked the "
                                           "buyer to confirm (the request e-mail E5 was written)."}),
                "request_email_to": {"type": ["string", "null"],
                                     "description": "The address the request e-mail was sent to."},
                "request_email_sent_at": _nullable({**_TIMESTAMP, "description": "When the mail "
                                                    "server accepted the request e-mail; null until then."}),
                "request_email_message_id": {"type": ["string", "null"],
                                             "description": "The request e-mail's Message-ID header.",
                                             "examples": ["<uq42.5f0c…@uniqu3app.fr>"]},
                "due_at": _nullable({**_TIMESTAMP, "description": "When it becomes received "
                                     "automatically without the buyer's confirmation (UTC)."}),
                "reminded_at": _nullable({**_TIMESTAMP, "description": "When the reminder before "
                                          "the deadline was sent; null if none was."}),
                "received_at": _nullable(_TIMESTAMP),
                "received_by": {"type": ["string", "null"], "enum": ["buyer", "auto", None]},
                "ip": {"type": ["string", "null"], "description": "The buyer's IP address when they "
                       "confirmed (received_by buyer), else null."},
                "user_agent": {"type": ["string", "null"], "description": "The buyer's browser "
                               "(User-Agent) when they confirmed, else null."},
                "proof_page": {"type": ["string", "null"], "description": "The printable proof of "
                               "receipt in the seller's dashboard, once received."},
            },
        },
        "lost_at": _nullable({**_TIMESTAMP, "description": "When the seller declared it lost (UTC)."}),
        "problems": {
            "type": "array",
            "description": "The buyer's « Signaler un problème » reports, oldest first.",
            "items": {
                "type": "object",
                "required": ["reported_at", "reason", "reason_label", "message", "resolved_at", "resolution"],
                "properties": {
                    "reported_at": _TIMESTAMP,
                    "reason": {"type": "string", "enum": [r.value for r in ProblemReason]},
                    "reason_label": {"type": "string", "examples": ["Colis non reçu"]},
                    "message": {"type": "string", "maxLength": 2000},
                    "resolved_at": _nullable(_TIMESTAMP),
                    "resolution": {"type": ["string", "null"],
                                   "enum": ["relaunched", "lost", "received", None],
                                   "description": "How it ended: confirmation asked again, parcel "
                                                  "lost, or received by the buyer."},
                },
            },
        },
    },
}

ORDER_OUT: dict[str, Any] = {
    "type": "object",
    "required": ["reference", "external_id", "seller", "status", "status_label", "buyer",
                 "billing_address", "shipping_address", "currency", "totals", "lines", "shipments",
                 "paid_at", "cancelled_at", "cancel_reason", "refund_owed", "refund_due", "refunds",
                 "created_at", "updated_at", "links"],
    "properties": {
        "reference": {"type": "string", "pattern": f"^{REFERENCE_PATTERN}$",
                      "examples": ["UQ-2026-000123"]},
        "external_id": {"type": "string"},
        "seller": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in OrderStatus]},
        "status_label": {"type": "string", "examples": ["En attente de paiement"]},
        "buyer": {
            "type": "object",
            "required": ["name", "email"],
            "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
        },
        "billing_address": _ref("Address"),
        "shipping_address": _ref("Address"),
        "currency": {"type": "string", "enum": [rules.CURRENCY]},
        "totals": {
            "type": "object",
            "required": ["amount", "quantity", "shipped_quantity"],
            "properties": {
                "amount": _MONEY,
                "quantity": {"type": "integer", "minimum": 1},
                "shipped_quantity": {"type": "integer", "minimum": 0},
            },
        },
        "lines": {"type": "array", "items": _ref("Line")},
        "shipments": {"type": "array", "items": _ref("Shipment")},
        "paid_at": _nullable(_TIMESTAMP),
        "cancelled_at": _nullable(_TIMESTAMP),
        "cancel_reason": {"type": ["string", "null"]},
        "refund_owed": {**_MONEY, "description": "What the buyer must get back in all: everything paid "
                        "for a cancelled paid order (items and shipping costs), else the closed quantities "
                        "of a paid order; 0.00 until paid. Equals `refund_due` + the sum of `refunds`."},
        "refund_due": {**_MONEY, "description": "What is still to refund."},
        "refunds": {
            "type": "array",
            "description": "The refunds recorded (« Remboursement effectué »), oldest first; never more "
                           "in all than what was paid.",
            "items": {
                "type": "object",
                "required": ["amount", "method", "method_label", "reference", "note", "recorded_at"],
                "properties": {
                    "amount": _MONEY,
                    "method": {"type": "string", "enum": list(refunds.METHODS)},
                    "method_label": {"type": "string", "examples": ["Virement"]},
                    "reference": {"type": "string"},
                    "note": {"type": "string"},
                    "recorded_at": _TIMESTAMP,
                },
            },
        },
        "created_at": _TIMESTAMP,
        "updated_at": _TIMESTAMP,
        "links": {
            "type": "object",
            "required": ["self", "seller_page"],
            "properties": {
                "self": {"type": "string", "description": "This order in the API."},
                "seller_page": {"type": "string", "description": "The order in the seller's pages."},
            },
        },
    },
}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "enum": sorted(set(CODES.values()))},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Per-field messages, by path: `lines[2].quantity`, `buyer.email`.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": _ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


_UNAUTHORIZED = _error(
    "Missing, malformed, unknown or revoked API key.",
    {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
)


@cache
def document() -> dict[str, Any]:
    order_response = {"content": {JSON: {"schema": _ref("Order")}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "UNIQU3 — order intake API",
            "version": "1.0.0",
            "description": (
                "The marketplace storefront pushes each new order to the seller and reads its "
                "status. JSON only; authenticate with `Authorization: Bearer <api key>` (keys are "
                "created with `flask admin create-api-key`). A key bound to a seller only sees "
                "and records that seller's orders: another seller's reference is 404, another "
                "seller in a body is 422 on `seller`. Errors are "
                '`{"error": {"code", "message", "fields"}}` with a stable `code`. Messages and '
                "status labels are French, or English with `Accept-Language: en`."
            ),
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/orders": {
                "post": {
                    "operationId": "createOrder",
                    "summary": "Record a new order (idempotent on the seller and external_id).",
                    "requestBody": {"required": True, "content": {JSON: {"schema": _ref("OrderInput")}}},
                    "responses": {
                        "201": {
                            "description": "Order recorded; the seller and the buyer are e-mailed.",
                            "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
                            **order_response,
                            "links": {"GetOrder": {
                                "operationId": "getOrder",
                                "parameters": {"reference": "$response.body#/reference"},
                            }},
                        },
                        "200": {
                            "description": "The same order was already recorded (a replay): "
                                           "nothing done, no e-mail.",
                            **order_response,
                        },
                        "400": _error("The body is not valid JSON."),
                        "401": _UNAUTHORIZED,
                        "409": _error("This external_id was already recorded for this seller "
                                      "with another content."),
                        "413": _error("Body larger than API_MAX_BODY_BYTES (256 KB by default)."),
                        "415": _error("Content-Type is not application/json."),
                        "422": _error("Invalid order: every problem by field path in `fields`."),
                    },
                },
            },
            "/orders/{reference}": {
                "get": {
                    "operationId": "getOrder",
                    "summary": "An order: status, lines, parcels, receipt confirmation.",
                    "parameters": [{
                        "name": "reference",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": f"^{REFERENCE_PATTERN}$",
                                   "examples": ["UQ-2026-000123"]},
                    }],
                    "responses": {
                        "200": {"description": "The order.", **order_response},
                        "401": _UNAUTHORIZED,
                        "404": _error("No such order (or another seller's, for a seller's key)."),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "uq_live_<prefix>_<secret>",
                },
            },
            "schemas": {
                "OrderInput": ORDER_IN,
                "AddressInput": ADDRESS_IN,
                "LineInput": LINE_IN,
                "Order": ORDER_OUT,
                "Address": ADDRESS_OUT,
                "Line": LINE_OUT,
                "Shipment": SHIPMENT_OUT,
                "Error": ERROR,
            },
        },
    }
