"""« Preuve de réception »: what the order page and the printable page show for each way a
parcel is received, and to whom."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.mail import delivery
from uniqu3.models import Order, OrderStatus, OutboxEmail, Seller
from uniqu3.workflow import Actor, Workflow

from .conftest import SellerClient

Make = Callable[..., Order]
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SELLER = Actor.seller("atelier@example.fr")


def text(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def proof_url(order: Order, number: int) -> str:
    return f"/commandes/{order.reference}/colis/{number}/preuve"


@pytest.fixture
def received(order_in: Make, wf: Workflow, clock: Clock) -> Order:
    """Parcel 1 confirmed by the buyer, parcel 2 received automatically; e-mails delivered."""
    order = order_in(OrderStatus.SHIPPED)
    first, second = order.shipments
    wf.request_receipt(first.id, actor=SELLER)
    wf.request_receipt(second.id, actor=SELLER)
    delivery.deliver()  # the dev mailbox: each e-mail gets its Message-ID and its time
    clock.advance(days=2, hours=3, seconds=27)
    wf.confirm_receipt(first.id, ip="203.0.113.7", user_agent=UA)
    clock.advance(days=5)
    assert wf.auto_receive_due().received == [second.id]
    return order


def e5_of(shipment_id: int) -> OutboxEmail:
    return db.session.query(OutboxEmail).filter_by(kind="E5", shipment_id=shipment_id).one()


def test_the_proof_of_a_parcel_the_buyer_confirmed(sc: SellerClient, received: Order) -> None:
    sc.stay_active()
    response = sc.get(proof_url(received, 1))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    words = text(html)
    e5 = e5_of(received.shipments[0].id)
    assert e5.message_id and e5.sent_at
    assert "Preuve de réception" in words
    assert "Réception confirmée par le client le 22/11/2026 à 13:30:27 (heure de Paris)." in words
    # Parties, order, parcel and its items.
    assert "Vendeur L'Atelier de Lina atelier@example.fr" in words
    assert "Client Camille Martin camille@example.fr" in words
    assert "Camille Martin 12 rue des Lilas 69003 Lyon France" in words
    assert f"Commande {received.reference} · passée le 20/11/2026 à 10:30 · 75,30\xa0€" in words
    assert "Transporteur Colissimo (La Poste)" in words
    assert "Numéro de suivi 6A00000000001" in words
    assert "https://www.laposte.fr/outils/suivre-vos-envois?code=6A00000000001" in words
    assert "Expédié le 20/11/2026" in words
    assert "BAG-RED-01 Sac cabas rouge 2" in words and "CARD-01" not in words
    # The request: when, to whom, with which Message-ID; the deadline; no reminder.
    assert "Demandée le 20/11/2026 à 10:30:00 (heure de Paris) UTC : 2026-11-20T09:30:00Z" in words
    assert "E-mail de demande à camille@example.fr" in words
    assert "remis au serveur de messagerie le" in words
    assert f"Message-ID : {e5.message_id}".replace("<", "&lt;").replace(">", "&gt;") in words
    assert "Échéance 27/11/2026 à 10:30:00 (heure de Paris) UTC : 2026-11-27T09:30:00Z" in words
    assert "Relance aucune relance envoyée" in words
    # The outcome and its evidence.
    assert ("Confirmée le 22/11/2026 à 13:30:27 (heure de Paris) UTC : 2026-11-22T12:30:27Z"
            in words)
    assert "Adresse IP 203.0.113.7" in words
    assert f"Navigateur {UA}" in words
    assert "Réception du colis n° 1 confirmée, depuis l'adresse IP 203.0.113.7." in words
    assert "Colis n° 2" not in words  # the other parcel's history stays on the order page
    # A document: no htmx, printable without JavaScript.
    assert "vendor/htmx" not in html and "htmx-config" not in html
    assert 'data-print hidden' in html


def test_the_proof_of_a_parcel_received_automatically(sc: SellerClient, received: Order) -> None:
    sc.stay_active()
    words = text(sc.get(proof_url(received, 2)).get_data(as_text=True))
    assert ("Reçu automatiquement le 27/11/2026 à 13:30:27 (heure de Paris) : le client n'a pas répondu "
            "avant l'échéance et n'a signalé aucun problème.") in words
    assert "Transporteur Mondial Relay" in words and "CARD-01 Carte brodée 1" in words
    assert "Échéance passée le 27/11/2026 à 10:30:00 (heure de Paris)" in words
    assert "Marqué reçu le 27/11/2026 à 13:30:27 (heure de Paris) UTC : 2026-11-27T12:30:27Z" in words
    assert "Réponse du client aucune avant l'échéance" in words
    assert "Problème signalé aucun" in words
    assert "Adresse IP" not in words
    assert "Colis n° 2 marqué reçu : le client n'a pas répondu avant l'échéance." in words


def test_a_parcel_not_received_is_said_not_to_be_a_proof(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    words = text(sc.get(proof_url(order, 1)).get_data(as_text=True))
    assert ("Ce colis n'est pas reçu (statut : Expédié) : cette page n'est pas une preuve de "
            "réception.") in words
    assert "La confirmation de réception n'a pas été demandée pour ce colis." in words
    assert "Issue" not in words


def test_the_order_page_shows_how_each_parcel_was_received(sc: SellerClient, received: Order) -> None:
    sc.stay_active()
    html = sc.get(f"/commandes/{received.reference}").get_data(as_text=True)
    words = text(html)
    sent = e5_of(received.shipments[1].id).sent_at
    assert sent is not None
    assert ("Confirmé par le client le 22/11/2026 à 13:30:27 (heure de Paris) "
            f"Adresse IP 203.0.113.7 Navigateur {UA}") in words
    assert ("Reçu automatiquement le 27/11/2026 à 13:30 (sans réponse du client dans le délai) "
            "Échéance 27/11/2026 à 10:30 Demande e-mail envoyé le") in words
    assert "à camille@example.fr Relance aucune relance envoyée Problème signalé aucun" in words
    for number in (1, 2):
        assert f'href="{proof_url(received, number)}"' in html
    assert words.count("Preuve de réception (imprimable)") == 2


def test_the_proof_in_english(login: Callable[..., SellerClient], received: Order, seller: Seller) -> None:
    seller.locale = "en"
    db.session.commit()
    sc = login(seller)
    first = text(sc.get(proof_url(received, 1)).get_data(as_text=True))
    assert "Proof of delivery" in first
    assert "Receipt confirmed by the customer on 11/22/2026 at 13:30:27 (Paris time)." in first
    assert "Request e-mail to camille@example.fr handed to the mail server on" in first
    assert "Deadline 11/27/2026 at 10:30:00 (Paris time) UTC: 2026-11-27T09:30:00Z" in first
    assert "Reminder no reminder sent" in first
    assert "IP address 203.0.113.7" in first and f"Browser {UA}" in first
    assert "Receipt of parcel no. 1 confirmed, from IP address 203.0.113.7." in first
    second = text(sc.get(proof_url(received, 2)).get_data(as_text=True))
    assert ("Received automatically on 11/27/2026 at 13:30:27 (Paris time): the customer did not answer "
            "before the deadline and reported no problem.") in second
    assert "Deadline passed on 11/27/2026 at 10:30:00 (Paris time)" in second
    assert "Customer's answer none before the deadline" in second
    assert "Problem reported none" in second
    order_page = text(sc.get(f"/commandes/{received.reference}").get_data(as_text=True))
    assert ("Confirmed by the customer on 11/22/2026 at 13:30:27 (Paris time) IP address "
            "203.0.113.7") in order_page
    assert order_page.count("Proof of delivery (printable)") == 2


def test_only_the_orders_seller_sees_its_proof(login: Callable[..., SellerClient],
                                               make_seller: Callable[..., Seller], received: Order,
                                               client: FlaskClient) -> None:
    other = login(make_seller("autre@example.fr"))
    assert other.get(proof_url(received, 1)).status_code == 404
    mine = login(received.seller)
    assert mine.get(proof_url(received, 3)).status_code == 404  # no such parcel
    assert mine.get("/commandes/UQ-2026-999999/colis/1/preuve").status_code == 404
    logged_out = client.get(proof_url(received, 1))
    assert logged_out.status_code == 302 and "/connexion" in logged_out.headers["Location"]


def test_the_demo_has_proofs_of_both_kinds(ctx: object, login: Callable[..., SellerClient],
                                           clock: Clock) -> None:
    from sqlalchemy import select

    from uniqu3.demo import DEMO_EMAIL, load_demo
    from uniqu3.models import ReceivedBy, Shipment

    load_demo(db.session, password="demo-password-1", now=clock(), auto_receipt_days=7)
    sc = login(db.session.scalar(select(Seller).where(Seller.email == DEMO_EMAIL)))
    received = db.session.execute(
        select(Order.reference, Shipment.number, Shipment.received_by)
        .join(Shipment, Shipment.order_id == Order.id).where(Shipment.received_by.is_not(None))
    ).all()
    kinds = {by for _, _, by in received}
    assert kinds == {ReceivedBy.BUYER, ReceivedBy.AUTO}
    for reference, number, by in received:
        words = text(sc.get(f"/commandes/{reference}/colis/{number}/preuve").get_data(as_text=True))
        assert "Message-ID" in words and "E-mail de demande à" in words
        if by == ReceivedBy.BUYER:
            assert "Réception confirmée par le client le" in words
            assert re.search(r"Adresse IP [0-9a-f.:]+ Navigateur Mozilla/5\.0 \(", words)
        else:
            assert "Reçu automatiquement le" in words and "Problème signalé aucun" in words


def test_the_proof_tells_the_reminders_and_a_problem_the_seller_answered(
    sc: SellerClient, order_in: Make, wf: Workflow, clock: Clock
) -> None:
    """Requested, reminded, reported « colis non reçu », relaunched, reminded again, then
    received automatically: every step is on the proof, and the verdict does not hide the report."""
    order = order_in(OrderStatus.SHIPPED)
    parcel = order.shipments[0]
    wf.request_receipt(parcel.id, actor=SELLER)
    clock.advance(days=5, minutes=1)
    assert wf.remind_due() == [parcel.id]
    clock.advance(hours=2)
    wf.report_problem(parcel.id, reason="not_received", message="Rien dans ma boîte <b>aux lettres</b>.",
                      ip="192.0.2.44", user_agent="Mozilla/5.0 (Macintosh) Safari/605.1")
    clock.advance(days=1)
    wf.relaunch_receipt(parcel.id, actor=SELLER)
    clock.advance(days=5, minutes=1)
    assert wf.remind_due() == [parcel.id]
    clock.advance(days=2)
    assert wf.auto_receive_due().received == [parcel.id]
    sc.stay_active()

    html = sc.get(proof_url(order, 1)).get_data(as_text=True)
    words = text(html)
    assert ("Reçu automatiquement le 03/12/2026 à 12:32:00 (heure de Paris) : le client avait signalé un "
            "problème ; après la relance de la demande, il n'a ni confirmé ni signalé de nouveau problème "
            "avant l'échéance.") in words
    assert "n'a signalé aucun problème" not in words
    # Two requests and two reminders, each with its address and Message-ID.
    assert "E-mail de demande n° 1 à camille@example.fr" in words
    assert "E-mail de demande n° 2 à camille@example.fr" in words
    assert "Relance n° 1 à camille@example.fr" in words and "Relance n° 2 à camille@example.fr" in words
    assert words.count("Message-ID :") == 4
    # The report, as evidence, escaped.
    assert "Problèmes signalés par le client" in words
    assert "Signalement n° 1 25/11/2026 à 12:31:00 (heure de Paris)" in words
    assert "Motif : Colis non reçu" in words
    assert "Rien dans ma boîte &lt;b&gt;aux lettres&lt;/b&gt;." in html
    assert "Adresse IP 192.0.2.44 Navigateur Mozilla/5.0 (Macintosh) Safari/605.1" in words
    assert ("Clos le 26/11/2026 à 12:31:00 (heure de Paris) : le vendeur a relancé la demande de "
            "confirmation.") in words
    assert "Problème signalé avant la dernière demande, close par sa relance (voir ci-dessus)" in words
    assert "Échéance passée le 03/12/2026 à 12:31:00 (heure de Paris)" in words


def test_a_buyer_who_confirms_after_a_problem_closes_it_on_the_proof(
    sc: SellerClient, order_in: Make, wf: Workflow, clock: Clock
) -> None:
    order = order_in(OrderStatus.SHIPPED)
    parcel = order.shipments[1]
    wf.request_receipt(parcel.id, actor=SELLER)
    clock.advance(days=1)
    wf.report_problem(parcel.id, reason="damaged", message="Coin écrasé")
    clock.advance(hours=4)
    wf.confirm_receipt(parcel.id, ip="203.0.113.9", user_agent="Firefox")
    sc.stay_active()
    words = text(sc.get(proof_url(order, 2)).get_data(as_text=True))
    assert "Réception confirmée par le client le 21/11/2026 à 14:30:00 (heure de Paris)." in words
    assert "Motif : Article endommagé Coin écrasé" in words
    assert "le client a ensuite confirmé la réception." in words
    assert "Relance aucune relance envoyée" in words
