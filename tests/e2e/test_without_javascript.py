"""What a seller sees with JavaScript off: nothing that only a script can make work."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import order_input
from uniqu3.extensions import db
from uniqu3.workflow import Actor, Workflow

from .conftest import SELLER_EMAIL, LiveServer, new_page, submit_login

pytestmark = pytest.mark.browser


def test_the_slips_print_button_is_shown_only_with_javascript(live_server: LiveServer,
                                                              browser: Any) -> None:
    from playwright.sync_api import expect

    with live_server.app.app_context():
        order = Workflow(db.session).place_order(order_input(SELLER_EMAIL, "nojs-1"),
                                                 actor=Actor.api("storefront")).order
        reference = order.reference
    for javascript in (False, True):
        page = new_page(browser, {"width": 390, "height": 900}, javascript=javascript)
        page.goto(live_server.url + f"/commandes/{reference}/preparation")
        submit_login(page)
        expect(page.get_by_role("heading", name="Bon de préparation")).to_be_visible()
        button = page.locator("button[data-print]")
        expect(button).to_have_count(1)
        if javascript:
            expect(button).to_be_visible()
        else:  # its `hidden` attribute wins over the stylesheet's buttons
            expect(button).to_be_hidden()
        page.context.close()
