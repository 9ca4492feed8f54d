"""Authentication by API key: 401s, revocation, last use, and keys bound to one seller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.api.conftest import ORDERS_URL, bearer, order_body
from tests.conftest import Clock
from uniqu3 import apikeys
from uniqu3.extensions import db
from uniqu3.models import ApiKey, Order, Seller

Post = Callable[..., TestResponse]


def assert_unauthorized(response: TestResponse) -> None:
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_key_is_401_with_www_authenticate(client: FlaskClient, seller: Seller) -> None:
    response = client.post(ORDERS_URL, json=order_body())
    assert_unauthorized(response)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize("header", [
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "Bearer ",
    "Bearer uq_live_short",
    "Bearer uq_live_abcdefghij_" + "x" * 20,
    "uq_live_abcdefghij_" + "x" * 43,
])
def test_malformed_keys_are_401(client: FlaskClient, seller: Seller, header: str) -> None:
    assert_unauthorized(client.post(ORDERS_URL, json=order_body(), headers={"Authorization": header}))


def test_an_unknown_key_of_the_right_shape_is_401(client: FlaskClient, api_key: str) -> None:
    unknown = "uq_live_zzzzzzzzzz_" + api_key.split("_", 3)[3]
    assert_unauthorized(client.get("/api/v1/orders/UQ-2026-000001", headers=bearer(unknown)))


def test_a_key_with_another_secret_is_401(client: FlaskClient, api_key: str) -> None:
    # Same "uq_live_<prefix>_" (19 characters): the row is found, the hash differs.
    tampered = api_key[:19] + ("A" if api_key[19] != "A" else "B") + api_key[20:]
    assert_unauthorized(client.get("/api/v1/orders/UQ-2026-000001", headers=bearer(tampered)))


def test_the_scheme_is_case_insensitive(client: FlaskClient, api_key: str, seller: Seller) -> None:
    response = client.post(ORDERS_URL, json=order_body(), headers={"Authorization": f"bearer {api_key}"})
    assert response.status_code == 201


def test_a_revoked_key_is_refused_at_once(post_order: Post, api_key: str, clock: Clock) -> None:
    assert post_order().status_code == 201
    key = apikeys.find_key(db.session, api_key)
    assert key is not None
    assert apikeys.revoke_key(db.session, key, now=clock()) is True

    response = post_order(order_body(external_id="MKT-1002"))

    assert_unauthorized(response)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_only_a_hash_of_the_key_is_stored(api_key: str) -> None:
    row = db.session.scalar(select(ApiKey))
    assert row is not None
    assert api_key.startswith(f"uq_live_{row.prefix}_")
    assert 8 <= len(row.prefix) <= 12
    assert api_key not in (row.key_hash, row.prefix, row.name)
    assert row.key_hash == apikeys.hash_key(api_key)


def test_last_use_is_recorded_at_most_once_a_minute(
    client: FlaskClient, api_key: str, clock: Clock
) -> None:
    row = db.session.scalar(select(ApiKey))
    assert row is not None and row.last_used_at is None
    url = "/api/v1/orders/UQ-2026-000001"
    first_use = clock()

    client.get(url, headers=bearer(api_key))
    db.session.refresh(row)
    assert row.last_used_at == first_use

    clock.advance(seconds=30)
    client.get(url, headers=bearer(api_key))
    db.session.refresh(row)
    assert row.last_used_at == first_use

    clock.advance(seconds=31)
    client.get(url, headers=bearer(api_key))
    db.session.refresh(row)
    assert row.last_used_at == clock()


def test_a_refused_key_does_not_touch_last_use(client: FlaskClient, api_key: str, clock: Clock) -> None:
    tampered = api_key[:-1] + ("A" if api_key[-1] != "A" else "B")
    client.get("/api/v1/orders/UQ-2026-000001", headers=bearer(tampered))
    row = db.session.scalar(select(ApiKey))
    assert row is not None and row.last_used_at is None


# ----------------------------------------------------------------------------- seller-bound keys
@pytest.fixture
def other_seller(make_seller: Callable[..., Seller]) -> Seller:
    return make_seller("autre@example.fr", shop_name="L'Autre Atelier")


def test_a_seller_key_records_orders_for_its_seller(
    post_order: Post, make_key: Callable[..., str], seller: Seller
) -> None:
    key = make_key(name="atelier", seller=seller)
    assert post_order(headers=bearer(key)).status_code == 201


def test_a_seller_key_cannot_record_for_another_seller(
    post_order: Post, make_key: Callable[..., str], seller: Seller, other_seller: Seller
) -> None:
    key = make_key(name="atelier", seller=seller)

    response = post_order(order_body(seller=other_seller.email), headers=bearer(key))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert seller.email in error["fields"]["seller"][0]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_seller_key_scope_error_comes_with_the_other_errors(
    post_order: Post, make_key: Callable[..., str], seller: Seller
) -> None:
    key = make_key(name="atelier", seller=seller)
    response = post_order(order_body(seller="inconnu@example.fr", currency="USD"), headers=bearer(key))
    fields = response.get_json()["error"]["fields"]
    # The key's seller is named, never whether the other one exists.
    assert set(fields) == {"seller", "currency"}
    assert seller.email in fields["seller"][0]


def test_a_seller_key_sees_only_its_orders(
    client: FlaskClient, make_key: Callable[..., str], make_order: Callable[..., Order],
    seller: Seller, other_seller: Seller,
) -> None:
    mine = make_order()
    theirs = make_order(owner=other_seller)
    key = make_key(name="atelier", seller=seller)

    assert client.get(f"/api/v1/orders/{mine.reference}", headers=bearer(key)).status_code == 200
    response = client.get(f"/api/v1/orders/{theirs.reference}", headers=bearer(key))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_marketplace_key_sees_every_seller(
    client: FlaskClient, api_key: str, make_order: Callable[..., Order], other_seller: Seller
) -> None:
    for order in (make_order(), make_order(owner=other_seller)):
        response = client.get(f"/api/v1/orders/{order.reference}", headers=bearer(api_key))
        assert response.status_code == 200


def test_a_deactivated_seller_key_reads_nothing_but_the_marketplace_still_does(
    client: FlaskClient, make_key: Callable[..., str], api_key: str, make_order: Callable[..., Order],
    seller: Seller, runner: Any,
) -> None:
    """The seller's own key acts as the seller, who can no longer log in: it reads nothing
    (404, as for an order that is not theirs). The marketplace keeps its history: its key still
    reads the orders, which stay the buyers' and the marketplace's record."""
    order = make_order()
    key = make_key(name="atelier", seller=seller)
    url = f"/api/v1/orders/{order.reference}"
    assert client.get(url, headers=bearer(key)).status_code == 200
    assert runner.invoke(args=["admin", "deactivate-seller", seller.email]).exit_code == 0

    response = client.get(url, headers=bearer(key))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert client.get(url, headers=bearer(api_key)).status_code == 200

    assert runner.invoke(args=["admin", "activate-seller", seller.email]).exit_code == 0
    assert client.get(url, headers=bearer(key)).status_code == 200
