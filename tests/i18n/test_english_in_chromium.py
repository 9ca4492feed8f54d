"""The English seller pages in Chromium at phone width: nothing French, nothing cut off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, cached_hash, order_input
from tests.e2e.conftest import LiveServer
from uniqu3.extensions import db
from uniqu3.models import Seller
from uniqu3.workflow import Actor, Workflow

from .conftest import french_left

pytestmark = pytest.mark.browser

EMAIL = "linen@shop.example.com"
DATA = ("Camille Martin", "12 rue des Lilas", "69003 Lyon", "Sac cabas rouge", "Carte brodée")

# Text a reader cannot see whole: clipped boxes, cut placeholders, a page wider than the screen.
CUT_OFF = """() => {
  const cut = [];
  const ctx = document.createElement('canvas').getContext('2d');
  for (const el of document.querySelectorAll('body *')) {
    const st = getComputedStyle(el);
    if (st.display === 'none' || st.visibility === 'hidden' || !el.getClientRects().length) continue;
    // Text for screen readers only (class vh: 1 px, clipped on purpose) is not cut off.
    if (st.position === 'absolute' && el.clientWidth <= 1 && el.clientHeight <= 1) continue;
    if (el.scrollWidth > el.clientWidth + 1 && ['hidden', 'clip'].includes(st.overflowX))
      cut.push('clipped: ' + el.textContent.trim().slice(0, 60));
    if (el.placeholder) {
      ctx.font = st.font;
      const room = el.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
      if (ctx.measureText(el.placeholder).width > room) cut.push('placeholder: ' + el.placeholder);
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) cut.push('page wider than the screen');
  return cut;
}"""


def _english_shop(server: LiveServer) -> str:
    with server.app.app_context():
        db.session.add(Seller(email=EMAIL, shop_name="Linen & Co", password_hash=cached_hash(PASSWORD),
                              payment_instructions="Bank transfer", locale="en"))
        db.session.commit()
        wf = Workflow(db.session)
        seller = Actor.seller(EMAIL)
        orders = [wf.place_order(order_input(EMAIL, f"EN-{n}"), actor=Actor.api("storefront")).order
                  for n in range(3)]
        wf.confirm_payment(orders[0].id, actor=seller)
        wf.cancel(orders[1].id, actor=seller)
        return orders[0].reference


def _readable(page: Any) -> str:
    placeholders = page.eval_on_selector_all("[placeholder]", "els => els.map(e => e.placeholder).join(' ')")
    return page.inner_text("body") + " " + placeholders


def test_english_pages_at_phone_width(live_server: LiveServer, browser: Any, artifacts: Path) -> None:
    reference = _english_shop(live_server)
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/connexion")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button.primary")
        page.wait_for_url("**/commandes**")
        assert page.inner_text("h1") == "Orders"
        assert page.evaluate(CUT_OFF) == []
        assert french_left(_readable(page), *DATA) == []

        page.goto(f"{live_server.url}/commandes/{reference}")
        assert page.inner_text("h1") == f"Order {reference}"
        page.fill("#tracking_number", "12")
        # The preview's verdict first, as a person sees it before pressing: its swap, above the
        # button, moves it; landing between press and release, it loses the click.
        page.wait_for_selector("#tracking-preview .error")
        page.click("#ship button.primary")
        error = page.wait_for_selector("#tracking_number-err")
        assert error.inner_text() == ("The tracking number “12” does not look like a Colissimo number "
                                      "(13 characters, e.g. 6A12345678901).")
        assert page.evaluate(CUT_OFF) == []
        assert french_left(_readable(page), *DATA) == []
        page.screenshot(path=str(artifacts / "english-order-phone.png"), full_page=True)
    finally:
        context.close()
