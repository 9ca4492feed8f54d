"""`/o/<token>`: the buyer follows the order from a signed link, without an account."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import event

from tests.conftest import Clock
from tests.seller.conftest import IsolatedClient
from uniqu3.extensions import db
from uniqu3.models import OrderStatus, ShipmentStatus
from uniqu3.tokens import ORDER_MAX_AGE, order_token, receipt_token, shipment_id_from_token
from uniqu3.workflow import Actor, LineInput, ParcelDetails, Workflow

from .conftest import page_text

SELLER = Actor.seller("atelier@example.fr")
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
INVALID = "Ce lien n'est pas valide ou a expiré…"


def english_reader(app: Flask) -> FlaskClient:
    """A client whose requests each run in their own app context (a language chosen by an
    earlier request of the test is not kept)."""
    return IsolatedClient(app, app.response_class)


def ship(wf: Workflow, order: Any, sku: str, qty: int, number: str, carrier: str = "colissimo") -> int:
    line = next(line for line in order.lines if line.sku == sku)
    shipment = wf.ship(order.id, actor=SELLER, quantities={line.id: qty}, carrier=carrier,
                       tracking_number=number).shipment
    assert shipment is not None
    return shipment.id


def test_the_order_page_shows_what_the_buyer_needs(
    client: FlaskClient, wf: Workflow, make_order: Any, clock: Clock
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER, note="PayPal, transaction 9XK-PRIVATE")
    first = ship(wf, order, "BAG-RED-01", 2, "6A12345678901")
    wf.request_receipt(first, actor=SELLER)
    wf.confirm_receipt(first, ip="198.51.100.23", user_agent="SecretBrowser/1.0")
    second = ship(wf, order, "CARD-01", 1, "12345678", carrier="mondial_relay")
    wf.request_receipt(second, actor=SELLER)

    response = client.get(f"/o/{order_token(order.id)}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = page_text(response.text)
    assert "L'Atelier de Lina" in text and order.reference in text
    assert "Expédiée" in text  # the order's status, in French
    for fact in ("Sac cabas rouge", "BAG-RED-01", "Carte brodée", "CARD-01", "34,90 €", "75,30 €",
                 "12 rue des Lilas", "69003 Lyon"):
        assert fact in text, fact
    # Each parcel: carrier, tracking link, status; the button only where it is awaited.
    assert "Colis n° 1 Reçu" in text and "Réception confirmée le 20/11/2026 à 10:30" in text
    assert "Colis n° 2 Confirmation de réception demandée" in text
    assert 'href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"' in response.text
    assert 'href="https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition=12345678"' in response.text
    forms = re.findall(r'<form method="post" action="([^"]+)"', response.text)
    # The second parcel's links: its one button and « Signaler un problème » (their timestamps
    # may be a second older than a link made now).
    assert [shipment_id_from_token(action.removeprefix("/r/").removesuffix("/probleme"))
            for action in forms] == [second, second]
    assert forms[1] == forms[0] + "/probleme"
    assert "J'ai bien reçu ce colis" in text
    assert "considéré comme reçu le 27/11/2026 à 10:30" in text
    # The history as the buyer may see it: no payment note, no proof IP or browser, no e-mails.
    for line in ("Commande enregistrée", "Paiement reçu par L'Atelier de Lina",
                 "Colis n° 1 expédié (Colissimo (La Poste), suivi 6A12345678901)",
                 "Vous avez confirmé la réception du colis n° 1",
                 "Confirmation de réception demandée pour le colis n° 2"):
        assert line in text, line
    for secret in ("9XK-PRIVATE", "198.51.100.23", "SecretBrowser", "storefront"):
        assert secret not in response.text, secret
    assert text.index("Confirmation de réception demandée pour le colis n° 2") < text.index(
        "Commande enregistrée")  # newest first


def test_before_payment_the_page_says_how_to_pay(client: FlaskClient, make_order: Any) -> None:
    order = make_order()
    text = page_text(client.get(f"/o/{order_token(order.id)}").text)
    assert "En attente de paiement" in text
    assert "Comment payer" in text and "IBAN FR76 3000 6000 0112 3456 7890 189" in text
    assert "Montant à régler : 75,30 €" in text
    assert "À venir" not in text and "<form" not in text  # the recap lists everything


def test_the_reference_in_the_title_is_kept_on_one_line(client: FlaskClient, make_order: Any) -> None:
    order = make_order()
    html = client.get(f"/o/{order_token(order.id)}").text
    assert f'<h1>Commande <span class="ref">{order.reference}</span></h1>' in html
    css = client.get("/static/css/buyer.css").text
    assert ".buyer .ref { white-space: nowrap; }" in css


def test_a_cancelled_order_says_so_with_its_reason(
    client: FlaskClient, wf: Workflow, make_order: Any
) -> None:
    order = make_order()
    wf.cancel(order.id, actor=SELLER, reason="Rupture de stock")
    text = page_text(client.get(f"/o/{order_token(order.id)}").text)
    assert "Annulée" in text and "Motif : Rupture de stock" in text
    assert "Comment payer" not in text and "À venir" not in text


def test_the_labels_are_the_seller_guides() -> None:
    # One table of labels for every page (uniqu3.labels), in the seller guide's words.
    from uniqu3.labels import SHIPMENT_LABELS, STATUS_LABELS

    assert {str(k): str(v) for k, v in STATUS_LABELS.items()} == {
        OrderStatus.AWAITING_PAYMENT: "En attente de paiement", OrderStatus.PAID: "Payée",
        OrderStatus.PARTIALLY_SHIPPED: "Partiellement expédiée", OrderStatus.SHIPPED: "Expédiée",
        OrderStatus.RECEIVED: "Reçue", OrderStatus.CANCELLED: "Annulée",
    }
    assert {str(k): str(v) for k, v in SHIPMENT_LABELS.items()} == {
        ShipmentStatus.SHIPPED: "Expédié",
        ShipmentStatus.AWAITING_RECEIPT: "Confirmation de réception demandée",
        ShipmentStatus.RECEIVED: "Reçu",
        ShipmentStatus.PROBLEM: "Problème signalé",
        ShipmentStatus.LOST: "Colis perdu",
    }


def test_the_page_costs_the_same_few_queries_with_many_parcels(
    app: Flask, client: FlaskClient, wf: Workflow, make_order: Any
) -> None:
    def queries_for(order_id: int) -> int:
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/o/{order_token(order_id)}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    small = make_order()
    wf.confirm_payment(small.id, actor=SELLER)
    ship(wf, small, "CARD-01", 1, "6A12345678901")
    big = make_order(lines=tuple(LineInput(sku=f"SKU-{i}", title=f"Article {i}", quantity=1,
                                           unit_price_cents=100) for i in range(8)))
    wf.confirm_payment(big.id, actor=SELLER)
    for i in range(8):
        ship(wf, big, f"SKU-{i}", 1, f"6A1234567890{i}")
    assert queries_for(big.id) == queries_for(small.id) <= 8


# ----------------------------------------------------------------------------- bad links
def test_every_bad_link_gets_the_same_friendly_page(
    app: Flask, client: FlaskClient, wf: Workflow, make_order: Any, monkeypatch: Any
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    shipment = ship(wf, order, "CARD-01", 1, "6A12345678901")
    good = order_token(order.id)
    _payload, stamp, signature = good.split(".")
    forged = ".".join([order_token(2).split(".")[0], stamp, signature])  # another order, same signature
    bad_links = {
        "tampered": f"/o/{good[:-2]}{'AA' if not good.endswith('AA') else 'BB'}",
        "forged id": f"/o/{forged}",
        "garbage": "/o/not-a-token",
        "receipt token on the order page": f"/o/{receipt_token(shipment)}",
        "unknown order": f"/o/{order_token(9999)}",
        "order token on the receipt page": f"/r/{good}",
        "unknown parcel": f"/r/{receipt_token(9999)}",
    }
    pages = {}
    for name, url in bad_links.items():
        response = client.get(url)
        assert response.status_code == 404, name
        assert response.headers["Cache-Control"] == "no-store", name
        pages[name] = page_text(response.text)
        assert INVALID in pages[name], name
        assert order.reference not in response.text and "Atelier" not in response.text, name
    assert len(set(pages.values())) == 1  # nothing tells one failure from another

    # Expired: signed long ago.
    old = int(time.time()) - ORDER_MAX_AGE - 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: old)
    expired = order_token(order.id)
    monkeypatch.undo()
    response = client.get(f"/o/{expired}")
    assert response.status_code == 404 and INVALID in page_text(response.text)
    assert client.get(f"/o/{good}").status_code == 200


def test_links_signed_with_a_previous_key_still_open(
    app: Flask, client: FlaskClient, make_order: Any
) -> None:
    order = make_order()
    old_link = f"/o/{order_token(order.id)}"
    app.config.update(SECRET_KEY="a-brand-new-secret-key-after-rotation", SECRET_KEY_FALLBACKS=[])
    assert client.get(old_link).status_code == 404
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]
    assert client.get(old_link).status_code == 200
    assert client.get(f"/o/{order_token(order.id)}").status_code == 200  # signed with the new key


def test_after_a_partial_shipment_the_page_lists_what_is_still_to_come(
    client: FlaskClient, wf: Workflow, make_order: Any
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    ship(wf, order, "BAG-RED-01", 1, "6A12345678901")
    text = page_text(client.get(f"/o/{order_token(order.id)}").text)
    assert "Partiellement expédiée" in text
    to_come = text[text.index("À venir"):text.index("Votre commande")]
    assert "1 × Sac cabas rouge" in to_come and "1 × Carte brodée" in to_come


def test_a_hand_delivery_and_the_sellers_corrections_read_as_such(
    client: FlaskClient, wf: Workflow, make_order: Any
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    ship(wf, order, "BAG-RED-01", 2, "", carrier="hand_delivery")
    ship(wf, order, "CARD-01", 1, "6A12345678901")
    wf.edit_shipment(order.id, 2, ParcelDetails("colissimo", "6A98765432109"), actor=SELLER)
    text = page_text(client.get(f"/o/{order_token(order.id)}").text)
    assert "Colis n° 1 Remis en main propre" in text and "Remis le 20/11/2026" in text
    assert "Colis n° 1 remis en main propre par L'Atelier de Lina" in text  # the history
    assert "Colis n° 2 Expédié" in text and "Expédié le 20/11/2026" in text
    assert "Informations d'envoi du colis n° 2 corrigées par L'Atelier de Lina" in text
    assert "6A98765432109" in text and "6A12345678901" not in text.split("Historique")[0]

    other = make_order()
    wf.confirm_payment(other.id, actor=SELLER)
    wf.undo_payment(other.id, actor=SELLER)
    text = page_text(client.get(f"/o/{order_token(other.id)}").text)
    assert "Paiement finalement pas confirmé par L'Atelier de Lina" in text and "Comment payer" in text


def test_the_refunds_recorded_and_what_is_still_due_are_shown(
    app: Flask, client: FlaskClient, wf: Workflow, make_order: Any, clock: Clock
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    wf.cancel(order.id, actor=SELLER, reason="Rupture de stock")
    link = f"/o/{order_token(order.id)}"
    text = page_text(client.get(link).text)
    assert "Remboursement Reste à vous rembourser 75,30 €" in text
    assert "L'Atelier de Lina vous remboursera ce montant" in text
    wf.record_refund(order.id, actor=SELLER, amount_cents=2530, method="paypal", reference="PP-42",
                     note="Note privée du vendeur")
    text = page_text(client.get(link).text)
    assert "20/11/2026 — 25,30 € remboursés par L'Atelier de Lina (PayPal) réf. PP-42" in text
    assert "Remboursé en tout 25,30 € Reste à vous rembourser 50,00 €" in text
    assert "Note privée" not in text  # the seller's note stays on the seller's side
    assert "— Remboursement de 25,30 € effectué par L'Atelier de Lina (PayPal)" in text  # history
    english = page_text(english_reader(app).get(link, headers=ENGLISH).text)
    assert "11/20/2026 — €25.30 refunded by L'Atelier de Lina (PayPal) ref. PP-42" in english
    assert "Refunded in all €25.30 Still to be refunded to you €50.00" in english
    assert "— Refund of €25.30 made by L'Atelier de Lina (PayPal)" in english
    wf.record_refund(order.id, actor=SELLER, amount_cents=5000, method="transfer")
    text = page_text(client.get(link).text)
    assert "Remboursé en tout 75,30 €" in text and "Reste à vous rembourser" not in text
    assert "Tout ce qui vous était dû est remboursé." in text


def test_a_lost_parcel_is_due_back_unless_shipped_again(
    app: Flask, client: FlaskClient, wf: Workflow, make_order: Any
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    wf.declare_lost(ship(wf, order, "CARD-01", 1, "6A12345678901"), actor=SELLER)
    link = f"/o/{order_token(order.id)}"
    text = page_text(client.get(link).text)
    assert "Reste à vous rembourser 5,50 €" in text
    assert "Pour les articles du colis perdu, sauf s'ils vous sont expédiés de nouveau." in text
    english = page_text(english_reader(app).get(link, headers=ENGLISH).text)
    assert "Still to be refunded to you €5.50" in english
    assert "For the items of the lost parcel, unless they are shipped to you again." in english
    ship(wf, order, "CARD-01", 1, "6A12345678902")
    text = page_text(client.get(link).text)
    assert "Remboursement" not in text.split("Votre commande")[0]
