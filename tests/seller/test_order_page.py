"""The order page: what the seller sees at each step, and only for their own orders."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ADDRESS, Clock
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.workflow import Actor, Address, Workflow

from .conftest import SellerClient

Make = Callable[..., Order]


def page(sc: SellerClient, order: Order) -> str:
    response = sc.get(f"/commandes/{order.reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def text(html: str) -> str:
    """The page as a person reads it: tags out, spaces collapsed."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def test_a_new_order_shows_lines_buyer_addresses_and_the_payment_step(sc: SellerClient,
                                                                      make_order: Make) -> None:
    billing = Address("Camille Martin", "3 place Bellecour", "Bât. B", "69002", "Lyon", "FR")
    order = make_order(billing_address=billing, shipping_address=ADDRESS)
    html = page(sc, order)
    words = text(html)
    assert f"Commande {order.reference}" in words
    assert "En attente de paiement" in words
    assert "BAG-RED-01 Sac cabas rouge 34,90\xa0€ 2 0 2" in words  # ordered, shipped, left
    assert "CARD-01 Carte brodée 5,50\xa0€ 1 0 1" in words
    assert "Total 75,30\xa0€" in words
    assert "Camille Martin" in words and 'href="mailto:camille@example.fr"' in html
    assert "Adresse de livraison Camille Martin 12 rue des Lilas 69003 Lyon France" in words
    assert "Adresse de facturation Camille Martin 3 place Bellecour Bât. B 69002 Lyon France" in words
    assert "En attente du paiement du client : 75,30\xa0€." in words
    assert "Confirmer le paiement" in words and "Annuler la commande" in words
    assert "Expédier ce colis" not in words
    assert "20/11/2026 à 10:30 · par la marketplace Commande reçue : 2 lignes, 75,30\xa0€ " in words


def test_a_paid_order_shows_the_ship_form_with_what_is_left(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    html = page(sc, order)
    words = text(html)
    assert "Partiellement expédiée" in words
    bag, card = sorted(order.lines, key=lambda line: line.position)
    # The bags are all shipped: only the card is offered, with what is left as default.
    assert f'name="qty_{bag.id}"' not in html
    assert re.search(rf'name="qty_{card.id}" type="number" min="0" max="1" value="1"', html)
    assert 'name="request_key" value="' in html
    assert '<option value="colissimo" selected>Colissimo (La Poste)</option>' in html
    assert '<option value="other">Autre transporteur</option>' in html
    assert 'name="shipped_on" type="date" max="2026-11-20" value="2026-11-20"' in html
    # « Affranchir en ligne » for the carriers that sell postage online.
    assert "Affranchir en ligne" in words
    assert 'href="https://www.laposte.fr/colissimo-en-ligne"' in html
    assert "Annuler la commande" not in words  # something has shipped


def test_shipments_show_carrier_tracking_link_date_and_receipt_state(
    sc: SellerClient, order_in: Make, wf: Workflow, clock: Clock
) -> None:
    order = order_in(OrderStatus.SHIPPED)
    first, second = order.shipments
    html = page(sc, order)
    words = text(html)
    assert ('<a href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A00000000001" target="_blank" '
            'rel="noopener noreferrer">6A00000000001</a>') in html
    assert "Colis n° 1 Expédié Colissimo (La Poste) · expédié le 20/11/2026 · suivi 6A00000000001" in words
    assert "BAG-RED-01 × 2" in words and "CARD-01 × 1" in words
    assert words.count("Activer la confirmation de réception") == 2  # in « Prochaine étape »
    assert "Le client aura 7 jours pour confirmer la réception" in words

    wf.request_receipt(first.id, actor=Actor.seller("atelier@example.fr"))
    clock.advance(hours=3)
    wf.confirm_receipt(first.id, ip="203.0.113.7", user_agent="Firefox")
    wf.request_receipt(second.id, actor=Actor.seller("atelier@example.fr"))
    sc.stay_active()
    words = text(page(sc, order))
    assert "Confirmé par le client le 20/11/2026 à 13:30" in words
    assert ("Demandée le 20/11/2026 à 13:30. Sans réponse du client, reçu automatiquement le "
            "27/11/2026 à 13:30.") in words
    clock.advance(days=8)
    wf.auto_receive_due()
    sc.stay_active()
    words = text(page(sc, order))
    assert "Reçu automatiquement le 28/11/2026 à 13:30" in words
    assert "Reçue" in words and "Commande terminée" in words


def test_the_history_tells_each_event_in_french(sc: SellerClient, order_in: Make, wf: Workflow,
                                                clock: Clock, make_order: Make) -> None:
    order = order_in(OrderStatus.SHIPPED)
    seller = Actor.seller("atelier@example.fr")
    first, second = order.shipments
    wf.request_receipt(first.id, actor=seller)
    wf.confirm_receipt(first.id, ip="203.0.113.7")
    wf.request_receipt(second.id, actor=seller)
    clock.advance(days=7, minutes=1)
    wf.auto_receive_due()
    sc.stay_active()
    words = text(page(sc, order))
    # Each entry: when and by whom, then what happened.
    for sentence in (
        "20/11/2026 à 10:30 · par la marketplace Commande reçue : 2 lignes, 75,30\xa0€ ",
        "20/11/2026 à 10:30 · par vous Paiement confirmé ",
        "20/11/2026 à 10:30 · par vous Colis n° 1 expédié le 20/11/2026 avec Colissimo (La Poste), "
        "suivi 6A00000000001 : BAG-RED-01 × 2.",
        "Colis n° 2 expédié le 20/11/2026 avec Mondial Relay, suivi 00000001 : CARD-01 × 1.",
        "20/11/2026 à 10:30 · par vous Confirmation de réception demandée au client pour le colis n° 1 ; "
        "sans réponse, il sera marqué reçu automatiquement le 27/11/2026 à 10:30.",
        "20/11/2026 à 10:30 · par le client Réception du colis n° 1 confirmée, depuis l'adresse IP "
        "203.0.113.7.",
        "27/11/2026 à 10:31 · automatiquement Colis n° 2 marqué reçu : le client n'a pas répondu avant "
        "l'échéance.",
    ):
        assert sentence in words
    assert ". par " not in words
    cancelled = make_order()
    wf.cancel(cancelled.id, actor=seller, reason="Rupture de stock")
    words = text(page(sc, cancelled))
    assert "· par vous Commande annulée Rupture de stock" in words
    assert "Motif : Rupture de stock" in words


def test_the_payment_note_and_date_are_shown(sc: SellerClient, make_order: Make, wf: Workflow) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"), note="PayPal 5TY12")
    words = text(page(sc, order))
    assert "Paiement confirmé le 20/11/2026 à 10:30." in words
    assert "Note : PayPal 5TY12" in words


def test_buyer_text_is_escaped_everywhere_on_the_page(sc: SellerClient, make_order: Make,
                                                      wf: Workflow) -> None:
    evil = "<script>alert(1)</script>"
    address = Address(evil, evil, evil, "75001", evil, "FR")
    order = make_order(buyer_name=evil, billing_address=address, shipping_address=address)
    wf.cancel(order.id, actor=Actor.seller("atelier@example.fr"), reason=evil)
    for url in (f"/commandes/{order.reference}", f"/commandes/{order.reference}/preparation"):
        html = sc.get(url).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_someone_elses_order_is_not_found(sc: SellerClient, make_order: Make, order_in: Make,
                                         make_seller: Callable[..., Seller]) -> None:
    other = make_seller("autre@example.fr")
    theirs = order_in(OrderStatus.SHIPPED, owner=other)
    for url in (f"/commandes/{theirs.reference}", f"/commandes/{theirs.reference}/preparation",
                f"/commandes/{theirs.reference}/expedition", f"/commandes/{theirs.reference}/remboursement",
                "/commandes/UQ-2026-999999"):
        response = sc.get(url, htmx=url.endswith(("expedition", "remboursement")))
        assert response.status_code == 404, url
    body = sc.get(f"/commandes/{theirs.reference}").get_data(as_text=True)
    assert "Page introuvable" in body
    assert theirs.buyer_name not in body


def test_the_preparation_slip_lists_what_is_left_to_pack(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    response = sc.get(f"/commandes/{order.reference}/preparation")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    words = text(html)
    assert "Bon de préparation" in words and order.reference in words
    assert "Livrer à Camille Martin 12 rue des Lilas 69003 Lyon France" in words
    assert "CARD-01 Carte brodée 1" in words
    assert "BAG-RED-01" not in words  # already shipped
    assert re.search(r'src="/static/js/print\.[0-9a-f]{12}\.js"', html) and "data-print hidden" in html


def test_the_slip_warns_before_payment(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    words = text(sc.get(f"/commandes/{order.reference}/preparation").get_data(as_text=True))
    assert "le paiement n'est pas encore confirmé" in words
    assert "BAG-RED-01 Sac cabas rouge 2" in words


def test_the_stylesheet_prints_the_slip_without_the_menus(app: Any) -> None:
    css = (app.static_folder + "/css/app.css")
    with open(css, encoding="utf-8") as handle:
        stylesheet = handle.read()
    assert "@media print" in stylesheet
    assert re.search(r"@media print\{[^@]*header\.site[^}]*display:none", stylesheet)


@pytest.mark.parametrize(("carrier", "number", "url", "expected"), [
    ("colissimo", "6a 1234 5678 901", "", "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"),
    ("mondial_relay", "12345678", "", "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition=12345678"),
    ("other", "ABC-123", "https://suivi.example/t?n={number}", "https://suivi.example/t?n=ABC-123"),
])
def test_the_tracking_link_preview_shows_the_buyers_link(
    sc: SellerClient, carrier: str, number: str, url: str, expected: str
) -> None:
    html = sc.get("/commandes/lien-suivi", htmx=True, query_string={
        "carrier": carrier, "tracking_number": number, "carrier_url": url}).get_data(as_text=True)
    assert f'<a href="{expected.replace("&", "&amp;")}"' in html


def test_the_tracking_link_preview_explains_what_is_wrong(sc: SellerClient) -> None:
    def preview(**args: str) -> str:
        return text(sc.get("/commandes/lien-suivi", htmx=True, query_string=args).get_data(as_text=True))

    assert "ne ressemble pas à un numéro Colissimo" in preview(carrier="colissimo", tracking_number="12")
    assert "pas de numéro ni de lien de suivi" in preview(carrier="hand_delivery", tracking_number="")
    assert "le lien envoyé au client s'affichera ici" in preview(carrier="colissimo", tracking_number="")
    assert "Choisissez un transporteur de la liste." in preview(carrier="pigeon", tracking_number="1")
    assert "le client recevra le numéro ABC-123" in preview(carrier="other", tracking_number="abc-123")
    javascript = preview(carrier="other", tracking_number="ABC-123", carrier_url="javascript:alert(1)")
    assert "javascript:" not in javascript


def test_the_order_page_asks_no_inline_script_or_style(sc: SellerClient, order_in: Make) -> None:
    html = page(sc, order_in(OrderStatus.PAID))
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)
    assert re.search(r'<body data-hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'>', html)


def test_an_order_with_many_lines_and_parcels_still_renders(sc: SellerClient, seller: Seller,
                                                            wf: Workflow) -> None:
    from tests.conftest import order_input
    from uniqu3.workflow import LineInput

    lines = tuple(LineInput(f"SKU-{n:02d}", f"Article {n}", 1, 100 * n) for n in range(1, 13))
    order = wf.place_order(order_input(seller.email, "MKT-BIG", lines=lines), actor=Actor.api()).order
    wf.confirm_payment(order.id, actor=Actor.seller(seller.email))
    for n, line in enumerate(sorted(order.lines, key=lambda item: item.position)[:6]):
        wf.ship(order.id, actor=Actor.seller(seller.email), quantities={line.id: 1}, carrier="dpd",
                tracking_number=f"0987654321{n:04d}")
    db.session.expire_all()
    words = text(page(sc, order))
    assert "Colis n° 6" in words and "SKU-12" in words
