"""Shipping costs, the buyer's phone and a pickup point in the order body: accepted, shown back,
in the total, in the replay's fingerprint; each refusal with its path, in French and English."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.api.conftest import ORDERS_URL, order_body
from tests.conftest import order_input
from uniqu3.extensions import db
from uniqu3.models import Order, OutboxEmail
from uniqu3.workflow import PickupPoint

Post = Callable[..., TestResponse]

PICKUP = {"carrier": "Mondial Relay", "id": "FR-012345", "name": "Tabac de la Gare",
          "line1": "3 place de la Gare", "line2": "", "postal_code": "69007", "city": "Lyon",
          "country": "FR"}


def full_body(**overrides: Any) -> dict[str, Any]:
    body = order_body(shipping_price="4.90", pickup_point=copy.deepcopy(PICKUP), **overrides)
    body["buyer"]["phone"] = "06 12 34 56 78"
    return body


def refused(response: TestResponse, path: str) -> list[str]:
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert path in fields, fields
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    return list(fields[path])


def test_shipping_phone_and_pickup_point_are_recorded_and_read_back(post_order: Post) -> None:
    response = post_order(full_body())
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["totals"]["items"] == "69.80"
    assert data["totals"]["shipping"] == "4.90"
    assert data["totals"]["amount"] == "74.70"  # what the buyer pays
    assert data["buyer"]["phone"] == "+33612345678"  # stored in E.164
    assert data["pickup_point"] == PICKUP
    order = db.session.scalars(select(Order)).one()
    assert (order.total_cents, order.shipping_cents, order.items_cents) == (7470, 490, 6980)
    assert order.buyer_phone == "+33612345678"


def test_without_them_shipping_is_free_and_nothing_else_is_shown(post_order: Post) -> None:
    data = post_order().get_json()
    assert (data["totals"]["items"], data["totals"]["shipping"], data["totals"]["amount"]) == (
        "69.80", "0.00", "69.80")
    assert data["buyer"]["phone"] is None
    assert data["pickup_point"] is None


@pytest.mark.parametrize(("phone", "stored"), [
    ("+33612345678", "+33612345678"), ("06.12.34.56.78", "+33612345678"),
    ("01 23 45 67 89", "+33123456789"), ("+44 20 7946 0958", "+442079460958"), (None, None),
])
def test_phones_international_or_french_are_stored_in_e164(post_order: Post, phone: str | None,
                                                          stored: str | None) -> None:
    body = order_body()
    body["buyer"]["phone"] = phone
    assert post_order(body).get_json()["buyer"]["phone"] == stored


@pytest.mark.parametrize("phone", ["12345", "06 12 34", "téléphone", "+33 6 12 34 56 78 90 12",
                                   "0" * 40])
@pytest.mark.parametrize(("language", "words"), [("fr", "Numéro de téléphone invalide"),
                                                 ("en", "Invalid phone number")])
def test_a_phone_that_is_no_number_is_refused(client: FlaskClient, auth: dict[str, str], seller: Any,
                                              phone: str, language: str, words: str) -> None:
    body = order_body()
    body["buyer"]["phone"] = phone
    response = client.post(ORDERS_URL, json=body, headers={**auth, "Accept-Language": language})
    assert any(words in message for message in refused(response, "buyer.phone"))


def test_a_phone_as_a_number_is_refused(post_order: Post) -> None:
    body = order_body()
    body["buyer"]["phone"] = 612345678
    assert refused(post_order(body), "buyer.phone") == ["Texte attendu."]


@pytest.mark.parametrize(("price", "words"), [
    ("-4.90", "négatif"), ("4,90", "Prix invalide"), (4.9, "texte décimal"), ("4.901", "deux décimales"),
    ("1000000.00", "trop élevé"), ("", "Prix invalide"),
])
def test_a_bad_shipping_price_is_refused(post_order: Post, price: Any, words: str) -> None:
    messages = refused(post_order(order_body(shipping_price=price)), "shipping_price")
    assert any(words in message for message in messages), messages


def test_a_bad_shipping_price_is_explained_in_english(client: FlaskClient, auth: dict[str, str],
                                                      seller: Any) -> None:
    response = client.post(ORDERS_URL, json=order_body(shipping_price="-1"),
                           headers={**auth, "Accept-Language": "en"})
    assert refused(response, "shipping_price") == ["The price cannot be negative."]


def test_the_shipping_counts_in_the_total_s_limit(post_order: Post) -> None:
    # 21,467,853.00 of items: 6,983.47 of shipping reaches the limit (21,474,836.47) exactly.
    lines = [{"sku": "A", "title": "Article", "quantity": 9999, "unit_price": "2147.00"}]
    assert post_order(order_body(lines=lines, shipping_price="6983.47")).status_code == 201
    response = post_order(order_body(external_id="MKT-2", lines=lines, shipping_price="6983.48"))
    assert response.status_code == 422
    assert "total" in " ".join(response.get_json()["error"]["fields"]["lines"])


@pytest.mark.parametrize("missing", ["carrier", "id", "name", "line1", "postal_code", "city", "country"])
def test_an_incomplete_pickup_point_is_refused(post_order: Post, missing: str) -> None:
    body = full_body()
    del body["pickup_point"][missing]
    assert refused(post_order(body), f"pickup_point.{missing}") == ["Champ obligatoire."]


def test_an_incomplete_pickup_point_is_explained_in_english(client: FlaskClient, auth: dict[str, str],
                                                            seller: Any) -> None:
    body = full_body()
    body["pickup_point"]["id"] = "  "
    response = client.post(ORDERS_URL, json=body, headers={**auth, "Accept-Language": "en"})
    assert refused(response, "pickup_point.id") == ["Cannot be empty."]


@pytest.mark.parametrize(("member", "value", "words"), [
    ("postal_code", "ABC", "5 chiffres"), ("country", "fr", "majuscules"), ("id", "X" * 65, "64 caractères"),
    ("carrier", "Mondial\nRelay", "contrôle"),
])
def test_a_pickup_point_s_fields_follow_the_address_rules(post_order: Post, member: str, value: str,
                                                          words: str) -> None:
    body = full_body()
    body["pickup_point"][member] = value
    messages = refused(post_order(body), f"pickup_point.{member}")
    assert any(words in message for message in messages), messages


def test_a_pickup_point_that_is_not_an_object_is_refused(post_order: Post) -> None:
    assert refused(post_order(order_body(pickup_point="FR-012345")), "pickup_point") == [
        "Objet JSON attendu."]


def test_a_pickup_point_may_be_null(post_order: Post) -> None:
    body = order_body()
    body["pickup_point"] = None
    assert post_order(body).status_code == 201


# ----------------------------------------------------------------------------- idempotency
@pytest.mark.parametrize(("change", "value"), [
    ("shipping_price", "5.90"), ("phone", "06 98 76 54 32"), ("pickup_id", "FR-999999"),
    ("no_pickup", None),
])
def test_another_shipping_phone_or_pickup_point_is_another_content(post_order: Post, change: str,
                                                                   value: Any) -> None:
    assert post_order(full_body()).status_code == 201
    again = full_body()
    if change == "shipping_price":
        again["shipping_price"] = value
    elif change == "phone":
        again["buyer"]["phone"] = value
    elif change == "pickup_id":
        again["pickup_point"]["id"] = value
    else:
        del again["pickup_point"]
    assert post_order(again).status_code == 409
    assert post_order(full_body()).status_code == 200  # the same content is still a replay


def test_the_same_phone_written_another_way_is_the_same_order(post_order: Post) -> None:
    assert post_order(full_body()).status_code == 201
    again = full_body()
    again["buyer"]["phone"] = "+33 6 12 34 56 78"
    assert post_order(again).status_code == 200


def test_an_order_without_them_keeps_the_fingerprint_it_was_recorded_with() -> None:
    """Orders recorded before these members existed still replay as 200."""
    import hashlib
    import json
    from dataclasses import asdict

    data = order_input("atelier@example.fr")
    before = asdict(data)
    for added in ("shipping_cents", "buyer_phone", "pickup_point"):
        del before[added]
    raw = json.dumps(before, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert data.fingerprint() == hashlib.sha256(raw.encode()).hexdigest()
    with_shipping = order_input("atelier@example.fr", shipping_cents=490)
    with_point = order_input("atelier@example.fr", pickup_point=PickupPoint(**PICKUP))
    assert len({data.fingerprint(), with_shipping.fingerprint(), with_point.fingerprint()}) == 3
