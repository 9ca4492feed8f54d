"""Shipping costs, the buyer's phone and a pickup point where the seller works: the order page,
the preparation slip, the CSV export; the buyer's page; the e-mails' amounts."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.buyer.conftest import page_text
from tests.seller.conftest import SellerClient
from uniqu3.extensions import db
from uniqu3.mail import render_email
from uniqu3.models import Order, OrderStatus, OutboxEmail, Seller
from uniqu3.tokens import order_token
from uniqu3.workflow import PickupPoint
from uniqu3.workflow.rules import phone_shown

POINT = PickupPoint(carrier="Mondial Relay", id="FR-012345", name="Tabac de la Gare",
                    line1="3 place de la Gare", line2="", postal_code="69007", city="Lyon", country="FR")
DATA = {"shipping_cents": 490, "buyer_phone": "+33612345678", "pickup_point": POINT}
Make = Callable[..., Order]


def text_of(html: str) -> str:
    return page_text(html)


def test_the_order_page_shows_shipping_phone_and_pickup_point(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.AWAITING_PAYMENT, **DATA)
    html = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    text = text_of(html)
    assert "Sous-total des articles 75,30 €" in text
    assert "Livraison 4,90 €" in text
    assert "Total 80,20 €" in text
    assert "En attente du paiement du client : 80,20 €." in text  # what the buyer pays
    assert 'href="tel:+33612345678">06 12 34 56 78</a>' in html  # written as the French write it
    assert "Livraison en point relais Point relais Mondial Relay n° FR-012345 Tabac de la Gare" in text
    assert "3 place de la Gare 69007 Lyon" in text


def test_an_order_without_them_shows_one_total(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    html = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    text = text_of(html)
    assert "Total 75,30 €" in text
    assert "Sous-total" not in text and "point relais" not in text and "tel:" not in html


def test_the_slip_sends_the_parcel_to_the_point_with_its_id_large(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID, **DATA)
    html = sc.get(f"/commandes/{order.reference}/preparation").get_data(as_text=True)
    assert re.search(r'<span class="pickup-id">n° FR-012345</span>', html)
    text = text_of(html)
    livrer = text.index("Livrer à")
    assert text.index("Camille Martin", livrer) < text.index("Tabac de la Gare", livrer) < text.index(
        "À préparer")
    assert "12 rue des Lilas" not in text[livrer:text.index("À préparer")]  # not the home address
    assert "Tél. 06 12 34 56 78" in text


def test_the_csv_has_the_phone_the_point_and_the_shipping(sc: SellerClient, order_in: Make) -> None:
    order_in(OrderStatus.PAID, **DATA)
    raw = sc.get("/commandes/export.csv").data.decode("utf-8")[1:]
    table = list(csv.reader(io.StringIO(raw, newline=""), delimiter=";"))
    row = dict(zip(table[0], table[1], strict=True))
    assert row["Téléphone du client"] == "'+33612345678"  # a leading + is defused for spreadsheets
    assert row["Point relais"] == ("Mondial Relay FR-012345 : Tabac de la Gare, 3 place de la Gare, "
                                   "69007 Lyon, France")
    assert (row["Frais de port (€)"], row["Total de la commande (€)"]) == ("4,90", "80,20")


def test_the_buyer_s_page_shows_the_shipping_and_the_point(client: FlaskClient, make_order: Any) -> None:
    order = make_order(**DATA)
    text = text_of(client.get(f"/o/{order_token(order.id)}").get_data(as_text=True))
    assert "Sous-total des articles 75,30 € Livraison 4,90 € Total de la commande 80,20 €" in text
    assert "Point relais Mondial Relay n° FR-012345 Tabac de la Gare" in text


def outbox(kind: str) -> OutboxEmail:
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind)
                             .order_by(OutboxEmail.id.desc())).first()
    assert row is not None
    return row


@pytest.mark.parametrize("kind", ["E1", "E2", "E3"])
def test_the_e_mails_show_the_shipping_line_and_the_total(order_in: Make, kind: str) -> None:
    order_in(OrderStatus.PAID, **DATA)
    mail = render_email(outbox(kind))
    assert "Sous-total des articles : 75,30\u00a0€" in mail.text
    assert "Livraison : 4,90\u00a0€" in mail.text
    assert "Total de la commande : 80,20\u00a0€" in mail.text
    html = text_of(mail.html)
    assert "Livraison 4,90 €" in html and "80,20 €" in html
    assert "Point relais Mondial Relay n° FR-012345" in mail.text


def test_e1_gives_the_seller_the_buyer_s_phone(make_order: Any) -> None:
    make_order(**DATA)
    mail = render_email(outbox("E1"))
    assert "Téléphone : 06 12 34 56 78" in mail.text
    assert 'href="tel:+33612345678"' in mail.html


def test_an_english_seller_reads_the_shipping_in_english(make_seller: Any, make_order: Any) -> None:
    english: Seller = make_seller("shop@example.com", shop_name="Shop", locale="en")
    make_order(owner=english, **DATA)
    text = render_email(outbox("E1")).text
    assert "Shipping: €4.90" in text and "€80.20" in text
    assert "Relay point Mondial Relay no. FR-012345" in text
    assert "Phone: 06 12 34 56 78" in text


def test_an_order_without_shipping_shows_no_shipping_line(make_order: Any) -> None:
    make_order()
    text = render_email(outbox("E2")).text
    assert "Livraison :" not in text and "Sous-total" not in text
    assert "Total de la commande : 75,30\u00a0€" in text


@pytest.mark.parametrize(("stored", "shown"), [("+33612345678", "06 12 34 56 78"),
                                               ("+442079460958", "+44 20 7946 0958"),
                                               ("+32470123456", "+32 470 12 34 56")])
def test_a_phone_number_is_shown_as_people_write_it(stored: str, shown: str) -> None:
    assert phone_shown(stored) == shown
