"""A parcel that did not arrive, in a real browser: the buyer reports it from the link of the
receipt e-mail, the seller finds it in « Problèmes », answers and asks for the confirmation again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import order_input, ship_all
from uniqu3.extensions import db
from uniqu3.models import OutboxEmail, Shipment
from uniqu3.workflow import Actor, Workflow

from .conftest import SELLER_EMAIL, LiveServer, log_in, new_page

pytestmark = pytest.mark.browser


def _awaiting_parcel(server: LiveServer) -> tuple[str, str]:
    """An order shipped and awaiting receipt; returns its reference and the path of the link
    the buyer got in the receipt e-mail (E5)."""
    with server.app.app_context():
        wf = Workflow(db.session)
        seller = Actor.seller(SELLER_EMAIL)
        order = wf.place_order(order_input(SELLER_EMAIL, "PB-JOURNEY", buyer_name="Nina Garnier"),
                               actor=Actor.api("storefront")).order
        wf.confirm_payment(order.id, actor=seller)
        shipment = ship_all(wf, order, actor=seller, tracking_number="6A55555555555")
        wf.request_receipt(shipment.id, actor=seller)
        e5 = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E5",
                                                          OutboxEmail.shipment_id == shipment.id)).one()
        link = re.search(r"https?://[^/\s]+(/r/[A-Za-z0-9._-]+)", e5.body_text or "")
        assert link is not None, e5.body_text
        return order.reference, link.group(1)


def test_the_buyer_reports_a_problem_and_the_seller_answers_it(
        live_server: LiveServer, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    reference, path = _awaiting_parcel(live_server)

    # The buyer, on a phone, from the e-mail's link.
    buyer = new_page(browser, {"width": 390, "height": 844})
    buyer.goto(live_server.url + path)
    expect(buyer.get_by_role("heading", name="Avez-vous bien reçu votre colis ?")).to_be_visible()
    buyer.get_by_text("Colis non reçu, abîmé ou incomplet ? Signaler un problème").click()
    buyer.get_by_label("Colis non reçu").check()
    buyer.get_by_label(re.compile("Votre message au vendeur")).fill(
        "Le suivi dit « livré » mais rien dans ma boîte <b>aux lettres</b>.")
    buyer.screenshot(path=str(artifacts / "problem-01-buyer-form.png"), full_page=True, caret="initial")
    buyer.get_by_role("button", name="Signaler le problème").click()
    expect(buyer.get_by_role("heading", name="Problème signalé")).to_be_visible()
    expect(buyer.locator(".notice-ok")).to_contain_text("est enregistré")
    buyer.screenshot(path=str(artifacts / "problem-02-buyer-done.png"), full_page=True, caret="initial")
    with live_server.app.app_context():
        status = select(Shipment.status).where(Shipment.tracking_number == "6A55555555555")
        assert db.session.scalars(status).one() == "problem"

    # The seller: « Problèmes » in « Commandes », the report on the order page, the answers.
    page = log_in(browser, live_server, {"width": 1280, "height": 900})
    expect(page).to_have_url(re.compile(r"/commandes$"))
    tab = page.locator("nav.tabs").get_by_role("link", name=re.compile("Problèmes"))
    expect(tab).to_contain_text("1")
    tab.click()
    expect(page).to_have_url(re.compile(r"statut=problemes"))
    rows = page.locator("ol.orders li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Problème signalé : à traiter")
    page.screenshot(path=str(artifacts / "problem-03-seller-tab.png"), full_page=True, caret="initial")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Commande {reference}")).to_be_visible()
    parcel = page.locator("#colis-1")
    expect(parcel).to_contain_text("Problème signalé")
    expect(parcel).to_contain_text("rien dans ma boîte <b>aux lettres</b>")  # as typed, not markup
    parcel.get_by_label(re.compile("Votre message au client")).fill("Je lance une enquête chez La Poste.")
    parcel.get_by_role("button", name="Envoyer au client").click()
    expect(page.locator("#alerts")).to_contain_text("Message envoyé au client")
    page.screenshot(path=str(artifacts / "problem-04-seller-answer.png"), full_page=True, caret="initial")
    page.locator("#colis-1").get_by_role("button", name="Relancer la confirmation").click()
    expect(page.locator("#alerts")).to_contain_text("Confirmation relancée pour le colis n° 1")
    expect(page.locator("#colis-1 .badge")).to_have_text("Confirmation de réception demandée")

    # The buyer sees the seller's words on the order page, and can confirm.
    buyer.goto(live_server.url + path)
    expect(buyer.get_by_role("button", name="J'ai bien reçu ma commande")).to_be_visible()
    buyer.get_by_role("link", name=re.compile("Voir toute ma commande")).click()
    expect(buyer.locator("body")).to_contain_text("Je lance une enquête chez La Poste.")
