"""GET /api/v1/orders: the key's orders, most recently updated first, a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import ORDERS_URL, bearer
from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import Order, Seller
from uniqu3.workflow import Actor, Workflow
from uniqu3.workflow.loading import order_id_of

Get = Callable[..., dict[str, Any]]


@pytest.fixture
def get_list(client: FlaskClient, auth: dict[str, str]) -> Get:
    def get(headers: dict[str, str] | None = None, expect: int = 200, **params: Any) -> dict[str, Any]:
        response = client.get(ORDERS_URL, query_string=params, headers=headers or auth)
        assert response.status_code == expect, response.get_data(as_text=True)
        data: dict[str, Any] = response.get_json()
        return data

    return get


@pytest.fixture
def five(make_order: Callable[..., Order], clock: Clock) -> list[str]:
    """Five orders placed a minute apart, oldest first."""
    references = []
    for _ in range(5):
        references.append(make_order().reference)
        clock.advance(minutes=1)
    return references


def references(page: dict[str, Any]) -> list[str]:
    return [order["reference"] for order in page["orders"]]


def test_the_newest_change_comes_first_and_pages_cover_every_order_once(
    five: list[str], get_list: Get, wf: Workflow,
) -> None:
    first = get_list(limit=2)
    assert references(first) == five[::-1][:2]
    assert first["orders"][0]["lines"][0]["sku"] == "BAG-RED-01"  # the same order as GET shows
    seen = references(first)
    cursor = first["next_cursor"]
    while cursor:
        page = get_list(limit=2, cursor=cursor)
        seen += references(page)
        cursor = page["next_cursor"]
    assert seen == five[::-1]
    # An order changed goes to the front.
    oldest = order_id_of(db.session, five[0])
    assert oldest is not None
    wf.confirm_payment(oldest, actor=Actor.seller("atelier@example.fr"))
    assert references(get_list(limit=1)) == [five[0]]


def test_a_full_last_page_has_no_cursor(five: list[str], get_list: Get) -> None:
    page = get_list(limit=5)
    assert len(page["orders"]) == 5 and page["next_cursor"] is None
    assert get_list()["next_cursor"] is None  # 25 by default


def test_filters_by_status_change_time_and_marketplace_id(
    five: list[str], get_list: Get, wf: Workflow, clock: Clock,
) -> None:
    since = clock.now.isoformat()
    paid = order_id_of(db.session, five[1])
    assert paid is not None
    wf.confirm_payment(paid, actor=Actor.seller("atelier@example.fr"))
    assert references(get_list(status="paid")) == [five[1]]
    assert references(get_list(status="awaiting_payment")) == [r for r in five[::-1] if r != five[1]]
    assert references(get_list(updated_since=since)) == [five[1]]
    later = references(get_list(updated_since="2026-11-20T09:32:00+00:00"))
    assert later == [five[1], five[4], five[3], five[2]]
    by_id = get_list(external_id="MKT-1003")["orders"]
    assert [(o["external_id"], o["reference"]) for o in by_id] == [("MKT-1003", five[2])]
    assert get_list(external_id="MKT-9999")["orders"] == []


def test_a_seller_key_lists_its_own_orders_only(
    make_order: Callable[..., Order], make_seller: Callable[..., Seller], make_key: Callable[..., str],
    seller: Seller, get_list: Get,
) -> None:
    other = make_seller("autre@example.fr")
    theirs = make_order(other, external_id="MKT-1001")
    mine = make_order(external_id="MKT-1001")
    key = bearer(make_key("label software", seller=seller))
    assert references(get_list(headers=key)) == [mine.reference]
    assert references(get_list(headers=key, external_id="MKT-1001")) == [mine.reference]
    assert set(references(get_list())) == {mine.reference, theirs.reference}
    seller.active = False
    db.session.commit()
    assert get_list(headers=key) == {"orders": [], "next_cursor": None}


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"),
    ({"limit": 101}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"status": "lost"}, "status"),
    ({"updated_since": "yesterday"}, "updated_since"),
    ({"updated_since": "2026-11-20T09:30:00"}, "updated_since"),  # no offset: which time?
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "WyIyMDI2LTExLTIwIiwgOTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ"}, "cursor"),  # an id out of range
    ({"external_id": ""}, "external_id"),
    ({"stauts": "paid"}, "stauts"),  # a misspelt filter is not ignored
    ({"": "paid"}, ""),
])
def test_bad_parameters_are_a_422_naming_them(five: list[str], get_list: Get, params: dict[str, Any],
                                              field: str) -> None:
    error = get_list(expect=422, **params)["error"]
    assert error["code"] == "validation_failed"
    assert list(error["fields"]) == [field]
    assert error["fields"][field][0]


def test_the_list_needs_a_key(client: FlaskClient) -> None:
    response = client.get(ORDERS_URL)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
