"""E-mails in the recipient's language: English for a seller who chose it, French by default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tests.mail.conftest import _no_worker  # noqa: F401  (fixture: these tests render, nothing sends)
from uniqu3.extensions import db
from uniqu3.mail import render_email
from uniqu3.models import Order, OutboxEmail, Seller
from uniqu3.workflow import Actor, Workflow

from .conftest import french_left, visible_text

Make = Callable[..., Order]
DATA = ("Camille Martin", "12 rue des Lilas", "69003 Lyon", "Sac cabas rouge", "Carte brodée", "Linen & Co",
        "Linen &amp; Co")


def latest(kind: str, role: str | None = None) -> OutboxEmail:
    query = select(OutboxEmail).where(OutboxEmail.kind == kind)
    if role:
        query = query.where(OutboxEmail.recipient_role == role)
    row = db.session.scalars(query.order_by(OutboxEmail.id.desc())).first()
    assert row is not None, kind
    return row


def english_seller(make_seller: Callable[..., Seller]) -> Seller:
    return make_seller("shop@example.com", shop_name="Linen & Co", locale="en")


def test_the_new_order_email_of_an_english_seller(make_seller: Callable[..., Seller],
                                                  make_order: Make) -> None:
    order = make_order(owner=english_seller(make_seller))
    row = latest("E1")
    assert row.locale == "en"
    mail = render_email(row)
    assert mail.subject == f"New order {order.reference}"
    for words in ("ITEMS ORDERED", "2 × €34.90 = €69.80", "Order total: €75.30",
                  "Shipping and billing address:", "NEXT STEP", "click “Confirm payment”",
                  f"Open order {order.reference}:"):
        assert words in mail.text, words
    assert '<html lang="en">' in mail.html and "Items ordered" in mail.html
    for part in (mail.subject, mail.text, visible_text(mail.html)):
        assert french_left(part, *DATA) == []


def test_the_receipt_emails_of_an_english_seller(make_seller: Callable[..., Seller], make_order: Make,
                                                wf: Workflow, clock: Any) -> None:
    shop = english_seller(make_seller)
    order = make_order(owner=shop)
    seller = Actor.seller(shop.email)
    bag, card = sorted(order.lines, key=lambda line: line.position)
    wf.confirm_payment(order.id, actor=seller)
    first = wf.ship(order.id, actor=seller, quantities={bag.id: 2}, carrier="colissimo",
                    tracking_number="6A12345678901").shipment
    second = wf.ship(order.id, actor=seller, quantities={card.id: 1}, carrier="hand_delivery").shipment
    wf.request_receipt(first.id, actor=seller)
    wf.confirm_receipt(first.id, ip="203.0.113.7", user_agent="Firefox")
    confirmed = render_email(latest("E6"))
    assert confirmed.subject == f"Receipt confirmed by the buyer — order {order.reference}"
    assert "Camille Martin confirmed receiving parcel 1 of order" in confirmed.text
    assert "click “Ask the buyer to confirm receipt” for that parcel" in confirmed.text
    wf.request_receipt(second.id, actor=seller)
    clock.advance(days=8)
    wf.auto_receive_due()
    auto = render_email(latest("E7", "seller"))
    assert auto.subject == f"Parcel marked received automatically — order {order.reference}"
    assert "Carrier: Hand delivery" in auto.text and "Hand delivery" in auto.html
    assert f"Order {order.reference} is complete" in auto.text
    for mail in (confirmed, auto):
        for part in (mail.subject, mail.text, visible_text(mail.html)):
            assert french_left(part, *DATA) == []
    buyer = render_email(latest("E7", "buyer"))  # buyers are written to in French
    assert buyer.subject == f"Colis considéré comme reçu — commande {order.reference}"
    assert "Transporteur : Remise en main propre" in buyer.text


def test_french_by_default(make_order: Make) -> None:
    order = make_order()  # the default seller: French
    mail = render_email(latest("E1"))
    assert mail.subject == f"Nouvelle commande {order.reference}"
    assert "ARTICLES COMMANDÉS" in mail.text and "Total de la commande : 75,30\u00a0€" in mail.text
    assert "PROCHAINE ÉTAPE" in mail.text and '<html lang="fr">' in mail.html
