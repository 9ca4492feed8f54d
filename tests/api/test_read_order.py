"""GET /api/v1/orders/<reference>, and JSON errors everywhere under /api/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import jsonschema_rs
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.api.conftest import ORDERS_URL, bearer, order_body
from tests.conftest import Clock
from uniqu3.api.openapi import document
from uniqu3.extensions import db
from uniqu3.models import Order, OrderLine, OutboxEmail, Shipment
from uniqu3.workflow import Actor, Workflow

SELLER = Actor.seller("atelier@example.fr")


def _closed(schema: Any) -> Any:
    """`schema` where no object may hold a member its schema does not declare."""
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in schema:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def order_schema_validator() -> Any:
    """The document's Order schema, with its references resolved inside the document; the
    answer has every member the document declares and no other (the document itself lets
    clients ignore members added later)."""
    doc = document()
    schema = {"$ref": "#/components/schemas/Order", "components": _closed(doc["components"])}
    return jsonschema_rs.validator_for(schema)


def lines_of(order: Order) -> list[OrderLine]:
    return list(db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
    ))


@pytest.fixture
def shipped_order(make_order: Callable[..., Order], wf: Workflow, clock: Clock) -> Order:
    """Paid, first line shipped in a parcel awaiting receipt, second line still to ship."""
    order = make_order()
    clock.advance(hours=2)
    wf.confirm_payment(order.id, actor=SELLER)
    bag, _card = lines_of(order)
    clock.advance(days=1)
    shipment = wf.ship(order.id, actor=SELLER, quantities={bag.id: 2}, carrier="colissimo",
                       tracking_number="6A12345678901").shipment
    assert shipment is not None
    clock.advance(days=2)
    wf.request_receipt(shipment.id, actor=SELLER)
    return order


def test_an_order_shows_status_lines_parcels_and_receipt(
    client: FlaskClient, auth: dict[str, str], shipped_order: Order
) -> None:
    response = client.get(f"/api/v1/orders/{shipped_order.reference}", headers=auth)

    assert response.status_code == 200
    data = response.get_json()
    assert data["reference"] == shipped_order.reference
    assert data["status"] == "partially_shipped"
    assert data["status_label"] == "Partiellement expédiée"
    assert data["buyer"] == {"name": "Camille Martin", "email": "camille@example.fr", "phone": None}
    assert data["shipping_address"]["postal_code"] == "69003"
    assert data["paid_at"] == "2026-11-20T11:30:00Z"
    assert [(line["sku"], line["quantity"], line["shipped_quantity"], line["remaining_quantity"],
             line["unit_price"]) for line in data["lines"]] == [
        ("BAG-RED-01", 2, 2, 0, "34.90"),
        ("CARD-01", 1, 0, 1, "5.50"),
    ]
    assert data["totals"] == {"items": "75.30", "shipping": "0.00", "amount": "75.30", "quantity": 3,
                              "shipped_quantity": 2}
    [parcel] = data["shipments"]
    assert parcel["number"] == 1
    assert parcel["status"] == "awaiting_receipt"
    assert parcel["status_label"] == "Confirmation de réception demandée"
    assert parcel["carrier"] == "colissimo"
    assert parcel["carrier_label"] == "Colissimo (La Poste)"
    assert parcel["tracking_number"] == "6A12345678901"
    assert parcel["tracking_url"].endswith("code=6A12345678901")
    assert parcel["shipped_on"] == date(2026, 11, 21).isoformat()
    assert parcel["items"] == [{"sku": "BAG-RED-01", "quantity": 2}]
    e5 = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E5")).one()
    assert e5.message_id and e5.sent_at  # delivered right after the action (no Redis)
    assert parcel["receipt"] == {
        "status": "awaiting",
        "requested_at": "2026-11-23T11:30:00Z",
        "request_email_to": "camille@example.fr",
        "request_email_sent_at": e5.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request_email_message_id": e5.message_id,
        "due_at": "2026-11-30T11:30:00Z",
        "reminded_at": None,
        "received_at": None,
        "received_by": None,
        "ip": None,
        "user_agent": None,
        "proof_page": None,
    }
    order_schema_validator().validate(data)


def test_a_received_parcel_shows_when_and_by_whom(
    client: FlaskClient, auth: dict[str, str], shipped_order: Order, wf: Workflow, clock: Clock
) -> None:
    clock.advance(days=8)
    wf.auto_receive_due()

    data = client.get(f"/api/v1/orders/{shipped_order.reference}", headers=auth).get_json()

    receipt = data["shipments"][0]["receipt"]
    assert receipt["status"] == "received"
    assert receipt["received_by"] == "auto"
    assert receipt["received_at"] == "2026-12-01T11:30:00Z"
    assert receipt["due_at"] == "2026-11-30T11:30:00Z"
    assert receipt["ip"] is None and receipt["user_agent"] is None  # nobody pressed anything
    assert receipt["request_email_to"] == "camille@example.fr"
    assert receipt["proof_page"] == (f"http://localhost/commandes/{shipped_order.reference}"
                                     "/colis/1/preuve")
    order_schema_validator().validate(data)


def test_a_parcel_the_buyer_confirmed_carries_the_proof(
    client: FlaskClient, auth: dict[str, str], shipped_order: Order, wf: Workflow, clock: Clock
) -> None:
    clock.advance(days=1, seconds=12)
    shipment_id = db.session.scalars(select(Shipment.id)).one()
    wf.confirm_receipt(shipment_id, ip="2001:db8::7", user_agent="Mozilla/5.0 (Android 15) Firefox/133.0")

    data = client.get(f"/api/v1/orders/{shipped_order.reference}", headers=auth).get_json()

    receipt = data["shipments"][0]["receipt"]
    e5 = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E5")).one()
    assert receipt["received_by"] == "buyer"
    assert receipt["received_at"] == "2026-11-24T11:30:12Z"
    assert receipt["ip"] == "2001:db8::7"
    assert receipt["user_agent"] == "Mozilla/5.0 (Android 15) Firefox/133.0"
    assert receipt["requested_at"] == "2026-11-23T11:30:00Z"
    assert receipt["request_email_message_id"] == e5.message_id
    assert receipt["reminded_at"] is None
    order_schema_validator().validate(data)


def test_a_cancelled_order_shows_it(client: FlaskClient, auth: dict[str, str],
                                    make_order: Callable[..., Order], wf: Workflow) -> None:
    order = make_order()
    wf.cancel(order.id, actor=SELLER, reason="Rupture de stock")
    data = client.get(f"/api/v1/orders/{order.reference}", headers=auth).get_json()
    assert (data["status"], data["status_label"]) == ("cancelled", "Annulée")
    assert data["cancel_reason"] == "Rupture de stock"
    assert data["cancelled_at"] == "2026-11-20T09:30:00Z"
    order_schema_validator().validate(data)


def test_the_created_order_matches_the_document(
    client: FlaskClient, auth: dict[str, str], post_order: Callable[..., Any]
) -> None:
    created = post_order().get_json()
    order_schema_validator().validate(created)
    again = client.get(created["links"]["self"].removeprefix("http://localhost"), headers=auth)
    assert again.get_json() == created


@pytest.mark.parametrize("reference", ["UQ-2026-999999", "uq-2026-000001", "UQ-2026-000001%00",
                                       "x" * 300, "'; DROP TABLE orders; --"])
def test_an_unknown_reference_is_a_json_404(client: FlaskClient, auth: dict[str, str],
                                            make_order: Callable[..., Order], reference: str) -> None:
    make_order()
    response = client.get(f"/api/v1/orders/{reference}", headers=auth)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_reading_needs_a_key(client: FlaskClient, make_order: Callable[..., Order]) -> None:
    order = make_order()
    response = client.get(f"/api/v1/orders/{order.reference}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_answers_are_not_cached(client: FlaskClient, auth: dict[str, str],
                                make_order: Callable[..., Order]) -> None:
    order = make_order()
    response = client.get(f"/api/v1/orders/{order.reference}", headers=auth)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


# ----------------------------------------------------------------------------- JSON errors
@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/orders/UQ-2026-000001/lines", "/api/v2/orders"])
def test_unknown_api_paths_are_json_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("put", ORDERS_URL, {"POST", "OPTIONS"}),
    ("get", ORDERS_URL, {"POST", "OPTIONS"}),
    ("delete", "/api/v1/orders/UQ-2026-000001", {"GET", "HEAD", "OPTIONS"}),
    ("post", "/api/v1/orders/UQ-2026-000001", {"GET", "HEAD", "OPTIONS"}),
])
def test_wrong_methods_are_json_405_with_allow(client: FlaskClient, auth: dict[str, str],
                                               method: str, path: str, allowed: set[str]) -> None:
    response = getattr(client, method)(path, headers=auth)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed


def test_an_unexpected_failure_is_a_json_500_without_details(
    client: FlaskClient, auth: dict[str, str], make_order: Callable[..., Order],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from uniqu3.api import views

    def broken(order: Order) -> dict[str, Any]:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(views, "order_json", broken)
    order = make_order()
    response = client.get(f"/api/v1/orders/{order.reference}", headers=auth)
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error["code"] == "internal"
    assert "secret" not in response.get_data(as_text=True)
    # The app still answers afterwards.
    monkeypatch.undo()
    assert client.get(f"/api/v1/orders/{order.reference}", headers=auth).status_code == 200


def test_pages_outside_the_api_keep_their_own_errors(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response.is_json


def test_posting_an_order_body_to_the_document_is_405(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/openapi.json", json=order_body(), headers=auth)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_a_database_out_of_reach_is_a_json_500() -> None:
    from uniqu3 import create_app

    # A real PostgreSQL address where nothing listens.
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:9/none",
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
    })
    key = "uq_live_abcdefghij_" + "x" * 43
    response = app.test_client().post(ORDERS_URL, json=order_body(), headers=bearer(key))
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal"
