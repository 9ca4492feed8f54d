"""What a new seller reads on the order page, the ship form and the slip, without guessing."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.conftest import ADDRESS
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.workflow import Address

from .conftest import SellerClient
from .test_order_page import page, text

OrderIn = Callable[..., Order]


def test_the_ship_form_says_what_0_means(sc: SellerClient, order_in: OrderIn) -> None:
    html = page(sc, order_in(OrderStatus.PAID))
    assert 'aria-describedby="ship-qty-hint"' in html
    assert "Quantité à mettre dans ce colis ; 0 : pas dans ce colis." in text(html)


def test_all_shipped_the_next_step_carries_each_parcels_primary_button(sc: SellerClient,
                                                                        order_in: OrderIn) -> None:
    order = order_in(OrderStatus.SHIPPED)
    html = page(sc, order)
    start = html.index('<section id="next"')
    next_step = html[start:html.index("</section>", start)]
    for number in (1, 2):
        assert f'<p id="ask-{number}"><b>Colis n° {number}</b>' in next_step
        assert (f'<button class="primary" aria-describedby="ask-{number}">Activer la confirmation de '
                "réception</button>") in next_step
    parcels = html[html.index('<section id="shipments"'):]
    assert "Activer la confirmation" not in parcels.split("</section>")[0]
    assert parcels.count('<a href="#next">Confirmation de réception à activer') == 2

    # From the card: the card is the part swapped, the parcel and the status follow out of band.
    answer = sc.post(f"/commandes/{order.reference}/colis/1/reception", {"from": "next"}, htmx=True)
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="next"')
    assert 'id="ask-1"' not in body and 'id="ask-2"' in body
    assert '<li id="colis-1" class="parcel" data-hx-swap-oob="true">' in body
    # Without JavaScript: back to the card.
    plain = sc.post(f"/commandes/{order.reference}/colis/2/reception", {"from": "next"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#next")
    words = text(page(sc, order))
    assert "la confirmation de réception est demandée pour chaque colis" in words


def test_partly_shipped_the_button_stays_in_its_parcel(sc: SellerClient, order_in: OrderIn) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    html = page(sc, order)
    assert 'id="ask-1"' not in html
    parcel = html[html.index('<li id="colis-1"'):]
    assert "Activer la confirmation de réception</button>" in parcel.split("</li>")[0]


def test_identical_addresses_are_shown_once_with_the_country_in_words(
        sc: SellerClient, make_order: Callable[..., Order]) -> None:
    same = make_order(billing_address=ADDRESS, shipping_address=ADDRESS)
    words = text(page(sc, same))
    assert ("Adresse de livraison Camille Martin 12 rue des Lilas 69003 Lyon France "
            "Adresse de facturation Identique à l'adresse de livraison.") in words
    assert words.count("12 rue des Lilas") == 1
    abroad = Address("Adam Lefebvre", "Rue Haute 112", "", "1000", "Bruxelles", "BE")
    other = make_order(billing_address=abroad, shipping_address=ADDRESS)
    words = text(page(sc, other))
    assert "Adresse de facturation Adam Lefebvre Rue Haute 112 1000 Bruxelles Belgique" in words
    assert " FR " not in words and " BE " not in words


def test_the_history_tells_what_happened_not_the_success_message(sc: SellerClient,
                                                                  order_in: OrderIn) -> None:
    words = text(page(sc, order_in(OrderStatus.PAID)))
    history = words[words.index("Historique"):]
    assert "Commande reçue : 2 lignes, 75,30\xa0€ " in history  # no « €. »
    assert "Paiement confirmé" in history
    assert "informé par e-mail" not in history and "€." not in history
    cancelled = text(page(sc, order_in(OrderStatus.CANCELLED)))
    assert "informé par e-mail" not in cancelled[cancelled.index("Historique"):]


def test_the_slip_names_the_sender_and_the_country(sc: SellerClient, seller: Seller,
                                                   order_in: OrderIn) -> None:
    order = order_in(OrderStatus.PAID)
    words = text(sc.get(f"/commandes/{order.reference}/preparation").get_data(as_text=True))
    assert "Livrer à Camille Martin 12 rue des Lilas 69003 Lyon France" in words
    assert f"Expéditeur {seller.shop_name} Ajoutez votre adresse de retour" in words
    seller.return_address = "Atelier\n4 impasse des Tisserands\n69004 Lyon"
    db.session.commit()
    sc.stay_active()
    html = sc.get(f"/commandes/{order.reference}/preparation").get_data(as_text=True)
    assert f"Expéditeur {seller.shop_name} Atelier 4 impasse des Tisserands 69004 Lyon" in text(html)
    assert "Ajoutez votre adresse de retour" not in html
    # « Imprimer » on its own line, not in the back link's paragraph.
    crumbs = html[html.index('<p class="crumbs'):]
    assert "data-print" not in crumbs.split("</p>")[0]
    assert '<p class="print-row no-print"><button type="button" class="primary" data-print hidden>' in html


def test_before_login_a_seller_chooses_english_for_the_session(client: FlaskClient) -> None:
    french = client.get("/connexion", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "Connexion vendeur" in french
    assert '<a href="/connexion?lang=en" lang="en" hreflang="en">English</a>' in french
    english = client.get("/connexion?lang=en", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "Seller login" in english and '<span lang="en" aria-current="true">English</span>' in english
    # The next pages keep it, whatever the browser asks for, until the visitor switches back.
    assert "Forgot your password" in client.get("/mot-de-passe-oublie",
                                                headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "Connexion vendeur" in client.get("/connexion?lang=fr").get_data(as_text=True)
    again = client.get("/connexion", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Connexion vendeur" in again


def test_the_language_switch_keeps_where_the_login_leads(client: FlaskClient) -> None:
    html = client.get("/connexion?next=/commandes/UQ-2026-000001",
                      headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'href="/connexion?next=/commandes/UQ-2026-000001&amp;lang=en"' in html
