"""Where things stand on the page, as a seller or a buyer sees them at phone and laptop widths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import order_input
from uniqu3.extensions import db
from uniqu3.models import Order
from uniqu3.tokens import order_token
from uniqu3.workflow import Actor, Workflow

from .conftest import SELLER_EMAIL, LiveServer, log_in, new_page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 900}
LAPTOP = {"width": 1280, "height": 900}
SELLER = Actor.seller(SELLER_EMAIL)


@pytest.fixture
def seller_page(live_server: LiveServer, browser: Any) -> Iterator[Any]:
    """A logged-in seller's page at laptop width (a test may resize it)."""
    page = log_in(browser, live_server, LAPTOP)
    page.wait_for_url("**/commandes**")
    yield page
    page.context.close()


def _order(server: LiveServer, external_id: str, *, then: str = "") -> tuple[str, int]:
    """A new order (paid, its first line shipped, shipped whole, or cancelled with `then`): its
    reference and id."""
    with server.app.app_context():
        wf = Workflow(db.session)
        order = wf.place_order(order_input(SELLER_EMAIL, external_id), actor=Actor.api("storefront")).order
        if then in {"paid", "partly", "shipped"}:
            wf.confirm_payment(order.id, actor=SELLER)
        if then == "partly":
            first = min(order.lines, key=lambda line: line.position)
            wf.ship(order.id, actor=SELLER, quantities={first.id: first.quantity}, carrier="colissimo",
                    tracking_number="6A12345678901")
        if then == "shipped":
            order = db.session.get(Order, order.id)
            assert order is not None
            wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity for line in order.lines},
                    carrier="colissimo", tracking_number="6A12345678901")
        if then == "cancelled":
            wf.cancel(order.id, actor=SELLER)
        return order.reference, order.id


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


def test_the_settings_save_button_is_below_the_language_not_beside_it(seller_page: Any,
                                                                        live_server: LiveServer) -> None:
    for viewport in (LAPTOP, PHONE):
        seller_page.set_viewport_size(viewport)
        seller_page.goto(live_server.url + "/parametres")
        language = _box(seller_page, "#locale")
        save = _box(seller_page, "form:has(#locale) > button")
        assert save["y"] >= language["y"] + language["height"]
        assert save["x"] < language["x"] + language["width"] / 2  # starts the line: the form's button


def _badge_colours(page: Any) -> tuple[str, str]:
    return page.locator(".badge").first.evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color].join(' / ')"), \
        page.locator(".badge").first.inner_text()


def test_a_status_has_the_same_colour_for_the_seller_and_the_buyer(
        seller_page: Any, live_server: LiveServer) -> None:
    seen: dict[str, str] = {}
    for then, label in (("paid", "Payée"), ("shipped", "Expédiée"), ("cancelled", "Annulée")):
        reference, order_id = _order(live_server, f"colours-{then}", then=then)
        seller_page.goto(live_server.url + f"/commandes/{reference}")
        seller_colour, seller_label = _badge_colours(seller_page)
        with live_server.app.app_context():
            token = order_token(order_id)
        seller_page.goto(live_server.url + f"/o/{token}")
        buyer_colour, buyer_label = _badge_colours(seller_page)
        assert seller_label == buyer_label == label
        assert seller_colour == buyer_colour
        seen[then] = seller_colour
    assert len(set(seen.values())) == 3  # « Payée » and « Expédiée » told apart


def test_all_shipped_the_receipt_button_is_at_the_top_of_a_phone(seller_page: Any,
                                                                  live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    reference, _ = _order(live_server, "place-shipped", then="shipped")
    seller_page.set_viewport_size(PHONE)
    seller_page.goto(live_server.url + f"/commandes/{reference}")
    button = seller_page.locator("#next").get_by_role("button", name="Activer la confirmation de réception")
    expect(button).to_be_visible()
    assert "primary" in (button.get_attribute("class") or "")
    box = _box(seller_page, "#next button.primary")
    assert box["y"] + box["height"] <= PHONE["height"]  # seen without scrolling
    assert box["y"] < _box(seller_page, "#lines")["y"]
    button.click()
    expect(seller_page.locator("#colis-1")).to_contain_text("Confirmation de réception demandée")
    expect(seller_page.locator("#next")).not_to_contain_text("Activer la confirmation de réception")


def test_shipping_the_last_parcel_brings_every_receipt_button_to_the_top(seller_page: Any,
                                                                          live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    reference, _ = _order(live_server, "place-last-parcel", then="partly")
    seller_page.set_viewport_size(PHONE)
    seller_page.goto(live_server.url + f"/commandes/{reference}")
    parcels = seller_page.locator("#shipments")
    asks = parcels.get_by_role("button", name="Activer la confirmation de réception")
    expect(asks).to_have_count(1)  # partly shipped: parcel 1 carries its own
    ship = seller_page.locator("#ship")
    ship.get_by_label("Numéro de suivi").fill("6A12345678902")
    ship.get_by_role("button", name="Expédier ce colis").click()
    expect(seller_page.locator("#status")).to_have_text("Expédiée")
    expect(seller_page.locator("#alerts")).to_contain_text("Colis n° 2 expédié")
    # Both buttons are primary ones in « Prochaine étape », none is left in the parcels,
    # and the first one has the focus: the next thing to do, announced as it is reached.
    top = seller_page.locator("#next").get_by_role("button", name="Activer la confirmation de réception")
    expect(top).to_have_count(2)
    expect(asks).to_have_count(0)
    for number in (1, 2):
        expect(seller_page.locator(f"#colis-{number}")).to_contain_text("voir la prochaine étape")
    expect(top.first).to_be_focused()
    assert seller_page.locator("#next").count() == 1
    # What the answer drew is what the page shows when loaded again.
    seller_page.reload()
    expect(top).to_have_count(2)
    expect(asks).to_have_count(0)


def test_a_parcel_declared_lost_brings_the_ship_form_back_at_the_top(seller_page: Any,
                                                                     live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    reference, order_id = _order(live_server, "place-lost", then="shipped")
    with live_server.app.app_context():
        order = db.session.get(Order, order_id)
        assert order is not None
        parcel = order.shipments[0]
        wf = Workflow(db.session)
        wf.request_receipt(parcel.id, actor=SELLER)
        wf.report_problem(parcel.id, reason="not_received", message="Rien reçu.")
    seller_page.goto(live_server.url + f"/commandes/{reference}")
    seller_page.get_by_role("button", name="Colis perdu").click()
    expect(seller_page.locator("#status")).to_have_text("Payée")
    expect(seller_page.locator("#colis-1")).to_contain_text("Déclaré perdu le")
    # One « Prochaine étape », where it was, with the ship form (fetched on its own).
    expect(seller_page.locator("#next")).to_have_count(1)
    expect(seller_page.locator("#shipments #next")).to_have_count(0)
    expect(seller_page.locator("#next #ship")).to_be_visible()
    assert _box(seller_page, "#next")["y"] < _box(seller_page, "#lines")["y"]


def test_the_slips_print_button_stands_apart_from_the_back_link(seller_page: Any,
                                                                live_server: LiveServer) -> None:
    reference, _ = _order(live_server, "place-slip", then="paid")
    for viewport in (PHONE, LAPTOP):
        seller_page.set_viewport_size(viewport)
        seller_page.goto(live_server.url + f"/commandes/{reference}/preparation")
        back = _box(seller_page, ".crumbs a")
        printer = _box(seller_page, "button[data-print]")
        assert printer["y"] >= back["y"] + back["height"]  # its own line, not beside the link


def test_the_login_message_lines_up_with_the_card(live_server: LiveServer, browser: Any) -> None:
    for viewport in (PHONE, LAPTOP):
        page = new_page(browser, viewport)
        page.goto(live_server.url + "/commandes")  # logged out: « Connectez-vous… » above the login
        alert, card = _box(page, "#alerts .flash"), _box(page, ".card.narrow")
        assert abs(alert["x"] - card["x"]) < 1 and abs(alert["width"] - card["width"]) < 1
        assert alert["y"] + alert["height"] <= card["y"]
        page.context.close()


def test_a_quoted_note_in_the_history_has_french_spacing(seller_page: Any, live_server: LiveServer) -> None:
    with live_server.app.app_context():
        wf = Workflow(db.session)
        order = wf.place_order(order_input(SELLER_EMAIL, "quoted-note"), actor=Actor.api("storefront")).order
        wf.confirm_payment(order.id, actor=SELLER, note="Virement reçu")
        reference = order.reference
    seller_page.goto(live_server.url + f"/commandes/{reference}")
    quoted = seller_page.locator("#history-list q").first
    # « Virement reçu », the marks held to the words by narrow no-break spaces.
    assert quoted.evaluate("q => getComputedStyle(q).quotes") == '"«\u202f" "\u202f»"'
