"""Addresses in the e-mails: the country in words, the same address written once."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADDRESS
from uniqu3.mail import render_email
from uniqu3.workflow import Address

from .test_render import outbox


def test_the_same_billing_and_shipping_address_is_written_once(make_order: Any) -> None:
    make_order(billing_address=ADDRESS, shipping_address=ADDRESS)
    mail = render_email(outbox("E1"))
    assert "Adresse de livraison et de facturation :" in mail.text
    assert mail.text.count("12 rue des Lilas") == 1 and mail.html.count("12 rue des Lilas") == 1
    assert "69003 Lyon\n  France" in mail.text


def test_different_addresses_are_both_written(make_order: Any) -> None:
    abroad = Address("Adam Lefebvre", "Rue Haute 112", "", "1000", "Bruxelles", "BE")
    make_order(billing_address=abroad, shipping_address=ADDRESS)
    mail = render_email(outbox("E1"))
    assert "Adresse de facturation :" in mail.text and "Adresse de livraison :" in mail.text
    assert "1000 Bruxelles\n  Belgique" in mail.text
