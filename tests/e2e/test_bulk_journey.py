"""A busy seller in a real browser: select orders in « Commandes » and act on them at once,
with JavaScript (htmx: the list updates in place) and without (plain form posts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import order_input
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, Shipment
from uniqu3.workflow import Actor, Workflow

from .conftest import SELLER_EMAIL, LiveServer, log_in, script_errors

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}


def _orders(server: LiveServer, prefix: str, count: int) -> list[str]:
    with server.app.app_context():
        wf = Workflow(db.session)
        return [wf.place_order(order_input(SELLER_EMAIL, f"{prefix}-{n}", buyer_name=f"Client {prefix} {n}"),
                               actor=Actor.api("storefront")).order.reference for n in range(count)]


def _status(server: LiveServer, reference: str) -> str:
    with server.app.app_context():
        return str(db.session.query(Order.status).filter_by(reference=reference).scalar())


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_select_orders_and_act_on_them(live_server: LiveServer, browser: Any, artifacts: Path,
                                       width: str) -> None:
    from playwright.sync_api import expect

    refs = _orders(live_server, f"bulk-{width}", 3)
    page = log_in(browser, live_server, VIEWPORTS[width])
    errors = script_errors(page)

    def shot(name: str) -> None:
        page.screenshot(path=str(artifacts / f"bulk-{width}-{name}.png"), full_page=True, caret="initial")

    page.locator("nav.tabs").get_by_role("link", name=re.compile("À encaisser")).click()
    expect(page).to_have_url(re.compile(r"statut=a-encaisser"))
    # « Tout sélectionner » ticks the page's boxes, and clears them.
    select_all = page.get_by_label("Tout sélectionner")
    select_all.check()
    for ref in refs:
        expect(page.get_by_role("checkbox", name=ref)).to_be_checked()
    select_all.uncheck()
    expect(page.get_by_role("checkbox", name=refs[0])).not_to_be_checked()
    # Two orders ticked, their payments confirmed: the list updates in place with the summary.
    page.get_by_role("checkbox", name=refs[0]).check()
    page.get_by_role("checkbox", name=refs[2]).check()
    shot("01-selected")
    page.get_by_role("button", name="Confirmer les paiements").click()
    summary = page.locator(".bulk-summary")
    expect(summary).to_contain_text("Fait : 2 · Déjà fait : 0 · Refusé : 0")
    expect(summary).to_contain_text(f"{refs[0]} : paiement confirmé")
    expect(page.get_by_role("checkbox", name=refs[0])).to_have_count(0)  # no longer « À encaisser »
    expect(page.get_by_role("checkbox", name=refs[1])).not_to_be_checked()
    expect(page).to_have_url(re.compile(r"statut=a-encaisser"))  # the page did not change
    shot("02-summary")
    assert _status(live_server, refs[0]) == OrderStatus.PAID
    assert _status(live_server, refs[1]) == OrderStatus.AWAITING_PAYMENT

    # The slips of the selection: one document, a page per order, printed without the rest.
    page.locator("nav.tabs").get_by_role("link", name=re.compile("Toutes")).click()
    expect(page).to_have_url(re.compile(r"statut=toutes"))
    page.get_by_role("checkbox", name=refs[0]).check()
    page.get_by_role("checkbox", name=refs[1]).check()
    page.get_by_role("button", name="Imprimer les bons de préparation").click()
    expect(page.get_by_role("heading", name="Bons de préparation : 2 commandes")).to_be_visible()
    expect(page.locator("article.slip")).to_have_count(2)
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    shot("03-slips-print")
    page.emulate_media(media="screen")
    assert errors == []
    page.context.close()


def test_the_selection_works_without_javascript(live_server: LiveServer, browser: Any,
                                                artifacts: Path) -> None:
    from playwright.sync_api import expect

    refs = _orders(live_server, "nojs-bulk", 2)
    page = log_in(browser, live_server, VIEWPORTS["phone"], javascript=False)
    page.goto(live_server.url + "/commandes?statut=a-encaisser")
    # Ticked alone, « Tout sélectionner » sends the whole page.
    page.get_by_label("Tout sélectionner").check()
    page.get_by_role("button", name="Confirmer les paiements").click()
    summary = page.locator(".bulk-summary")
    expect(summary).to_contain_text("Déjà fait : 0 · Refusé : 0")
    for ref in refs:
        expect(summary).to_contain_text(f"{ref} : paiement confirmé")
        assert _status(live_server, ref) == OrderStatus.PAID
    page.screenshot(path=str(artifacts / "bulk-nojs-summary.png"), full_page=True, caret="initial")
    # The same orders again: nothing twice.
    page.goto(live_server.url + "/commandes?statut=toutes")
    for ref in refs:
        page.get_by_role("checkbox", name=ref).check()
    page.get_by_role("button", name="Confirmer les paiements").click()
    for ref in refs:
        expect(summary).to_contain_text(f"{ref} : déjà fait")
    page.context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_import_tracking_numbers(live_server: LiveServer, browser: Any, artifacts: Path, width: str) -> None:
    from playwright.sync_api import expect

    good, bad = _orders(live_server, f"import-{width}", 2)
    with live_server.app.app_context():
        wf = Workflow(db.session)
        for ref in (good, bad):
            order_id = db.session.query(Order.id).filter_by(reference=ref).scalar()
            wf.confirm_payment(order_id, actor=Actor.seller(SELLER_EMAIL))
    number = "6A1234567890" + ("1" if width == "phone" else "2")
    data = (f"Référence;Transporteur;Numéro de suivi;Date d'expédition\r\n{good};Colissimo;{number};\r\n"
            f"{bad};Mondial Relay;PAS-UN-NUMERO;\r\n").encode("cp1252")
    page = log_in(browser, live_server, VIEWPORTS[width])

    def shot(name: str) -> None:
        page.screenshot(path=str(artifacts / f"import-{width}-{name}.png"), full_page=True, caret="initial")

    page.get_by_role("link", name="Importer des numéros de suivi").click()
    expect(page.get_by_role("heading", name="Importer des numéros de suivi")).to_be_visible()
    shot("01-form")
    for attempt in ("first", "again"):
        page.get_by_label("Fichier CSV").set_input_files(
            files=[{"name": "etiquettes.csv", "mimeType": "text/csv", "buffer": data}])
        page.get_by_role("button", name="Voir l'aperçu").click()
        rows = page.locator("table.import-rows tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(1)).to_contain_text("refusée")
        expect(rows.nth(1)).to_contain_text("ne ressemble pas à un numéro Mondial Relay")
        if attempt == "first":
            expect(rows.nth(0)).to_contain_text("à importer")
            shot("02-preview")
            page.get_by_role("button", name="Importer 1 ligne").click()
            counts = page.locator(".counts")
            expect(counts).to_contain_text("Importées : 1 · Déjà importées : 0 · Refusées : 1")
            expect(rows.nth(0)).to_contain_text("importé : colis n° 1")
            shot("03-applied")
        else:  # the same file again: the parcel is there already, nothing to import
            expect(rows.nth(0)).to_contain_text("déjà importé (colis n° 1)")
            expect(page.get_by_text("Aucune ligne à importer.")).to_be_visible()
            shot("04-again")
    with live_server.app.app_context():
        order_id = db.session.query(Order.id).filter_by(reference=good).scalar()
        assert db.session.query(Shipment).filter_by(order_id=order_id).count() == 1
    page.context.close()
