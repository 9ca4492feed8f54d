"""Each action's event reaches the registered receiver, signed (checked with the
`standardwebhooks` package), with the order as the API shows it at that moment, in order."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import EXAMPLE_BODY
from tests.conftest import Clock, order_input, ship_all, wait_for_background
from tests.webhook_receiver import Receiver
from tests.webhooks.conftest import deliveries
from uniqu3 import apikeys
from uniqu3.extensions import db
from uniqu3.models import Order, Seller, WebhookDeliveryStatus
from uniqu3.sweep import run_sweep
from uniqu3.workflow import Actor, InvalidTransition, ParcelDetails, Workflow, signals

SELLER = Actor.seller("atelier@example.fr")


def walk_through(wf: Workflow, seller: Seller, external_id: str = "MKT-1") -> Order:
    """An order from intake to received, by the workflow: every action the marketplace hears of."""
    order = wf.place_order(order_input(seller.email, external_id), actor=Actor.api("storefront")).order
    wf.confirm_payment(order.id, actor=SELLER)
    shipment = ship_all(wf, order, actor=SELLER)
    wf.request_receipt(shipment.id, actor=SELLER)
    wf.confirm_receipt(shipment.id, ip="203.0.113.9", user_agent="Firefox")
    return order


def test_every_action_reaches_the_receiver_signed_in_order_with_the_order_as_the_api_shows_it(
        wf: Workflow, seller: Seller, receiver: Receiver, register: Callable[..., str],
        client: FlaskClient, clock: Clock) -> None:
    secret = register()
    _, api_key = apikeys.create_key(db.session, name="storefront", seller=None, now=clock())
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    order = walk_through(wf, seller)

    assert receiver.unverified() == []
    assert receiver.types() == ["order.created", "order.paid", "shipment.created",
                                "shipment.receipt_requested", "shipment.received"]
    bodies = [r.json() for r in receiver.accepted()]
    assert [b["data"]["order"]["status"] for b in bodies] == [
        "awaiting_payment", "paid", "shipped", "shipped", "received"]
    assert bodies[2]["data"]["order"]["shipments"][0]["tracking_number"] == "6A12345678901"
    assert set(bodies[0]) == {"type", "timestamp", "data"} and set(bodies[0]["data"]) == {"order"}
    assert bodies[0]["timestamp"] == "2026-11-20T09:30:00Z"
    # The last snapshot is what GET /api/v1/orders/{reference} answers now.
    answer = client.get(f"/api/v1/orders/{order.reference}", headers={"Authorization": f"Bearer {api_key}"})
    assert answer.status_code == 200
    assert bodies[-1]["data"]["order"] == answer.get_json()
    # Standard Webhooks headers, one id per event.
    first = receiver.accepted()[0]
    assert first.headers["webhook-signature"].startswith("v1,")
    assert first.headers["content-type"] == "application/json"
    assert len(receiver.accepted_ids()) == 5
    assert {d.status for d in deliveries()} == {WebhookDeliveryStatus.DELIVERED}


def test_an_endpoint_gets_only_its_sellers_events_and_the_types_it_asked_for(
        wf: Workflow, seller: Seller, make_seller: Callable[..., Seller], receiver: Receiver,
        register: Callable[..., str]) -> None:
    other = make_seller("autre@example.fr")
    register("--seller", seller.email, "--event", "order.paid", "--event", "shipment.received")
    walk_through(wf, other, "MKT-OTHER")
    assert receiver.requests == [] and deliveries() == []
    walk_through(wf, seller, "MKT-MINE")
    assert receiver.types() == ["order.paid", "shipment.received"]
    assert receiver.unverified() == []


def test_cancellation_problem_and_lost_parcel_events(
        wf: Workflow, seller: Seller, make_order: Callable[..., Any], receiver: Receiver,
        register: Callable[..., str]) -> None:
    register()
    cancelled = make_order()
    wf.cancel(cancelled.id, actor=SELLER, reason="rupture")
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    first = wf.ship(order.id, actor=SELLER, quantities={order.lines[0].id: 1}, carrier="colissimo",
                    tracking_number="6A12345678901").shipment
    second = wf.ship(order.id, actor=SELLER, quantities={order.lines[0].id: 1}, carrier="colissimo",
                     tracking_number="6A12345678902").shipment
    assert first is not None and second is not None
    wf.request_receipt(first.id, actor=SELLER)
    wf.report_problem(first.id, reason="not_received", message="Rien reçu")
    wf.relaunch_receipt(first.id, actor=SELLER)
    wf.report_problem(first.id, reason="damaged", message="Abîmé")
    wf.confirm_receipt(first.id)
    wf.declare_lost(second.id, actor=SELLER)
    types = receiver.types()
    assert types == [
        "order.created", "order.cancelled",
        "order.created", "order.paid", "shipment.created", "shipment.created",
        "shipment.receipt_requested", "shipment.problem_reported", "shipment.problem_resolved",
        "shipment.problem_reported", "shipment.problem_resolved", "shipment.received",
        "shipment.updated",
    ]
    last = receiver.accepted()[-1].json()["data"]["order"]
    assert [s["status"] for s in last["shipments"]] == ["received", "lost"]


def test_a_refused_action_writes_no_event(wf: Workflow, make_order: Callable[..., Any],
                                          receiver: Receiver, register: Callable[..., str]) -> None:
    register()
    order = make_order()
    wf.cancel(order.id, actor=SELLER)
    count = len(receiver.requests)
    with pytest.raises(InvalidTransition):
        wf.confirm_payment(order.id, actor=SELLER)
    wf.cancel(order.id, actor=SELLER)  # again: unchanged, no event
    assert len(receiver.requests) == count == 2
    assert len(deliveries()) == 2


def test_no_endpoint_no_event_written(wf: Workflow, seller: Seller) -> None:
    walk_through(wf, seller)
    assert deliveries() == []


def test_an_order_from_the_api_is_delivered_by_the_web_process_after_its_answer(
        app: Flask, client: FlaskClient, seller: Seller, receiver: Receiver,
        register: Callable[..., str], clock: Clock) -> None:
    register()
    _, key = apikeys.create_key(db.session, name="storefront", seller=None, now=clock())
    answer = client.post("/api/v1/orders", json=EXAMPLE_BODY, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201
    wait_for_background(app)
    assert receiver.types() == ["order.created"]
    assert receiver.accepted()[0].json()["data"]["order"]["reference"] == answer.get_json()["reference"]


def test_the_sweep_delivers_what_was_never_handed_over(
        app: Flask, make_order: Callable[..., Any], receiver: Receiver,
        register: Callable[..., str]) -> None:
    register()
    with signals.webhooks_queued.muted():  # as when Redis refused the job
        make_order()
        make_order()
    assert [d.status for d in deliveries()] == [WebhookDeliveryStatus.PENDING] * 2
    assert receiver.requests == []
    result = app.test_cli_runner().invoke(args=["admin", "sweep"])
    assert "Webhooks : 2 livré(s), 0 en attente d'un nouvel essai, 0 en échec." in result.output
    assert receiver.types() == ["order.created", "order.created"]
    assert run_sweep().webhooks_delivered == 0


def test_closing_everything_left_of_an_unshipped_order_cancels_it_for_the_marketplace(
        wf: Workflow, make_order: Callable[..., Any], receiver: Receiver,
        register: Callable[..., str]) -> None:
    register()
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    wf.close_remainder(order.id, actor=SELLER, reason="Rupture de stock")
    assert receiver.types() == ["order.created", "order.paid", "order.cancelled"]
    assert receiver.accepted()[-1].json()["data"]["order"]["status"] == "cancelled"


def test_a_corrected_parcel_is_a_shipment_updated_event_with_the_new_tracking(
        wf: Workflow, make_order: Callable[..., Any], receiver: Receiver,
        register: Callable[..., str]) -> None:
    register()
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity for line in order.lines},
            carrier="colissimo", tracking_number="6A12345678901")
    wf.edit_shipment(order.id, 1, ParcelDetails("colissimo", "6A98765432109"), actor=SELLER)
    wf.edit_shipment(order.id, 1, ParcelDetails("colissimo", "6A98765432109"), actor=SELLER)  # no change
    assert receiver.types() == ["order.created", "order.paid", "shipment.created", "shipment.updated"]
    parcel = receiver.accepted()[-1].json()["data"]["order"]["shipments"][0]
    assert parcel["tracking_number"] == "6A98765432109" and parcel["status"] == "shipped"


def test_a_parcels_new_tracking_is_shipment_updated_with_the_new_number(
        wf: Workflow, make_order: Callable[..., Any], receiver: Receiver,
        register: Callable[..., str]) -> None:
    register("--event", "shipment.updated")
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity for line in order.lines},
            carrier="colissimo", tracking_number="6A12345678901")
    wf.edit_shipment(order.id, 1, ParcelDetails(carrier="colissimo", tracking_number="6A12345678902"),
                     actor=SELLER)
    assert receiver.types() == ["shipment.updated"]
    parcel = receiver.accepted()[0].json()["data"]["order"]["shipments"][0]
    assert parcel["tracking_number"] == "6A12345678902"


def test_corrections_and_refunds_over_the_api_reach_the_receiver_signed(
        app: Flask, client: FlaskClient, make_order: Callable[..., Any], wf: Workflow, receiver: Receiver,
        register: Callable[..., str], clock: Clock) -> None:
    register("--event", "shipment.updated", "--event", "refund.recorded", "--event", "order.paid")
    _, key = apikeys.create_key(db.session, name="label software", seller=None, now=clock())
    auth = {"Authorization": f"Bearer {key}"}
    order = make_order()
    url = f"/api/v1/orders/{order.reference}"
    assert client.post(f"{url}/payment", headers=auth).status_code == 200
    undo = client.post(f"{url}/payment/cancellation", json={"reason": "Erreur"}, headers=auth)
    assert undo.status_code == 200
    assert client.post(f"{url}/payment", headers=auth).status_code == 200
    parcel = {"lines": [{"sku": "BAG-RED-01", "quantity": 1}], "carrier": "colissimo",
              "tracking_number": "6A12345678901"}
    assert client.post(f"{url}/shipments", json=parcel, headers=auth).status_code == 201
    edit = {"tracking_number": "6A98765432109"}
    assert client.patch(f"{url}/shipments/1", json=edit, headers=auth).status_code == 200
    assert client.patch(f"{url}/shipments/1", json=edit, headers=auth).status_code == 200  # unchanged
    closure = {"reason": "Rupture", "lines": [{"sku": "CARD-01", "quantity": 1}]}
    assert client.post(f"{url}/remainder-closure", json=closure, headers=auth).status_code == 200
    refund = {"amount": "5.50", "method": "transfer", "reference": "VIR-9"}
    assert client.post(f"{url}/refunds", json=refund, headers=auth).status_code == 201
    assert client.post(f"{url}/refunds", json=refund, headers=auth).status_code == 422  # nothing left
    wait_for_background(app)
    assert receiver.unverified() == []
    # The undone payment is no event of its own: the marketplace hears of the new confirmation.
    assert receiver.types() == ["order.paid", "order.paid", "shipment.updated", "refund.recorded"]
    bodies = [r.json()["data"]["order"] for r in receiver.accepted()]
    assert bodies[2]["shipments"][0]["tracking_number"] == "6A98765432109"
    assert (bodies[3]["refund_due"], bodies[3]["refunds"][0]["reference"]) == ("0.00", "VIR-9")
    assert bodies[3] == client.get(url, headers=auth).get_json()
