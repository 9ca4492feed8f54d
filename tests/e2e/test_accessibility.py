"""axe-core in Chromium over the seller's and the buyer's pages, in French at phone width and in
English at laptop width: no accessibility violation (axe's own rules, every impact level).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import PASSWORD, cached_hash, order_input, ship_all
from uniqu3.extensions import db
from uniqu3.models import Order, Seller
from uniqu3.timeutil import utcnow
from uniqu3.tokens import order_token, receipt_token
from uniqu3.workflow import Actor, Workflow

from .conftest import SELLER_EMAIL, LiveServer, new_page

pytestmark = pytest.mark.browser

ENGLISH_EMAIL = "linen@shop.example.com"


def _orders(server: LiveServer, email: str) -> tuple[list[str], list[str], str]:
    """An order at each step: the seller's pages, the buyer's, and the paid order's page."""
    seller = Actor.seller(email)
    start = utcnow() - timedelta(days=10)
    with server.app.app_context():
        wf = Workflow(db.session, clock=lambda: start)

        def place(n: int) -> Order:
            return wf.place_order(order_input(email, f"axe-{email}-{n}"), actor=Actor.api("storefront")).order
        unpaid, paid, partial, done, cancelled, reported = (place(n) for n in range(6))
        wf.cancel(cancelled.id, actor=seller, reason="Rupture de stock")
        for order in (paid, partial, done, reported):
            wf.confirm_payment(order.id, actor=seller, note="Virement")
        # A parcel the buyer reported: the report form, the seller's answers, « Problèmes ».
        problem = ship_all(wf, reported, actor=seller, tracking_number="6A98765432102")
        wf.request_receipt(problem.id, actor=seller)
        wf.report_problem(problem.id, reason="damaged", message="Le bol est fêlé.\nLe carton aussi.")
        for order in (partial, done):
            bag, card = sorted(order.lines, key=lambda line: line.position)
            wf.ship(order.id, actor=seller, quantities={bag.id: 2}, carrier="colissimo",
                    tracking_number="6A98765432101")
        bag, card = sorted(done.lines, key=lambda line: line.position)
        second = wf.ship(done.id, actor=seller, quantities={card.id: 1}, carrier="mondial_relay",
                         tracking_number="87654321").shipment
        assert second is not None
        first = done.shipments[0]
        wf.request_receipt(first.id, actor=seller)
        wf.request_receipt(second.id, actor=seller)
        Workflow(db.session).confirm_receipt(first.id, ip="198.51.100.23", user_agent="Firefox")
        seller_pages = ["/commandes", "/commandes?statut=a-expedier", "/commandes?q=Martin", "/parametres",
                        "/commandes?statut=problemes",
                        f"/commandes/{paid.reference}/preparation",
                        f"/commandes/{done.reference}/colis/1/preuve", "/commandes/UQ-2026-999999"]
        seller_pages += [f"/commandes/{o.reference}"
                         for o in (unpaid, paid, partial, done, cancelled, reported)]
        buyer_pages = [f"/o/{order_token(o.id)}" for o in (unpaid, partial, done, cancelled)]
        buyer_pages += [f"/o/{order_token(reported.id)}", f"/r/{receipt_token(problem.id)}",
                        f"/r/{receipt_token(problem.id)}/probleme", f"/r/{receipt_token(second.id)}/probleme"]
        buyer_pages += [f"/r/{receipt_token(first.id)}", f"/r/{receipt_token(second.id)}", "/o/not-a-link",
                        "/dev/mailbox"]
        paid_page = f"/commandes/{paid.reference}"
    return seller_pages, buyer_pages, paid_page


def _violations(page: Any, url: str | None = None) -> list[str]:
    """axe's violations on the page at `url`, or on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    if url is not None:
        page.goto(url)
        page.wait_for_load_state("networkidle")
    found = Axe().run(page).response["violations"]
    return [f"{url or page.url}: {v['id']} ({v['impact']}) {v['help']}: {v['nodes'][0]['html'][:160]}"
            for v in found]


@pytest.mark.parametrize(("email", "locale", "width"), [(SELLER_EMAIL, "fr-FR", 390),
                                                       (ENGLISH_EMAIL, "en-GB", 1280)])
def test_no_accessibility_violation(live_server: LiveServer, browser: Any, email: str, locale: str,
                                    width: int) -> None:
    if email == ENGLISH_EMAIL:
        with live_server.app.app_context():
            db.session.add(Seller(email=email, shop_name="Linen & Co", password_hash=cached_hash(PASSWORD),
                                  payment_instructions="Bank transfer", locale="en"))
            db.session.commit()
    seller_pages, buyer_pages, paid_page = _orders(live_server, email)
    found: list[str] = []
    for logged_in, pages in ((True, seller_pages), (False, buyer_pages)):
        page = new_page(browser, {"width": width, "height": 900}, locale=locale)
        try:
            if logged_in:
                found += _violations(page, live_server.url + "/connexion")
                page.fill("#email", email)
                page.fill("#password", PASSWORD)
                page.click("button.primary")
                page.wait_for_url("**/commandes**")
            for url in pages:
                found += _violations(page, live_server.url + url)
            if logged_in:  # the ship form refused, as htmx puts it in the page
                page.goto(live_server.url + paid_page)
                page.fill("#tracking_number", "12")
                # The preview's verdict first, as a person sees it before pressing: its swap, above the
                # button, moves it; landing between press and release, it loses the click.
                page.wait_for_selector("#tracking-preview .error")
                page.click("#ship button.primary")
                page.wait_for_selector("#tracking_number-err")
                found += _violations(page)
                # The selection: an action's summary above the list (htmx), the slips' document.
                page.goto(live_server.url + "/commandes?statut=toutes")
                page.check("[data-select-all]")
                page.click("button[value=reception]")
                page.wait_for_selector(".bulk-summary")
                found += _violations(page)
                page.check("[data-select-all]")
                page.click("button[value=bons]")
                page.wait_for_selector("article.slip")
                found += _violations(page)
                # « Importer des numéros de suivi »: the form, then a preview with a refused row.
                found += _violations(page, live_server.url + "/commandes/import-suivi")
                rows = (f"référence;transporteur;numéro de suivi\n{paid_page.rsplit('/', 1)[1]};Colissimo;"
                        "6A12345678909\nUQ-2026-999999;Pigeon;1\n")
                page.set_input_files("#fichier", files=[{"name": "suivi.csv", "mimeType": "text/csv",
                                                         "buffer": rows.encode()}])
                page.click("form[enctype] button.primary")
                page.wait_for_selector("table.import-rows")
                found += _violations(page)
        finally:
            page.context.close()
    assert found == [], "\n".join(found)
