"""A whole seller journey in a real browser, at phone and laptop widths."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADDRESS, order_input
from uniqu3.extensions import db
from uniqu3.models import Order, Shipment
from uniqu3.workflow import Actor, LineInput, Workflow

from .conftest import SELLER_EMAIL, LiveServer, new_page, script_errors, submit_login

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1280, "height": 800}}


def _place_orders(server: LiveServer, width: str) -> str:
    """A few orders, one of them from a buyer the seller will search for."""
    with server.app.app_context():
        wf = Workflow(db.session)
        for n in range(3):
            wf.place_order(order_input(SELLER_EMAIL, f"{width}-other-{n}", buyer_name=f"Client {n}"),
                           actor=Actor.api("storefront"))
        order = wf.place_order(order_input(
            SELLER_EMAIL, f"{width}-target", buyer_name=f"Zoé Lefèvre {width}",
            buyer_email=f"zoe.{width}@example.fr",
            shipping_address=ADDRESS,
            lines=(LineInput("BAG-RED-01", "Sac cabas rouge", 2, 3490),
                   LineInput("CARD-01", "Carte brodée <b>main</b>", 1, 550)),
        ), actor=Actor.api("storefront")).order
        return order.reference


def _buyer_confirms(server: LiveServer, reference: str) -> None:
    with server.app.app_context():
        order = db.session.query(Order).filter_by(reference=reference).one()
        for shipment in db.session.query(Shipment).filter_by(order_id=order.id).order_by(Shipment.number):
            Workflow(db.session).confirm_receipt(shipment.id, ip="203.0.113.7", user_agent="Firefox")


def _type_tracking(page: Any, number: str, verdict: str) -> None:
    """Types a tracking number and waits for the preview's verdict on it: every ship form, also
    one fetched again after an action, answers typing at once. The verdict shows below
    « Expédier ce colis », so a quick press cannot lose the button from under the pointer."""
    from playwright.sync_api import expect

    page.get_by_label("Numéro de suivi").fill(number)  # at once, as a person pasting it would
    button = page.get_by_role("button", name="Expédier ce colis")
    where = "b => b.getBoundingClientRect().top + window.scrollY"  # on the page, whatever the scroll
    top = button.evaluate(where)  # the verdict comes 400 ms after the last key at the soonest
    expect(page.locator(verdict)).to_contain_text(number)
    assert button.evaluate(where) == top


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_seller_journey(live_server: LiveServer, browser: Any, artifacts: Path, width: str) -> None:
    from playwright.sync_api import expect

    reference = _place_orders(live_server, width)
    page = new_page(browser, VIEWPORTS[width])
    # Any script error or CSP violation fails the journey; the refusal's 422 is expected.
    errors = script_errors(page, refusals=True)

    def shot(name: str) -> None:
        # caret="initial": hiding the caret would inject a <style>, which the CSP blocks.
        page.screenshot(path=str(artifacts / f"{width}-{name}.png"), full_page=True, caret="initial")

    # Log in (the real form).
    page.goto(live_server.url + "/commandes")
    expect(page).to_have_url(re.compile(r"/connexion"))
    shot("01-login")
    submit_login(page)
    expect(page).to_have_url(re.compile(r"/commandes$"))
    expect(page.get_by_role("heading", name="Commandes", exact=True)).to_be_visible()
    shot("02-orders")

    # Find the order with the search box: the list updates in place and the URL follows.
    page.get_by_label("Rechercher une commande").fill(f"Lefèvre {width}")
    expect(page).to_have_url(re.compile(r"q=Lef"))
    rows = page.locator("ol.orders li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(reference)
    shot("03-search")
    # A tab keeps the search; the hidden tab field follows, so searching again stays in the tab.
    page.locator("nav.tabs").get_by_role("link", name=re.compile("À encaisser")).click()
    expect(page).to_have_url(re.compile(r"statut=a-encaisser"))
    expect(page).to_have_url(re.compile(r"q=Lef"))
    expect(rows).to_have_count(1)
    page.get_by_label("Rechercher une commande").fill(f"Zoé Lefèvre {width}")
    expect(page).to_have_url(re.compile(r"q=Zo"))
    expect(page).to_have_url(re.compile(r"statut=a-encaisser"))
    expect(rows).to_have_count(1)
    # Back goes to the previous list state.
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=Lef"))
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Commande {reference}")).to_be_visible()
    status = page.locator("#status")
    expect(status).to_have_text("En attente de paiement")
    shot("04-order")

    # The preparation slip, on screen and as printed.
    page.get_by_role("link", name="Bon de préparation").click()
    expect(page.get_by_role("heading", name="Bon de préparation")).to_be_visible()
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()  # shown by print.js
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    shot("04b-slip-print")
    page.emulate_media(media="screen")
    page.go_back()
    expect(status).to_have_text("En attente de paiement")

    # Confirm the payment.
    page.get_by_label("Note (facultatif)").fill("Virement reçu, réf. 4471")
    page.get_by_role("button", name="Confirmer le paiement").click()
    expect(status).to_have_text("Payée")
    expect(page.locator("#alerts")).to_contain_text("Paiement confirmé")
    expect(page.locator("#history-list li")).to_have_count(2)

    # Ship part: only the bags; the buyer's tracking link shows as it is typed.
    page.locator("#ship").get_by_label(re.compile("CARD-01")).fill("0")
    page.get_by_label("Transporteur", exact=True).select_option("colissimo")
    page.get_by_label("Numéro de suivi").fill("6A12345678901")
    expect(page.locator("#tracking-preview a")).to_have_attribute(
        "href", "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901")
    shot("05-ship-form")
    page.get_by_role("button", name="Expédier ce colis").click()
    expect(status).to_have_text("Partiellement expédiée")
    expect(page.locator("#colis-1")).to_contain_text("6A12345678901")
    expect(page.locator("#no-shipment")).to_have_count(0)

    # The ship form is fetched again: typed into as soon as it shows, it answers.
    _type_tracking(page, "NOPE", "#tracking-preview .error")
    expect(page.locator("#ship").get_by_label(re.compile("CARD-01"))).to_have_value("1")
    # A refusal keeps what was typed and says why, next to the field.
    page.get_by_role("button", name="Expédier ce colis").click()
    expect(page.locator("#tracking_number-err")).to_contain_text("ne ressemble pas")
    expect(page.get_by_label("Numéro de suivi")).to_have_value("NOPE")
    shot("06-refused")

    # Ship the rest.
    _type_tracking(page, "6A12345678902", "#tracking-preview a")
    page.get_by_role("button", name="Expédier ce colis").click()
    expect(status).to_have_text("Expédiée")
    expect(page.locator("#colis-2")).to_contain_text("CARD-01 × 1")
    expect(page.locator("#lines td.todo")).to_have_count(0)

    # Ask the buyer to confirm receipt of both parcels: all is shipped, so the primary buttons
    # are in « Prochaine étape », at the top, one per parcel.
    next_step = page.locator("#next")
    expect(next_step).to_contain_text("7 jours")
    for number in (1, 2):
        parcel = page.locator(f"#colis-{number}")
        ask = next_step.locator("form", has=page.locator(f"#ask-{number}"))
        ask.get_by_role("button", name="Activer la confirmation de réception").click()
        expect(parcel).to_contain_text("Confirmation de réception demandée")
    expect(next_step).to_contain_text("la confirmation de réception est demandée pour chaque colis")
    shot("07-receipt-requested")

    # The buyer confirms from the e-mail; the seller reloads and sees the proof.
    _buyer_confirms(live_server, reference)
    page.reload()
    expect(status).to_have_text("Reçue")
    expect(page.locator("#colis-1 .proof")).to_contain_text("Confirmé par le client le")
    expect(page.locator("#colis-2 .proof")).to_contain_text("Confirmé par le client le")
    expect(page.locator("#history-list")).to_contain_text("Réception du colis n° 2 confirmée")
    # Buyer text is shown as text, never as markup.
    expect(page.locator("#lines")).to_contain_text("Carte brodée <b>main</b>")
    shot("08-received")

    # Back in the list, the tab « Reçues » counts it.
    page.get_by_role("link", name="← Commandes").click()
    page.get_by_role("link", name=re.compile("Reçues")).click()
    expect(page).to_have_url(re.compile(r"statut=recues"))
    expect(page.locator("ol.orders li").first).to_contain_text(reference)
    shot("09-tab-received")

    page.get_by_role("link", name="Paramètres").click()
    expect(page.get_by_label("Nom de la boutique")).to_have_value("L'Atelier de Lina")
    shot("10-settings")

    # Log out: the pages are closed again.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/connexion"))
    page.goto(live_server.url + f"/commandes/{reference}")
    expect(page).to_have_url(re.compile(r"/connexion"))
    assert not errors, errors
    page.context.close()
