"""The OpenAPI 3.1 document of the API, generated from the declared models.

Each endpoint is an `Operation`: its method and path, the pydantic model of its body (if
any), of its query parameters (if any) and of each answer, with examples. The schemas of those
models go under `components/schemas` by class name; an answer without a model is the error
body (`schemas.errors.Error`).

To document a new endpoint, describe it next to its view and register it::

    from .openapi import Answer, Operation, error, register, REFERENCE, UNAUTHORIZED
    from .schemas.orders import Order

    register(Operation(
        "post", "/orders/{reference}/payment", "confirmPayment", "Confirm the payment.",
        parameters=(REFERENCE,),
        body=PaymentInput,                    # a pydantic model, or None
        answers={
            200: Answer("The order, paid.", Order),
            401: UNAUTHORIZED,
            404: error("No such order."),
            422: error("Refused: `code` names the rule."),
        },
    ))

`register` must run before the document is first built: at the import of the views'
module (every module of `uniqu3.api` is imported with the package). The schemas cannot
drift from what the code does: request models are what the API checks with, and the tests
check every answer against the answer's model and the whole document with schemathesis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from . import idempotency
from .blueprint import PREFIX
from .schemas.errors import Error
from .schemas.orders import REFERENCE_PATTERN, Order, OrderInput

JSON = "application/json"
REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Answer:
    """One status of an operation: its description, the model of its body (None: the error
    body), its headers, OpenAPI links and examples by name."""

    description: str
    model: type[BaseModel] | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)
    links: Mapping[str, Any] = field(default_factory=dict)
    examples: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    method: Literal["get", "post", "put", "patch", "delete"]
    path: str  # under /api/v1, with {parameters}
    operation_id: str
    summary: str
    answers: Mapping[int, Answer]
    body: type[BaseModel] | None = None
    #: A model whose fields are the query parameters (each field's schema and description).
    query: type[BaseModel] | None = None
    parameters: Sequence[Mapping[str, Any]] = ()
    description: str = ""
    body_examples: Mapping[str, Any] = field(default_factory=dict)
    #: False: the body may be left out (every member optional).
    body_required: bool = True


def error(description: str, headers: Mapping[str, Any] | None = None) -> Answer:
    """An error answer: the error body."""
    return Answer(description, None, headers=headers or {})


UNAUTHORIZED = error(
    "Missing, malformed, unknown or revoked API key.",
    {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
)

REFERENCE: Mapping[str, Any] = {
    "name": "reference",
    "in": "path",
    "required": True,
    "description": "Read whatever its case.",
    # The pattern in either case (JSON Schema's regular expressions have no flags).
    "schema": {"type": "string", "pattern": "^" + REFERENCE_PATTERN.replace("UQ", "[Uu][Qq]") + "$",
               "examples": ["UQ-2026-000123"]},
}

#: Every POST and PATCH takes it (`uniqu3.api.idempotency`).
IDEMPOTENCY_KEY: Mapping[str, Any] = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": "The same key with the same request (method, path, body) answers the same "
                   "(with `Idempotent-Replayed: true`) and acts once, for 24 hours; with another "
                   "request, 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_LENGTH,
               "pattern": f"^{idempotency.KEY_PATTERN}$",
               "examples": ["0b6f1c8e-2f6a-4d8e-9a57-3c1d2b7e9f10"]},
}
IDEMPOTENCY_400 = error("The body is not valid JSON, or the Idempotency-Key header is unusable.")
IDEMPOTENCY_409 = error("The Idempotency-Key was used for another request, or its first request is "
                        "still being answered (`Retry-After`).")
RATE_LIMITED = error("Too many requests with this key (API_RATE_LIMIT).",
                     {"Retry-After": {"required": True, "description": "Seconds to wait.",
                                      "schema": {"type": "integer", "minimum": 1}}})

OPERATIONS: list[Operation] = [
    Operation(
        "post", "/orders", "createOrder",
        "Record a new order (idempotent on the seller and external_id).",
        body=OrderInput,
        answers={
            201: Answer(
                "Order recorded; the seller and the buyer are e-mailed.", Order,
                headers={"Location": {"required": True, "schema": {"type": "string"}}},
                links={"GetOrder": {"operationId": "getOrder",
                                    "parameters": {"reference": "$response.body#/reference"}},
                       "ConfirmPayment": {"operationId": "confirmPayment",
                                          "parameters": {"reference": "$response.body#/reference"}},
                       "CancelOrder": {"operationId": "cancelOrder",
                                       "parameters": {"reference": "$response.body#/reference"}},
                       "FindOrder": {"operationId": "listOrders",
                                     "parameters": {"external_id": "$response.body#/external_id"}}},
            ),
            200: Answer("The same order was already recorded (a replay): nothing done, no e-mail.",
                        Order),
            400: error("The body is not valid JSON."),
            401: UNAUTHORIZED,
            409: error("This external_id was already recorded for this seller with another content."),
            413: error("Body larger than API_MAX_BODY_BYTES (256 KB by default)."),
            415: error("Content-Type is not application/json."),
            422: error("Invalid order: every problem by field path in `fields`."),
        },
    ),
    Operation(
        "get", "/orders/{reference}", "getOrder",
        "An order: status, lines, parcels, receipt confirmation.",
        parameters=(REFERENCE,),
        answers={
            200: Answer("The order.", Order),
            401: UNAUTHORIZED,
            404: error("No such order (or another seller's, for a seller's key)."),
        },
    ),
]


def register(*operations: Operation) -> None:
    """Add operations to the document (before it is first built)."""
    OPERATIONS.extend(operations)
    document.cache_clear()


class _Schemas(GenerateJsonSchema):
    # Titles repeat the property names ("Sku"): left out.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _components(operations: Sequence[Operation]) -> dict[str, Any]:
    """Every model's schema (and the models they hold) by class name."""
    used: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Error, "serialization"): None}
    for op in operations:
        if op.body is not None:
            used[(op.body, "validation")] = None
        for answer in op.answers.values():
            if answer.model is not None:
                used[(answer.model, "serialization")] = None
    _, top = models_json_schema(list(used), ref_template=REF, schema_generator=_Schemas)
    schemas: dict[str, Any] = top.get("$defs", {})
    for schema in schemas.values():
        schema.pop("title", None)
    return dict(sorted(schemas.items()))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF, schema_generator=_Schemas)
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        parameter["schema"] = prop
        parameters.append(parameter)
    return parameters


def _answer(answer: Answer) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": _ref(answer.model or Error)}
    if answer.examples:
        content["examples"] = {name: {"value": value} for name, value in answer.examples.items()}
    out: dict[str, Any] = {"description": answer.description, "content": {JSON: content}}
    if answer.headers:
        out["headers"] = dict(answer.headers)
    if answer.links:
        out["links"] = dict(answer.links)
    return out


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    parameters = [dict(p) for p in op.parameters]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    answers = dict(op.answers)
    if op.method.upper() in idempotency.METHODS:  # they take an Idempotency-Key (uniqu3.api.guard)
        parameters.append(dict(IDEMPOTENCY_KEY))
        answers.setdefault(400, IDEMPOTENCY_400)
        answers.setdefault(409, IDEMPOTENCY_409)
    if 401 in answers:  # every call with a key counts against its rate
        answers.setdefault(429, RATE_LIMITED)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        content: dict[str, Any] = {"schema": _ref(op.body)}
        if op.body_examples:
            content["examples"] = {name: {"value": value} for name, value in op.body_examples.items()}
        out["requestBody"] = {"required": op.body_required, "content": {JSON: content}}
    out["responses"] = {str(status): _answer(answer) for status, answer in sorted(answers.items())}
    return out


@cache
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
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
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "uq_live_<prefix>_<secret>",
                },
            },
            "schemas": _components(OPERATIONS),
        },
    }
