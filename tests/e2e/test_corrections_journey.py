"""Corrections in a real browser: a mistyped tracking number fixed from the parcel (htmx), the
form again after that answer, and a payment confirmed by mistake undone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import order_input, ship_all
from uniqu3.extensions import db
from uniqu3.models import Order, OutboxEmail, Shipment
from uniqu3.workflow import Actor, Workflow

from .conftest import SELLER_EMAIL, LiveServer, log_in

pytestmark = pytest.mark.browser


def _orders(server: LiveServer) -> tuple[str, str]:
    """A shipped order with a mistyped tracking number, and a paid one; their references."""
    with server.app.app_context():
        wf = Workflow(db.session)
        seller = Actor.seller(SELLER_EMAIL)
        shipped = wf.place_order(order_input(SELLER_EMAIL, "FIX-1"), actor=Actor.api("storefront")).order
        wf.confirm_payment(shipped.id, actor=seller)
        ship_all(wf, shipped, actor=seller, tracking_number="6A11111111111")
        paid = wf.place_order(order_input(SELLER_EMAIL, "FIX-2"), actor=Actor.api("storefront")).order
        wf.confirm_payment(paid.id, actor=seller)
        return shipped.reference, paid.reference


def test_a_seller_fixes_a_tracking_number_and_undoes_a_payment(
        live_server: LiveServer, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    shipped, paid = _orders(live_server)
    page = log_in(browser, live_server, {"width": 390, "height": 844})
    expect(page).to_have_url(re.compile(r"/commandes$"))

    # The parcel's tracking number, mistyped: corrected from the parcel itself.
    page.goto(f"{live_server.url}/commandes/{shipped}")
    parcel = page.locator("#colis-1")
    parcel.get_by_text("Corriger le suivi ou la date").click()
    parcel.get_by_label("Numéro de suivi").fill("6A12")
    parcel.get_by_role("button", name="Enregistrer la correction").click()
    expect(parcel.locator(".error").first).to_contain_text("ne ressemble pas")  # refused, input kept
    expect(parcel.get_by_label("Numéro de suivi")).to_have_value("6A12")
    parcel.get_by_label("Numéro de suivi").fill("6A98765432109")
    parcel.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.locator("#alerts")).to_contain_text("Colis n° 1 modifié")
    expect(parcel.get_by_role("link", name="6A98765432109")).to_be_visible()
    expect(page.locator("#history-list")).to_contain_text("suivi 6A11111111111 → 6A98765432109")
    # Opened again after that answer: the form comes with the new values.
    parcel.get_by_text("Corriger le suivi ou la date").click()
    expect(parcel.get_by_label("Numéro de suivi")).to_have_value("6A98765432109")
    # Hand delivery: no number to type, the date is the day of the handover.
    parcel.get_by_label("Transporteur", exact=True).select_option("hand_delivery")
    expect(parcel.get_by_label("Numéro de suivi")).to_be_hidden()
    expect(parcel.get_by_label("Date de remise")).to_be_visible()
    page.screenshot(path=str(artifacts / "corrections-01-parcel.png"), full_page=True, caret="initial")

    # A payment confirmed by mistake.
    page.goto(f"{live_server.url}/commandes/{paid}")
    page.get_by_text("Paiement confirmé par erreur ?").click()
    page.get_by_label("Mot pour le client (facultatif)").fill("Le virement n'est pas arrivé.")
    page.get_by_role("button", name="Annuler la confirmation du paiement").click()
    expect(page.locator("#alerts")).to_contain_text("Confirmation du paiement annulée")
    expect(page.locator("#status")).to_have_text("En attente de paiement")
    expect(page.get_by_role("button", name="Confirmer le paiement")).to_be_visible()
    page.screenshot(path=str(artifacts / "corrections-02-payment.png"), full_page=True, caret="initial")

    with live_server.app.app_context():
        number = select(Shipment.tracking_number).join(Order).where(Order.reference == shipped)
        assert db.session.scalars(number).one() == "6A98765432109"
        kinds = db.session.scalars(select(OutboxEmail.kind).join(Order, Order.id == OutboxEmail.order_id)
                                   .where(Order.reference.in_([shipped, paid]))).all()
        assert kinds.count("E4U") == 1 and kinds.count("E3U") == 1
