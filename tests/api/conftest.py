"""API fixtures: keys made the way the CLI makes them, the spec's example body, and an order's
actions with what they left (e-mails, history, parcels)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.conftest import Clock
from uniqu3 import apikeys
from uniqu3.api.schemas.orders import EXAMPLE
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OutboxEmail, Seller, Shipment

ORDERS_URL = "/api/v1/orders"

#: The spec's example (section 4), as the document shows it.
EXAMPLE_BODY: dict[str, Any] = copy.deepcopy(EXAMPLE)


def order_body(**overrides: Any) -> dict[str, Any]:
    """The spec's example, with top-level members replaced (None removes one)."""
    body = copy.deepcopy(EXAMPLE_BODY)
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def make_key(ctx: Flask, clock: Clock) -> Callable[..., str]:
    def make(name: str = "storefront", seller: Seller | None = None) -> str:
        _, raw = apikeys.create_key(db.session, name=name, seller=seller, now=clock())
        return raw

    return make


@pytest.fixture
def api_key(make_key: Callable[..., str]) -> str:
    """A marketplace key (not bound to a seller)."""
    return make_key()


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return bearer(api_key)


@pytest.fixture
def post_order(client: FlaskClient, auth: dict[str, str], seller: Seller) -> Callable[..., TestResponse]:
    """POST a body (the example by default) with the marketplace key; the seller exists."""

    def post(body: Any = None, headers: dict[str, str] | None = None) -> TestResponse:
        return client.post(ORDERS_URL, json=order_body() if body is None else body,
                           headers=headers if headers is not None else auth)

    return post


# ----------------------------------------------------------------------------- actions
Post = Callable[..., TestResponse]
PARCEL = {"lines": [{"sku": "BAG-RED-01", "quantity": 1}], "carrier": "colissimo",
          "tracking_number": "6A12345678901"}


@pytest.fixture
def act(client: FlaskClient, auth: dict[str, str]) -> Post:
    """POST to an order's action: `act(order, "payment", {...})`."""

    def post(order: Order | str, action: str, body: Any = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> TestResponse:
        reference = order if isinstance(order, str) else order.reference
        url = f"/api/v1/orders/{reference}/{action}"
        if body is None:
            return client.post(url, headers=headers if headers is not None else auth, **kwargs)
        return client.post(url, json=body, headers=headers if headers is not None else auth, **kwargs)

    return post


def emails(order: Order) -> list[str]:
    return list(db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.order_id == order.id)
                                   .order_by(OutboxEmail.id)))


def history(order: Order) -> list[tuple[str, str, str]]:
    rows = db.session.execute(select(OrderEvent.kind, OrderEvent.actor, OrderEvent.actor_label)
                              .where(OrderEvent.order_id == order.id).order_by(OrderEvent.id))
    return [tuple(row) for row in rows]


def parcels(order: Order) -> int:
    count = select(func.count()).select_from(Shipment).where(Shipment.order_id == order.id)
    return db.session.scalar(count) or 0


def refused(response: TestResponse, code: str, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error: dict[str, Any] = response.get_json()["error"]
    assert error["code"] == code, error
    return error
