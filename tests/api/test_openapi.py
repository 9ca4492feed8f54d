"""The OpenAPI document says what the code does: schemathesis drives the app with generated
requests and checks every answer against the document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from tests.conftest import Clock
from uniqu3.api.openapi import document
from uniqu3.models import Order, Seller
from uniqu3.workflow import Actor, Workflow

# Light with the rest of the suite; the reliability suite runs the deep one
# (RELIABILITY_API_EXAMPLES, tests/reliability/test_bad_input.py).
MAX_EXAMPLES = 25


def test_the_document_is_served_without_a_key(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        "/orders", "/orders/{reference}", "/orders/{reference}/payment", "/orders/{reference}/shipments",
        "/orders/{reference}/shipments/{number}/receipt-request", "/orders/{reference}/cancellation",
        "/orders/{reference}/remainder-closure", "/orders/{reference}/shipments/{number}/messages",
        "/orders/{reference}/shipments/{number}/receipt-relaunch",
        "/orders/{reference}/shipments/{number}/loss", "/orders/{reference}/shipments/{number}",
        "/orders/{reference}/payment/cancellation", "/orders/{reference}/refunds",
    }
    assert set(doc["paths"]["/orders/{reference}/shipments/{number}"]) == {"patch"}
    assert set(doc["paths"]["/orders"]) == {"get", "post"}
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "uq_live_<prefix>_<secret>",
    }
    post = doc["paths"]["/orders"]["post"]["responses"]
    assert set(post) == {"200", "201", "400", "401", "409", "413", "415", "422", "429"}
    for status in ("400", "401", "409", "413", "415", "422", "429"):
        assert post[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert post["429"]["headers"]["Retry-After"]["required"] is True
    # Every POST and PATCH takes an Idempotency-Key; every answer with a key may be 429.
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", ())]
            assert ("Idempotency-Key" in names) == (method in ("post", "patch")), (method, path)
            assert "429" in operation["responses"], (method, path)
    ship = doc["paths"]["/orders/{reference}/shipments"]["post"]
    assert set(ship["responses"]["201"]["links"]) == {"RequestReceipt", "EditShipment", "GetOrder"}
    assert ship["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ShipmentInput"}
    for body in ("ShipmentInput", "ParcelEditInput", "PaymentUndoInput", "RefundInput"):
        assert doc["components"]["schemas"][body]["examples"], body
    codes = doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"]
    assert {"not_paid", "nothing_left_to_ship", "quantity_exceeds_remaining", "rate_limited",
            "amount_exceeds_due", "remainder_closed", "ship_date_after_receipt_request"} <= set(codes)


def test_the_example_of_the_document_is_accepted(client: FlaskClient, auth: dict[str, str],
                                                 seller: Seller) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    [example] = doc["components"]["schemas"]["OrderInput"]["examples"]
    assert client.post("/api/v1/orders", json=example, headers=auth).status_code == 201


# The document as the app serves it (checked equal above); the app under test is given at
# call time, as it is a per-test fixture.
CONFIG = schemathesis.Config.from_dict({
    "checks": {
        # Valid by the schema but refused by a rule it cannot state (the seller must exist, SKUs
        # unique in the order, the total's limit, texts not blank): 422 is then the answer.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "409", "422"]},
    },
})
schema = schemathesis.openapi.from_dict(document(), config=CONFIG)


def test_the_served_document_is_the_one_tested(client: FlaskClient) -> None:
    assert client.get("/api/v1/openapi.json").get_json() == json.loads(json.dumps(document()))


@pytest.fixture
def known_reference(make_order: Callable[..., Order], wf: Workflow, clock: Clock) -> str:
    """An order with a parcel awaiting receipt and a line still to ship."""
    order = make_order()
    seller = Actor.seller("atelier@example.fr")
    wf.confirm_payment(order.id, actor=seller)
    first = min(order.lines, key=lambda line: line.position)
    clock.advance(days=1)
    shipment = wf.ship(order.id, actor=seller, quantities={first.id: first.quantity},
                       carrier="mondial_relay", tracking_number="12345678").shipment
    assert shipment is not None
    wf.request_receipt(shipment.id, actor=seller)
    return order.reference


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_document(case: Any, app: Flask, auth: dict[str, str],
                                          seller: Seller, known_reference: str) -> None:
    aim(case, app, seller, known_reference)
    case.call_and_validate(app=app, headers=auth)


def aim(case: Any, app: Flask, seller: Seller, known_reference: str) -> None:
    """A generated case made to reach what exists: generated e-mails name nobody, so a valid
    body is for the existing seller and orders really get recorded (the unknown seller has its
    own tests); half of the valid references are the known order's."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and isinstance(case.body, dict) and "seller" in case.body:
        case.body["seller"] = seller.email
    if positive and case.path_parameters and len(case.path_parameters["reference"]) % 2:
        case.path_parameters["reference"] = known_reference
    # The app is a per-test fixture (fresh database): bind it to the schema for this run, also
    # for the checks that send their own probes (e.g. the same request without the key).
    case.operation.schema.app = app
