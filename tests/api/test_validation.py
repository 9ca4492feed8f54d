"""Every validation rule of the order body: 422, the field's path, a message that says why,
and nothing recorded."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.api.conftest import EXAMPLE_BODY, order_body
from uniqu3.extensions import db
from uniqu3.models import Order, OutboxEmail, Seller

Post = Callable[..., TestResponse]


def with_value(path: str, value: Any) -> dict[str, Any]:
    """The example body with one member set (dotted path, `lines.0.quantity`); _MISSING removes it."""
    body = copy.deepcopy(EXAMPLE_BODY)
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _MISSING:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return body


_MISSING = object()
LINE = {"sku": "BAG-RED-01", "title": "Sac cabas rouge", "quantity": 2, "unit_price": "34.90"}


def assert_refused(response: TestResponse, path: str, fragment: str) -> None:
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert path in error["fields"], error["fields"]
    messages = " ".join(error["fields"][path])
    assert fragment.lower() in messages.lower(), messages
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


RULES: list[tuple[str, Any, str, str]] = [
    # (member to change, value, expected error path, expected words)
    ("external_id", _MISSING, "external_id", "obligatoire"),
    ("external_id", None, "external_id", "obligatoire"),
    ("external_id", 1001, "external_id", "texte attendu"),
    ("external_id", "   ", "external_id", "vide"),
    ("external_id", "X" * 101, "external_id", "100 caractères au plus"),
    ("external_id", "MKT\n1001", "external_id", "contrôle"),
    ("external_id", "MKT\u00001001", "external_id", "contrôle"),
    ("external_id", "MKT-\ud800", "external_id", "contrôle"),
    ("seller", _MISSING, "seller", "obligatoire"),
    ("seller", "atelier", "seller", "e-mail invalide"),
    ("seller", "atelier@example", "seller", "e-mail invalide"),
    ("seller", " atelier@example.fr", "seller", "e-mail invalide"),
    ("seller", "personne@example.fr", "seller", "vendeur inconnu"),
    ("buyer", _MISSING, "buyer", "obligatoire"),
    ("buyer", "Camille Martin", "buyer", "objet"),
    ("buyer.name", _MISSING, "buyer.name", "obligatoire"),
    ("buyer.name", "N" * 201, "buyer.name", "200 caractères au plus"),
    ("buyer.email", "camille@", "buyer.email", "e-mail invalide"),
    ("buyer.email", "camille martin@example.fr", "buyer.email", "e-mail invalide"),
    ("buyer.email", "c" * 250 + "@example.fr", "buyer.email", "e-mail invalide"),
    ("billing_address", _MISSING, "billing_address", "obligatoire"),
    ("shipping_address", [], "shipping_address", "objet"),
    ("shipping_address.name", "", "shipping_address.name", "vide"),
    ("shipping_address.line1", _MISSING, "shipping_address.line1", "obligatoire"),
    ("shipping_address.line1", "L" * 201, "shipping_address.line1", "200 caractères"),
    ("shipping_address.line2", 12, "shipping_address.line2", "texte attendu"),
    ("shipping_address.city", "C" * 101, "shipping_address.city", "100 caractères"),
    ("shipping_address.postal_code", "6900", "shipping_address.postal_code", "5 chiffres"),
    ("shipping_address.postal_code", "69 003", "shipping_address.postal_code", "5 chiffres"),
    ("shipping_address.postal_code", 69003, "shipping_address.postal_code", "texte attendu"),
    ("shipping_address.postal_code", "ABC", "shipping_address.postal_code", "5 chiffres"),
    ("billing_address.postal_code", "6900A", "billing_address.postal_code", "5 chiffres"),
    ("shipping_address.postal_code", _MISSING, "shipping_address.postal_code", "obligatoire"),
    ("shipping_address.country", "fr", "shipping_address.country", "majuscules"),
    ("shipping_address.country", "XX", "shipping_address.country", "inconnu"),
    ("shipping_address.country", "FRA", "shipping_address.country", "ISO 3166-1"),
    ("shipping_address.country", _MISSING, "shipping_address.country", "obligatoire"),
    ("billing_address.country", "France", "billing_address.country", "ISO 3166-1"),
    ("currency", _MISSING, "currency", "obligatoire"),
    ("currency", "USD", "currency", "USD"),
    ("currency", "eur", "currency", "ISO 4217"),
    ("lines", _MISSING, "lines", "obligatoire"),
    ("lines", {"sku": "A"}, "lines", "liste attendue"),
    ("lines", [], "lines", "au moins une ligne"),
    ("lines", [{**LINE, "sku": f"SKU-{i}"} for i in range(201)], "lines", "200 lignes"),
    ("lines.0", "BAG-RED-01", "lines[0]", "objet"),
    ("lines.0.sku", _MISSING, "lines[0].sku", "obligatoire"),
    ("lines.0.sku", "S" * 65, "lines[0].sku", "64 caractères"),
    ("lines.0.title", "T" * 301, "lines[0].title", "300 caractères"),
    ("lines.0.title", "   ", "lines[0].title", "vide"),
    ("lines.0.quantity", _MISSING, "lines[0].quantity", "obligatoire"),
    ("lines.0.quantity", 0, "lines[0].quantity", "de 1 à 9999"),
    ("lines.0.quantity", -1, "lines[0].quantity", "de 1 à 9999"),
    ("lines.0.quantity", 10_000, "lines[0].quantity", "de 1 à 9999"),
    ("lines.0.quantity", "2", "lines[0].quantity", "entier"),
    ("lines.0.quantity", 1.5, "lines[0].quantity", "entier"),
    ("lines.0.quantity", True, "lines[0].quantity", "entier"),
    ("lines.0.unit_price", _MISSING, "lines[0].unit_price", "obligatoire"),
    ("lines.0.unit_price", 34.9, "lines[0].unit_price", "texte décimal"),
    ("lines.0.unit_price", "34.901", "lines[0].unit_price", "deux décimales"),
    ("lines.0.unit_price", "-1.00", "lines[0].unit_price", "négatif"),
    ("lines.0.unit_price", "34,90", "lines[0].unit_price", "prix invalide"),
    ("lines.0.unit_price", "1e3", "lines[0].unit_price", "prix invalide"),
    ("lines.0.unit_price", "", "lines[0].unit_price", "prix invalide"),
    ("lines.0.unit_price", "1000000.00", "lines[0].unit_price", "trop élevé"),
]


@pytest.mark.parametrize(("member", "value", "path", "fragment"), RULES,
                         ids=[f"{m}={str(v)[:20]!r}" for m, v, _, _ in RULES])
def test_each_rule_refuses_with_the_path_of_the_field(
    post_order: Post, member: str, value: Any, path: str, fragment: str
) -> None:
    assert_refused(post_order(with_value(member, value)), path, fragment)


def test_an_inactive_seller_is_refused(post_order: Post, seller: Seller) -> None:
    seller.active = False
    db.session.commit()
    assert_refused(post_order(), "seller", "inconnu ou inactif")


def test_a_sku_twice_is_refused_on_the_second_line(post_order: Post) -> None:
    lines = [LINE, {**LINE, "title": "Autre"}]
    assert_refused(post_order(order_body(lines=lines)), "lines[1].sku", "lines[0]")


def test_a_total_beyond_what_can_be_stored_is_refused(post_order: Post) -> None:
    lines = [{**LINE, "quantity": 9999, "unit_price": "3000.00"}]
    assert_refused(post_order(order_body(lines=lines)), "lines", "total")


def test_a_body_that_is_not_an_object_is_refused(post_order: Post) -> None:
    response = post_order([order_body()])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert "objet JSON" in error["message"]


def test_every_error_is_reported_at_once(post_order: Post) -> None:
    body = {
        "seller": "personne@example.fr",
        "buyer": {"email": "pas-une-adresse"},
        "billing_address": {"name": "C", "line1": "1 rue", "postal_code": "123",
                            "city": "Lyon", "country": "fr"},
        "shipping_address": "Lyon",
        "currency": "USD",
        "lines": [
            {"sku": "A", "title": "Article", "quantity": 0, "unit_price": "1.234"},
            {"sku": "A", "title": "", "quantity": "2", "unit_price": -1},
            "ligne",
        ],
    }
    response = post_order(body)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {
        "external_id", "seller", "buyer.name", "buyer.email", "billing_address.country",
        "shipping_address", "currency", "lines[0].quantity", "lines[0].unit_price",
        "lines[1].sku", "lines[1].title", "lines[1].quantity", "lines[1].unit_price", "lines[2]",
    }
    assert all(isinstance(m, str) and m for messages in fields.values() for m in messages)


def test_several_problems_of_one_field_are_all_listed(post_order: Post) -> None:
    response = post_order(order_body(external_id="X\n" * 60))
    messages = response.get_json()["error"]["fields"]["external_id"]
    assert len(messages) == 2


@pytest.mark.parametrize(("member", "value"), [
    ("shipping_address.line2", None),
    ("shipping_address.line2", _MISSING),
    ("lines.0.quantity", 2.0),
    ("lines.0.unit_price", "34"),
    ("lines.0.unit_price", "34.9"),
    ("lines.0.unit_price", "0.00"),
    ("lines.0.unit_price", "999999.99"),
    ("lines.0.quantity", 9999),
    ("lines.0.title", "Sac cabas « rouge » – édition été"),
    ("billing_address.country", "BE"),
    ("external_id", "X" * 100),
])
def test_values_at_the_edges_are_accepted(post_order: Post, member: str, value: Any) -> None:
    response = post_order(with_value(member, value))
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(("country", "postal_code"), [
    ("BE", "1000"), ("GB", "SW1A 1AA"), ("NL", "1012-AB"), ("DE", "10115"), ("CH", "12"),
])
def test_postal_codes_elsewhere_are_2_to_10_letters_digits_spaces_or_dashes(
    post_order: Post, country: str, postal_code: str
) -> None:
    body = with_value("shipping_address.country", country)
    body["shipping_address"]["postal_code"] = postal_code
    assert post_order(body).status_code == 201


@pytest.mark.parametrize("postal_code", ["1", "12345678901", "SW1A_1AA", " 1000", "10 00 "])
def test_postal_codes_elsewhere_refused(post_order: Post, postal_code: str) -> None:
    body = with_value("shipping_address.country", "BE")
    body["shipping_address"]["postal_code"] = postal_code
    assert_refused(post_order(body), "shipping_address.postal_code", "2 à 10")


def test_texts_are_stored_trimmed(post_order: Post) -> None:
    body = order_body(external_id="  MKT-7  ")
    body["shipping_address"]["city"] = " Lyon "
    response = post_order(body)
    assert response.status_code == 201
    data = response.get_json()
    assert data["external_id"] == "MKT-7"
    assert data["shipping_address"]["city"] == "Lyon"


# Addresses the mailer cannot write (outside ASCII: sent without SMTPUTF8) or that are no
# address at all (two dots in a row, a reserved domain): refused at the door, rather than
# accepted and their e-mails failed for ever.
UNSENDABLE = ["cämille@example.fr", "camille@exämple.fr", "camille..martin@example.fr",
              ".camille@example.fr", "camille@example.test"]


@pytest.mark.parametrize("member", ["buyer.email", "seller"])
@pytest.mark.parametrize("address", UNSENDABLE)
def test_an_address_the_mailer_cannot_use_is_refused(post_order: Post, member: str, address: str) -> None:
    assert_refused(post_order(with_value(member, address)), member, "e-mail invalide")


@pytest.mark.parametrize("address", ['"camille martin"@example.fr', "camille+boutique@example.fr",
                                     "camille@[192.0.2.1]"])
def test_an_address_accepted_is_one_the_buyer_is_mailed_at(post_order: Post, address: str) -> None:
    response = post_order(with_value("buyer.email", address))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["buyer"]["email"] == address
    e2 = db.session.scalar(select(OutboxEmail).where(OutboxEmail.recipient_role == "buyer"))
    assert e2 is not None and (e2.to_email, e2.status, e2.last_error) == (address, "sent", "")
