"""« Preuve de réception » in a real browser: from the order page to the printed A4 page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import order_input
from uniqu3.extensions import db
from uniqu3.models import Order
from uniqu3.timeutil import utcnow
from uniqu3.workflow import Actor, Workflow

from .conftest import SELLER_EMAIL, LiveServer, new_page, script_errors, submit_login

pytestmark = pytest.mark.browser

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


def _received_order(server: LiveServer) -> str:
    """Parcel 1 confirmed by the buyer; parcel 2 received automatically after its deadline."""
    seller = Actor.seller(SELLER_EMAIL)
    start = utcnow() - timedelta(days=10)
    with server.app.app_context():
        past = Workflow(db.session, clock=lambda: start)
        order = past.place_order(order_input(SELLER_EMAIL, "proof-1", buyer_name="Zoé Lefèvre"),
                                 actor=Actor.api("storefront")).order
        order_id, reference = order.id, order.reference
        past.confirm_payment(order_id, actor=seller)
        bag, card = sorted(db.session.get(Order, order_id).lines, key=lambda line: line.position)
        first = past.ship(order_id, actor=seller, quantities={bag.id: 2}, carrier="colissimo",
                          tracking_number="6A98765432101").shipment
        second = past.ship(order_id, actor=seller, quantities={card.id: 1}, carrier="mondial_relay",
                           tracking_number="87654321").shipment
        assert first is not None and second is not None
        past.request_receipt(first.id, actor=seller)
        past.request_receipt(second.id, actor=seller)
        Workflow(db.session).confirm_receipt(first.id, ip="198.51.100.23", user_agent=UA)
        assert Workflow(db.session).auto_receive(second.id)
    return reference


def test_the_proof_page_from_the_order_page_on_screen_and_printed(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    reference = _received_order(live_server)
    page = new_page(browser, {"width": 1280, "height": 900})
    errors = script_errors(page)
    scripts: list[str] = []
    page.on("request", lambda req: scripts.append(req.url) if req.resource_type == "script" else None)

    page.goto(live_server.url + f"/commandes/{reference}")
    submit_login(page)
    expect(page.get_by_role("heading", name=f"Commande {reference}")).to_be_visible()

    # The order page tells how each parcel was received.
    first, second = page.locator("#colis-1"), page.locator("#colis-2")
    expect(first.locator(".proof")).to_contain_text("Confirmé par le client le")
    expect(first.locator(".evidence")).to_contain_text("198.51.100.23")
    expect(first.locator(".evidence")).to_contain_text("iPhone OS 18_1")
    expect(second.locator(".proof")).to_contain_text("Reçu automatiquement le")
    expect(second.locator(".evidence")).to_contain_text("aucune relance envoyée")
    page.screenshot(path=str(artifacts / "proof-01-order.png"), full_page=True, caret="initial")

    # To the proof of parcel 1, on screen: no htmx on a document, the print button by print.js.
    scripts.clear()
    first.get_by_role("link", name="Preuve de réception (imprimable)").click()
    expect(page).to_have_url(re.compile(rf"/commandes/{reference}/colis/1/preuve$"))
    expect(page.get_by_role("heading", name="Preuve de réception")).to_be_visible()
    expect(page.locator(".verdict")).to_contain_text("Réception confirmée par le client le")
    expect(page.locator(".proof-doc")).to_contain_text("198.51.100.23")
    expect(page.locator(".proof-doc")).to_contain_text("Message-ID")
    expect(page.locator(".proof-doc")).to_contain_text("6A98765432101")
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()
    assert not [url for url in scripts if "htmx" in url], scripts
    page.screenshot(path=str(artifacts / "proof-02-screen.png"), full_page=True, caret="initial")

    # Printed: the site's header, the way back and the button are gone; the document stays.
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    expect(page.locator(".crumbs")).to_be_hidden()
    expect(page.get_by_role("button", name="Imprimer")).to_be_hidden()
    expect(page.locator(".proof-doc")).to_be_visible()
    doc = page.locator(".proof-doc")
    assert doc.evaluate("el => getComputedStyle(el).borderTopStyle") == "none"
    assert doc.evaluate("el => getComputedStyle(el).fontSize") == "14px"  # 10.5pt
    assert page.locator(".parties").evaluate(
        "el => getComputedStyle(el).gridTemplateColumns.split(' ').length") == 2
    page.screenshot(path=str(artifacts / "proof-03-print.png"), full_page=True, caret="initial")
    # Chromium's own PDF of the printed page: A4 from the stylesheet's @page, on one or two sheets.
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (artifacts / "proof-parcel-1.pdf").write_bytes(pdf)
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert sizes and all(round(float(w)) == 595 and round(float(h)) == 842 for w, h in sizes), sizes
    assert 1 <= len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf)) <= 2

    # Parcel 2: received automatically, with what shows it.
    page.emulate_media(media="screen")
    page.goto(live_server.url + f"/commandes/{reference}/colis/2/preuve")
    expect(page.locator(".verdict")).to_contain_text("Reçu automatiquement le")
    expect(page.locator(".proof-doc")).to_contain_text("Problème signalé")
    expect(page.locator(".proof-doc")).to_contain_text("aucune avant l'échéance")
    page.emulate_media(media="print")
    page.screenshot(path=str(artifacts / "proof-04-auto-print.png"), full_page=True, caret="initial")
    assert not errors, errors
    page.context.close()
