"""`Idempotency-Key` on every POST: the same key with the same request answers the same and
acts once, also when the two arrive together; with another request, 409. Kept 24 hours.
And the rate per key: 429 with `Retry-After`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from werkzeug.test import TestResponse

from tests.api.conftest import ORDERS_URL, bearer, order_body
from tests.conftest import Clock
from uniqu3.api.idempotency import request_fingerprint
from uniqu3.extensions import db
from uniqu3.models import IdempotencyKey, Order, OutboxEmail, Seller, Shipment
from uniqu3.sweep import run_sweep
from uniqu3.workflow import Actor, Workflow

PARCEL = {"lines": [{"sku": "BAG-RED-01", "quantity": 1}], "carrier": "colissimo",
          "tracking_number": "6A12345678901"}


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def paid(make_order: Callable[..., Order], wf: Workflow) -> Order:
    order = make_order()
    wf.confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"))
    return order


@pytest.fixture
def ship(client: FlaskClient, auth: dict[str, str], paid: Order) -> Callable[..., TestResponse]:
    def post(key: str | None = "parcel-1", body: Any = None) -> TestResponse:
        headers = {**auth, **({"Idempotency-Key": key} if key is not None else {})}
        return client.post(f"/api/v1/orders/{paid.reference}/shipments", data=json.dumps(body or PARCEL),
                           content_type="application/json", headers=headers)

    return post


def test_the_same_key_and_body_answer_the_same_and_ship_once(ship: Callable[..., TestResponse],
                                                             paid: Order) -> None:
    first = ship()
    again = ship()
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(Shipment, Shipment.order_id == paid.id) == 1
    assert count(OutboxEmail, OutboxEmail.order_id == paid.id, OutboxEmail.kind == "E4") == 1
    # Without a key (or with a new one) the same body is a new request: a second parcel.
    assert ship(key=None, body={**PARCEL, "tracking_number": "6A12345678902"}).status_code == 201
    assert count(Shipment, Shipment.order_id == paid.id) == 2


def test_the_same_key_for_another_request_is_a_409_that_does_nothing(
    ship: Callable[..., TestResponse], client: FlaskClient, auth: dict[str, str], paid: Order,
) -> None:
    ship()
    other = ship(body={**PARCEL, "lines": [{"sku": "CARD-01", "quantity": 1}]})
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "conflict"
    assert list(other.get_json()["error"]["fields"]) == ["Idempotency-Key"]
    elsewhere = client.post(f"/api/v1/orders/{paid.reference}/cancellation", json={"reason": "x"},
                            headers={**auth, "Idempotency-Key": "parcel-1"})
    assert elsewhere.status_code == 409
    assert count(Shipment, Shipment.order_id == paid.id) == 1
    assert db.session.get(Order, paid.id).cancelled_at is None  # type: ignore[union-attr]


def test_a_refusal_is_answered_again_as_it_was(client: FlaskClient, auth: dict[str, str],
                                               make_order: Callable[..., Order], wf: Workflow) -> None:
    order = make_order()
    headers = {**auth, "Idempotency-Key": "ship-early"}
    url = f"/api/v1/orders/{order.reference}/shipments"
    first = client.post(url, json=PARCEL, headers=headers)
    assert first.get_json()["error"]["code"] == "not_paid"
    wf.confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"))
    # The key names that request and its answer: a new attempt needs a new key.
    again = client.post(url, json=PARCEL, headers=headers)
    assert (again.status_code, again.get_json()) == (422, first.get_json())
    assert client.post(url, json=PARCEL, headers={**auth, "Idempotency-Key": "ship-now"}).status_code == 201


def test_the_order_intake_takes_a_key_too(client: FlaskClient, auth: dict[str, str], seller: Seller) -> None:
    headers = {**auth, "Idempotency-Key": "order-MKT-1001"}
    first = client.post(ORDERS_URL, json=order_body(), headers=headers)
    again = client.post(ORDERS_URL, json=order_body(), headers=headers)
    # The replay of the key answers as the first time (201), not as a replay of the order (200).
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert count(Order) == 1
    changed = client.post(ORDERS_URL, json=order_body(external_id="MKT-1002"), headers=headers)
    assert changed.status_code == 409
    assert count(Order) == 1


def test_keys_are_per_api_key(ship: Callable[..., TestResponse], client: FlaskClient, paid: Order,
                              make_key: Callable[..., str]) -> None:
    ship()
    other_key = {**bearer(make_key("label software")), "Idempotency-Key": "parcel-1"}
    other = client.post(f"/api/v1/orders/{paid.reference}/shipments",
                        json={**PARCEL, "tracking_number": "6A12345678902"}, headers=other_key)
    assert other.status_code == 201
    assert count(Shipment, Shipment.order_id == paid.id) == 2


@pytest.mark.parametrize("key", ["", " ", "é-clé", "x" * 256, "a\tb"])
def test_an_unusable_key_is_a_400(ship: Callable[..., TestResponse], paid: Order, key: str) -> None:
    response = ship(key=key)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert count(Shipment, Shipment.order_id == paid.id) == 0


@pytest.fixture
def key_id(api_key: str, clock: Clock) -> int:
    from uniqu3 import apikeys

    found = apikeys.authenticate(db.session, api_key, now=clock())
    assert found is not None
    return found.key_id


def being_answered(key_id: int, key: str, fingerprint: str, at: Any, token: str) -> None:
    """As if a first request with this key were being answered (or its process had died)."""
    db.session.execute(insert(IdempotencyKey), {"api_key_id": key_id, "key": key, "token": token,
                                                "fingerprint": fingerprint, "created_at": at})
    db.session.commit()


def test_a_request_still_being_answered_is_a_409_to_try_again(
    ship: Callable[..., TestResponse], paid: Order, clock: Clock, key_id: int,
) -> None:
    assert ship().status_code == 201
    other = {**PARCEL, "tracking_number": "6A12345678902"}
    fingerprint = request_fingerprint("POST", f"/api/v1/orders/{paid.reference}/shipments",
                                      json.dumps(other).encode())
    being_answered(key_id, "parcel-2", fingerprint, clock(), "a" * 32)
    busy = ship(key="parcel-2", body=other)
    assert busy.status_code == 409
    assert busy.headers["Retry-After"] == "1"
    assert count(Shipment, Shipment.order_id == paid.id) == 1
    # Never answered (its process died before shipping): a retry a minute later takes it over.
    clock.advance(seconds=61)
    assert ship(key="parcel-2", body=other).status_code == 201
    assert count(Shipment, Shipment.order_id == paid.id) == 2
    assert ship(key="parcel-2", body=other).headers["Idempotent-Replayed"] == "true"


def test_a_request_whose_process_died_after_shipping_ships_once(
    ship: Callable[..., TestResponse], paid: Order, clock: Clock, key_id: int, wf: Workflow,
) -> None:
    ship(key="first")
    fingerprint = db.session.scalars(select(IdempotencyKey.fingerprint)).one()
    # The parcel was recorded under the key's token, then the process died before answering.
    being_answered(key_id, "first-again", fingerprint, clock(), "b" * 32)
    line = min(paid.lines, key=lambda item: item.position)
    wf.ship(paid.id, actor=Actor.api("storefront"), quantities={line.id: 1}, carrier="colissimo",
            tracking_number="6A12345678902", request_key="api-" + "b" * 32)
    clock.advance(minutes=2)
    retried = ship(key="first-again")
    assert retried.status_code == 200
    assert len(retried.get_json()["shipments"]) == 2
    assert count(Shipment, Shipment.order_id == paid.id) == 2


def test_two_requests_sent_together_with_one_key_act_once(app: Flask, auth: dict[str, str], paid: Order,
                                                          ctx: Flask) -> None:
    url = f"/api/v1/orders/{paid.reference}/shipments"
    headers = {**auth, "Idempotency-Key": "together"}
    start = threading.Barrier(6)
    answers: list[int] = []

    def send() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.post(url, json=PARCEL, headers=headers).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    assert count(Shipment, Shipment.order_id == paid.id) == 1
    assert answers.count(201) >= 1
    assert set(answers) <= {201, 409}
    assert count(OutboxEmail, OutboxEmail.order_id == paid.id, OutboxEmail.kind == "E4") == 1


def test_keys_are_kept_a_day_then_the_sweep_forgets_them(ship: Callable[..., TestResponse], paid: Order,
                                                         clock: Clock) -> None:
    ship()
    clock.advance(hours=23)
    assert ship().headers.get("Idempotent-Replayed") == "true"
    assert run_sweep().idempotency_keys_removed == 0
    clock.advance(hours=2)
    assert run_sweep().idempotency_keys_removed == 1
    assert count(IdempotencyKey) == 0
    # The key is free again: a new request with it acts (here, the rest of that line).
    assert ship(body={**PARCEL, "tracking_number": "6A12345678902"}).status_code == 201
    assert count(Shipment, Shipment.order_id == paid.id) == 2


def test_an_expired_key_is_free_even_before_the_sweep(ship: Callable[..., TestResponse], paid: Order,
                                                      clock: Clock) -> None:
    ship()
    clock.advance(hours=25)
    assert ship(body={**PARCEL, "tracking_number": "6A12345678902"}).status_code == 201
    assert count(IdempotencyKey) == 1
