"""A program with only an API key takes an order from intake to « Reçue »: payment, two
parcels, receipt requests, the buyer's confirmation through the link of the e-mail they got,
the automatic receipt of the other parcel after the deadline; a request sent again with its
Idempotency-Key acts once. (The webhooks the marketplace receives along the way have their
own tests.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient, FlaskCliRunner

from tests.api.conftest import ORDERS_URL, order_body
from tests.buyer.conftest import csrf_token
from tests.conftest import Clock, SmtpSink, wait_for_background
from uniqu3.models import Seller


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **smtp_config}


def subjects_and_links(sink: SmtpSink, app: Flask) -> list[tuple[str, str, list[str]]]:
    """Every e-mail sent so far: recipient, subject and the links of its text."""
    wait_for_background(app)
    found = []
    for message in sink.parsed():
        text = message.get_body(preferencelist=("plain",)).get_content()
        links = re.findall(r"http://localhost(/\S+)", text)
        found.append((str(message["To"]), str(message["Subject"]), links))
    return found


def test_an_api_key_takes_an_order_from_intake_to_received(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, auth: dict[str, str], seller: Seller,
    smtp_server: SmtpSink, clock: Clock,
) -> None:
    def post(path: str, body: Any = None, key: str | None = None) -> dict[str, Any]:
        headers = {**auth, **({"Idempotency-Key": key} if key else {})}
        response = client.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        data: dict[str, Any] = response.get_json()
        return data

    created = post("/orders", order_body(lines=[
        {"sku": "BAG-RED-01", "title": "Sac cabas rouge", "quantity": 2, "unit_price": "34.90"},
        {"sku": "CARD-01", "title": "Carte brodée", "quantity": 1, "unit_price": "5.50"},
    ]), key="intake-MKT-1001")
    ref = created["reference"]
    assert created["status"] == "awaiting_payment"

    paid = post(f"/orders/{ref}/payment", {"note": "Virement"}, key="pay-1")
    assert paid["status"] == "paid"
    # The storefront's retry of the same request (a timeout on its side): answered, not redone.
    assert post(f"/orders/{ref}/payment", {"note": "Virement"}, key="pay-1") == paid

    clock.advance(hours=20)
    first = post(f"/orders/{ref}/shipments", {"lines": [{"sku": "BAG-RED-01", "quantity": 2}],
                                              "carrier": "colissimo", "tracking_number": "6A12345678901"},
                 key="ship-1")
    assert first["status"] == "partially_shipped"
    second = post(f"/orders/{ref}/shipments", {
        "lines": [{"sku": "CARD-01", "quantity": 1}], "carrier": "lettre_suivie",
        "tracking_number": "1K12345678901"}, key="ship-2")
    assert second["status"] == "shipped"
    assert [s["number"] for s in second["shipments"]] == [1, 2]

    clock.advance(days=2)
    for number in (1, 2):
        asked = post(f"/orders/{ref}/shipments/{number}/receipt-request", key=f"receipt-{number}")
    assert [s["receipt"]["status"] for s in asked["shipments"]] == ["awaiting", "awaiting"]

    # The buyer opens the link of the first parcel's e-mail and presses the one button.
    mails = subjects_and_links(smtp_server, app)
    to_buyer = [(subject, links) for to, subject, links in mails if "camille@example.fr" in to]
    assert len(to_buyer) == 6  # E2, E3, E4 ×2, E5 ×2: the retried payment sent no second E3
    receipt_links = [link for _, links in to_buyer for link in links if link.startswith("/r/")]
    first_link = next(link for link in receipt_links if "/probleme" not in link)
    page = client.get(first_link)
    assert page.status_code == 200
    g.pop("csrf_token", None)  # a new request, as in its own context
    pressed = client.post(first_link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert pressed.status_code == 200

    now = client.get(f"/api/v1/orders/{ref}", headers=auth).get_json()
    assert [(s["number"], s["receipt"]["received_by"]) for s in now["shipments"]] == [(1, "buyer"), (2, None)]
    assert now["status"] == "shipped"

    # Nobody answers for the second parcel: it is received automatically after the deadline.
    clock.advance(days=7, minutes=1)
    assert runner.invoke(args=["admin", "sweep"]).exit_code == 0
    done = client.get(f"/api/v1/orders/{ref}", headers=auth).get_json()
    assert done["status"] == "received"
    assert done["status_label"] == "Reçue"
    assert [(s["number"], s["receipt"]["received_by"]) for s in done["shipments"]] == [(1, "buyer"),
                                                                                       (2, "auto")]
    assert done["shipments"][0]["receipt"]["proof_page"].endswith(f"/commandes/{ref}/colis/1/preuve")
    # And the list knows it too.
    listed = client.get(ORDERS_URL, query_string={"status": "received"}, headers=auth).get_json()
    assert [o["reference"] for o in listed["orders"]] == [ref]
