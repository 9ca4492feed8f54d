"""Pages in English: for a seller whose language is English, for a buyer whose browser asks for
it; French everywhere else, whatever the browser of a French seller says."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import Clock
from tests.seller.conftest import SellerClient
from uniqu3 import apikeys
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.tokens import order_token, receipt_token
from uniqu3.workflow import Actor, Workflow

from .conftest import french_left, visible_text

Make = Callable[..., Order]
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
# The orders' own data, typed by people: French it may be.
DATA = ("Camille Martin", "12 rue des Lilas", "69003 Lyon", "Lyon", "Sac cabas rouge", "Carte brodée",
        "Virement : IBAN FR76 3000 6000 0112 3456 7890 189", "Français")


def _english_seller(make_seller: Callable[..., Seller]) -> Seller:
    return make_seller("shop@example.com", shop_name="Linen & Co", locale="en")


def _page(client: SellerClient | FlaskClient, url: str, **kwargs: Any) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_orders_page_of_an_english_seller(make_seller: Callable[..., Seller], login: Any,
                                             order_in: Make) -> None:
    shop = _english_seller(make_seller)
    for status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.CANCELLED):
        order_in(status, owner=shop)
    page = _page(login(shop), "/commandes?statut=toutes")
    text = visible_text(page)
    assert '<html lang="en">' in page
    assert re.search(r"<h1>Orders</h1>", page)
    for tab in ("Awaiting payment 1", "To ship 1", "Shipped 0", "Received 0", "Cancelled 1", "All 3"):
        assert tab in text
    for badge in ("Awaiting payment", "Partially shipped", "Cancelled"):
        assert f">{badge}</span>" in page
    assert "€75.30" in text and "75,30" not in text
    # Month first, as in the English e-mails.
    assert re.search(r"\b(1[0-2]|[1-9])/([12]?[0-9]|3[01])/2026 at \d\d:\d\d", text)
    assert "Export these orders (CSV for Excel)" in text
    assert 'placeholder="Order, buyer, SKU, tracking"' in page
    assert french_left(text, *DATA) == []


def test_the_order_page_of_an_english_seller(make_seller: Callable[..., Seller], login: Any,
                                            order_in: Make, wf: Workflow) -> None:
    shop = _english_seller(make_seller)
    order = order_in(OrderStatus.PAID, owner=shop)
    bag = min(order.lines, key=lambda line: line.position)
    wf.ship(order.id, actor=Actor.seller(shop.email), quantities={bag.id: 2}, carrier="hand_delivery")
    page = _page(login(shop), f"/commandes/{order.reference}")
    text = visible_text(page)
    for words in (f"Order {order.reference}", "Partially shipped", "Packing slip", "Ship this parcel",
                  "Buy postage online:", "Items in this parcel", "(1 left)", "Parcels", "Parcel 1",
                  "Handed over in person on", "Ask the buyer to confirm receipt",
                  "Order received: 2 lines, €75.30", "by the marketplace",
                  "handed over in person on 11/20/2026: BAG-RED-01 × 2.", "Payment confirmed on",
                  "Correct the tracking or date", "Handover date"):
        assert words in text, words
    assert "Remise en main propre" not in text  # stored in French with the parcel, shown in English
    assert french_left(text, *DATA) == []


def test_a_refused_shipment_is_explained_in_english(make_seller: Callable[..., Seller], login: Any,
                                                   order_in: Make) -> None:
    shop = _english_seller(make_seller)
    order = order_in(OrderStatus.PAID, owner=shop)
    bag, card = sorted(order.lines, key=lambda line: line.position)
    sc = login(shop)
    response = sc.post(f"/commandes/{order.reference}/expedition", {
        f"qty_{bag.id}": "3", f"qty_{card.id}": "1", "carrier": "colissimo", "tracking_number": "12",
    }, htmx=True)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="qty_{bag.id}-err">2 items are left to ship on this line.</p>' in page
    assert "The parcel was not recorded: correct the field marked." in page
    assert french_left(visible_text(page), *DATA) == []

    response = sc.post(f"/commandes/{order.reference}/expedition", {
        f"qty_{bag.id}": "2", "carrier": "colissimo", "tracking_number": "12",
    }, htmx=True)
    assert response.status_code == 422
    assert ("The tracking number “12” does not look like a Colissimo number (13 characters, "
            "e.g. 6A12345678901).") in response.get_data(as_text=True)
    preview = _page(sc, "/commandes/lien-suivi?carrier=colissimo&tracking_number=12")
    assert "does not look like a Colissimo number" in preview


def test_a_refused_transition_is_explained_in_english(make_seller: Callable[..., Seller], login: Any,
                                                     order_in: Make) -> None:
    shop = _english_seller(make_seller)
    order = order_in(OrderStatus.CANCELLED, owner=shop)
    response = login(shop).post(f"/commandes/{order.reference}/paiement", {}, htmx=True)
    assert response.status_code == 422
    assert ("This order is cancelled: its payment can no longer be confirmed."
            in response.get_data(as_text=True))


def test_settings_and_their_refusals_in_english(make_seller: Callable[..., Seller], login: Any) -> None:
    shop = _english_seller(make_seller)
    sc = login(shop)
    text = visible_text(_page(sc, "/parametres"))
    assert "Payment instructions shown to the buyer" in text and "Change password" in text
    assert french_left(text, *DATA) == []
    response = sc.post("/parametres/mot-de-passe", {
        "current_password": "wrong", "new_password": "short", "new_password_confirm": "short"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The password must be at least 10 characters long." in page
    assert "Incorrect current password." in page


def test_a_french_seller_stays_in_french_whatever_the_browser(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    text = visible_text(_page(sc.client, f"/commandes/{order.reference}", headers=ENGLISH))
    assert f"Commande {order.reference}" in text and "Expédier ce colis" in text
    assert "Payée" in text and "75,30 €" in text and "Affranchir en ligne :" in text
    assert len(french_left(text, *DATA)) > 20  # the check the English pages pass does see French
    text = visible_text(_page(sc.client, "/commandes", headers=ENGLISH))
    assert "À encaisser" in text and "Orders" not in text


def test_the_buyer_pages_follow_the_browser(client: FlaskClient, make_order: Make, wf: Workflow) -> None:
    order = make_order()
    page = _page(client, f"/o/{order_token(order.id)}", headers=ENGLISH)
    text = visible_text(page)
    assert '<html lang="en">' in page
    for words in (f"Order {order.reference}", "Awaiting payment", "How to pay", "Amount to pay: €75.30.",
                  "Order total €75.30", "Deliver to", "Order recorded", "A question about your order?"):
        assert words in text, words
    assert french_left(text, *DATA, "L'Atelier de Lina") == []

    text = visible_text(_page(client, f"/o/{order_token(order.id)}"))  # no Accept-Language
    assert f"Commande {order.reference}" in text and "En attente de paiement" in text
    assert "Montant à régler : 75,30 €." in text

    seller = Actor.seller("atelier@example.fr")
    wf.confirm_payment(order.id, actor=seller)
    shipment = wf.ship(order.id, actor=seller, quantities={line.id: line.quantity for line in order.lines},
                       carrier="colissimo", tracking_number="6A12345678901").shipment
    wf.request_receipt(shipment.id, actor=seller)
    text = visible_text(_page(client, f"/r/{receipt_token(shipment.id)}", headers=ENGLISH))
    assert "Have you received your parcel?" in text and "I have received my order" in text
    assert french_left(text, *DATA, "L'Atelier de Lina") == []
    text = visible_text(_page(client, f"/r/{receipt_token(shipment.id)}"))
    assert "Avez-vous bien reçu votre colis ?" in text and "J'ai bien reçu ma commande" in text


def test_the_login_page_follows_the_browser(client: FlaskClient) -> None:
    assert "Seller login" in visible_text(_page(client, "/connexion", headers=ENGLISH))
    assert "Connexion vendeur" in visible_text(_page(client, "/connexion"))


def test_the_api_labels_follow_accept_language(client: FlaskClient, make_order: Make, clock: Clock) -> None:
    order = make_order()
    _row, key = apikeys.create_key(db.session, name="storefront", now=clock())
    auth = {"Authorization": f"Bearer {key}"}
    english = client.get(f"/api/v1/orders/{order.reference}", headers={**auth, **ENGLISH}).get_json()
    french = client.get(f"/api/v1/orders/{order.reference}", headers=auth).get_json()
    assert (english["status"], english["status_label"]) == ("awaiting_payment", "Awaiting payment")
    assert (french["status"], french["status_label"]) == ("awaiting_payment", "En attente de paiement")
