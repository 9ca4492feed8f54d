"""What a buyer reads: the shop and its marketplace, and a button that says what it confirms."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from uniqu3.tokens import order_token, receipt_token
from uniqu3.workflow import Workflow

from .conftest import page_text
from .test_order_page import SELLER, ship
from .test_report_problem import awaiting  # noqa: F401  (fixture: a parcel whose receipt is asked)


def test_the_header_names_the_shop_and_the_marketplace(client: FlaskClient, make_order: Any) -> None:
    order = make_order()
    html = client.get(f"/o/{order_token(order.id)}").get_data(as_text=True)
    assert ('<header class="site"><span class="brand">L&#39;Atelier de Lina</span>'
            '<span class="marketplace">sur UNIQU3APP</span>') in html.replace("\n", "")


def test_a_parcel_of_several_is_confirmed_as_this_parcel(client: FlaskClient, wf: Workflow,
                                                         make_order: Any) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    first = ship(wf, order, "BAG-RED-01", 2, "6A12345678901")  # the card is still to ship
    wf.request_receipt(first, actor=SELLER)
    for url in (f"/r/{receipt_token(first)}", f"/o/{order_token(order.id)}"):
        words = page_text(client.get(url).get_data(as_text=True))
        assert "J'ai bien reçu ce colis" in words, url
        assert "J'ai bien reçu ma commande" not in words, url


def test_a_single_parcel_is_confirmed_as_the_order(client: FlaskClient, awaiting: int) -> None:  # noqa: F811
    words = page_text(client.get(f"/r/{receipt_token(awaiting)}").get_data(as_text=True))
    assert "J'ai bien reçu ma commande" in words and "J'ai bien reçu ce colis" not in words
