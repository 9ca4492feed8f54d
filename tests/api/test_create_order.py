"""POST /api/v1/orders: creation, replay, conflict, and the request-level refusals."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.api.conftest import ORDERS_URL, bearer, order_body
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OutboxEmail, Seller
from uniqu3.workflow import signals

Post = Callable[..., TestResponse]


def outbox_kinds() -> list[str]:
    return sorted(db.session.scalars(select(OutboxEmail.kind)))


def order_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Order)) or 0


def test_new_order_is_created_with_201_and_its_links(post_order: Post, app: Flask) -> None:
    response = post_order()

    assert response.status_code == 201
    data = response.get_json()
    assert re.fullmatch(r"UQ-2026-\d{6}", data["reference"])
    assert data["status"] == "awaiting_payment"
    assert data["status_label"] == "En attente de paiement"
    assert data["totals"] == {"items": "69.80", "shipping": "0.00", "amount": "69.80", "quantity": 2,
                              "shipped_quantity": 0}
    assert data["lines"][0]["unit_price"] == "34.90"
    assert data["lines"][0]["line_total"] == "69.80"
    assert data["created_at"] == "2026-11-20T09:30:00Z"
    self_url = f"http://localhost/api/v1/orders/{data['reference']}"
    assert data["links"] == {"self": self_url,
                             "seller_page": f"http://localhost/commandes/{data['reference']}"}
    assert response.headers["Location"] == self_url
    assert response.headers["Content-Type"] == "application/json"
    assert "Set-Cookie" not in response.headers

    order = db.session.scalar(select(Order))
    assert order is not None and order.reference == data["reference"]
    assert order.total_cents == 6980
    assert outbox_kinds() == ["E1", "E2"]
    event = db.session.scalar(select(OrderEvent))
    assert event is not None
    assert (event.kind, event.actor, event.actor_label) == ("order_placed", "api", "storefront")


def test_replay_answers_200_with_the_same_order_and_no_second_email(post_order: Post) -> None:
    queued: list[list[int]] = []

    def listen(sender: Any, ids: list[int]) -> None:
        queued.append(ids)

    signals.emails_queued.connect(listen)
    try:
        first = post_order()
        again = post_order()
    finally:
        signals.emails_queued.disconnect(listen)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["reference"] == first.get_json()["reference"]
    assert "Location" not in again.headers
    assert order_count() == 1
    assert outbox_kinds() == ["E1", "E2"]
    assert len(queued) == 1 and len(queued[0]) == 2


def test_replay_with_spaces_around_texts_is_still_a_replay(post_order: Post) -> None:
    first = post_order()
    body = order_body(buyer={"name": "  Camille Martin ", "email": "camille@example.fr"})
    again = post_order(body)
    assert again.status_code == 200
    assert again.get_json()["reference"] == first.get_json()["reference"]


def test_same_external_id_with_another_content_is_a_409_that_changes_nothing(post_order: Post) -> None:
    first = post_order()
    changed = order_body(lines=[{"sku": "BAG-RED-01", "title": "Sac cabas rouge", "quantity": 3,
                                 "unit_price": "34.90"}])

    response = post_order(changed)

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict"
    assert first.get_json()["reference"] in error["message"]
    assert "external_id" in error["fields"]
    order = db.session.scalar(select(Order))
    assert order is not None
    db.session.refresh(order)
    assert [line.quantity for line in order.lines] == [2]
    assert outbox_kinds() == ["E1", "E2"]


def test_same_external_id_for_another_seller_is_another_order(
    post_order: Post, make_seller: Callable[..., Seller]
) -> None:
    make_seller("boutique@example.fr")
    first = post_order()
    second = post_order(order_body(seller="boutique@example.fr"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["reference"] != second.get_json()["reference"]


def test_seller_email_is_matched_without_case(post_order: Post) -> None:
    response = post_order(order_body(seller="Atelier@Example.FR"))
    assert response.status_code == 201
    assert response.get_json()["seller"] == "atelier@example.fr"


def post_at_once(app: Flask, auth: dict[str, str], bodies: list[dict[str, Any]]) -> list[TestResponse]:
    """POST each body from its own thread and client, all released together."""
    barrier = threading.Barrier(len(bodies))
    responses: list[Any] = [None] * len(bodies)

    def post(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        responses[i] = client.post(ORDERS_URL, json=bodies[i], headers=auth)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return responses


def test_the_same_order_posted_several_times_at_once_is_recorded_once(
    app: Flask, auth: dict[str, str], seller: Seller
) -> None:
    responses = post_at_once(app, auth, [order_body() for _ in range(6)])

    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.get_json()["reference"] for r in responses}) == 1
    assert order_count() == 1
    assert outbox_kinds() == ["E1", "E2"]


def test_one_external_id_with_two_contents_at_once_is_one_order_and_409s(
    app: Flask, auth: dict[str, str], seller: Seller
) -> None:
    other = order_body(buyer={"name": "Léa Martin", "email": "lea@example.fr"})
    bodies = [order_body(), other] * 3

    responses = post_at_once(app, auth, bodies)

    (winner,) = [i for i, r in enumerate(responses) if r.status_code == 201]
    for i, response in enumerate(responses):
        if i != winner:
            expected = 200 if bodies[i] == bodies[winner] else 409
            assert response.status_code == expected, response.get_json()
    assert order_count() == 1
    assert outbox_kinds() == ["E1", "E2"]


# ----------------------------------------------------------------------------- request level
def test_malformed_json_is_400(client: FlaskClient, auth: dict[str, str], seller: Seller) -> None:
    response = client.post(ORDERS_URL, data='{"external_id": ', headers=auth,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert order_count() == 0


@pytest.mark.parametrize(("language", "message"), [
    ("fr", "Le corps de la requête n'est pas un JSON valide (ligne 2, colonne 22)."),
    ("en", "The request body is not valid JSON (line 2, column 22)."),
])
def test_malformed_json_says_where_in_the_reader_s_language(
    client: FlaskClient, auth: dict[str, str], seller: Seller, language: str, message: str
) -> None:
    response = client.post(ORDERS_URL, data='{"external_id": "MKT-1",\n "seller": "atelier" "x"}',
                           headers={**auth, "Accept-Language": language}, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == message  # no parser's English inside


@pytest.mark.parametrize(("raw", "words"), [
    (b'{"a": NaN}', "NaN n'est pas une valeur JSON"),
    (b"\xff\xfe{}", "pas en UTF-8"),
    (b"[" * 50_000 + b"]" * 50_000, "imbrication trop profonde"),
    (b'{"a": ' + b"9" * 5000 + b"}", "nombre trop long"),
])
def test_json_refused_says_why_in_words(client: FlaskClient, auth: dict[str, str], seller: Seller,
                                        raw: bytes, words: str) -> None:
    response = client.post(ORDERS_URL, data=raw, headers=auth, content_type="application/json")
    assert response.status_code == 400
    assert words in response.get_json()["error"]["message"]


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b"\xff\xfe{}", b"[" * 50_000 + b"]" * 50_000])
def test_json_that_python_would_stretch_is_400(client: FlaskClient, auth: dict[str, str], raw: bytes,
                                                seller: Seller) -> None:
    response = client.post(ORDERS_URL, data=raw, headers=auth, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415(client: FlaskClient, auth: dict[str, str], seller: Seller,
                                        content_type: str | None) -> None:
    import json

    response = client.post(ORDERS_URL, data=json.dumps(order_body()), headers=auth,
                           content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert order_count() == 0


def test_json_content_type_with_charset_is_accepted(client: FlaskClient, auth: dict[str, str],
                                                    seller: Seller) -> None:
    import json

    response = client.post(ORDERS_URL, data=json.dumps(order_body()), headers=auth,
                           content_type="application/json; charset=utf-8")
    assert response.status_code == 201


def test_a_body_over_the_limit_is_413_by_its_content_length(client: FlaskClient, auth: dict[str, str],
                                                            seller: Seller, app: Flask) -> None:
    limit = app.config["API_MAX_BODY_BYTES"]
    assert limit == 256 * 1024
    body = order_body(external_id="X" * 10)
    body["padding"] = "x" * limit  # unknown members are ignored, but they count
    response = client.post(ORDERS_URL, json=body, headers=auth)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert order_count() == 0


def test_a_body_over_the_limit_is_413_by_what_is_read(client: FlaskClient, auth: dict[str, str],
                                                      seller: Seller, app: Flask) -> None:
    """No Content-Length (chunked upload): the read itself stops past the limit."""
    limit = app.config["API_MAX_BODY_BYTES"]
    raw = b'{"padding": "' + b"x" * limit + b'"}'
    response = client.post(ORDERS_URL, input_stream=io.BytesIO(raw), headers=auth,
                           content_type="application/json",
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_body_just_under_the_limit_is_read(client: FlaskClient, auth: dict[str, str],
                                             seller: Seller, app: Flask) -> None:
    import json

    body = order_body()
    body["padding"] = ""
    size = len(json.dumps(body).encode())
    body["padding"] = "x" * (app.config["API_MAX_BODY_BYTES"] - size)
    raw = json.dumps(body).encode()
    assert len(raw) == app.config["API_MAX_BODY_BYTES"]
    response = client.post(ORDERS_URL, data=raw, headers=auth, content_type="application/json")
    assert response.status_code == 201


def test_the_key_is_checked_before_the_body(client: FlaskClient, seller: Seller) -> None:
    response = client.post(ORDERS_URL, data="not json", content_type="text/plain")
    assert response.status_code == 401


def test_csrf_does_not_apply_to_the_api(app: Flask, post_order: Post) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert post_order().status_code == 201


def test_a_cookie_session_does_not_authenticate(client: FlaskClient, seller: Seller) -> None:
    client.set_cookie("session", "anything")
    response = client.post(ORDERS_URL, json=order_body())
    assert response.status_code == 401
    assert order_count() == 0


def test_the_error_codes_do_not_depend_on_the_language_asked(
    client: FlaskClient, auth: dict[str, str], seller: Seller
) -> None:
    response = client.post(ORDERS_URL, json=[], headers={**auth, "Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_failed"


def test_the_history_names_the_key(post_order: Post, make_key: Callable[..., str]) -> None:
    key = make_key(name="vitrine UNIQU3APP")
    response = post_order(headers=bearer(key))
    assert response.status_code == 201
    event = db.session.scalar(select(OrderEvent))
    assert event is not None and event.actor_label == "vitrine UNIQU3APP"


def test_a_replay_answers_with_the_order_as_it_is_now(post_order: Post, wf: Any) -> None:
    from uniqu3.workflow import Actor

    first = post_order().get_json()
    order = db.session.scalar(select(Order))
    assert order is not None
    wf.confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"))

    again = post_order()

    assert again.status_code == 200
    data = again.get_json()
    assert data["reference"] == first["reference"]
    assert (data["status"], data["status_label"]) == ("paid", "Payée")
    assert data["paid_at"] == "2026-11-20T09:30:00Z"
    assert outbox_kinds() == ["E1", "E2", "E3"]
