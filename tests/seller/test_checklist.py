"""The first-login checklist: payment instructions, notification e-mail, return address for the
slip; shown on « Commandes » and « Paramètres » until each is done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uniqu3.extensions import db
from uniqu3.models import Order, Seller

from .conftest import SellerClient

TITLE = "Avant vos premières commandes"


def new_seller(make_seller: Callable[..., Seller]) -> Seller:
    """As `flask admin create-seller` makes one: nothing but a name and a password."""
    return make_seller("nouveau@example.fr", shop_name="Atelier Neuf", payment_instructions="")


def test_a_new_seller_sees_what_to_set_up_first(make_seller: Callable[..., Seller],
                                                login: Callable[..., SellerClient]) -> None:
    sc = login(new_seller(make_seller))
    for page in ("/commandes", "/parametres"):
        html = sc.get(page).get_data(as_text=True)
        assert TITLE in html, page
        assert 'href="/parametres#payment_instructions"' in html
        assert 'href="/parametres#notification_email"' in html
        assert 'href="/parametres#return_address"' in html
        assert html.count('class="todo"') == 3


def test_the_checklist_goes_once_everything_is_set(make_seller: Callable[..., Seller],
                                                   login: Callable[..., SellerClient]) -> None:
    seller = new_seller(make_seller)
    sc = login(seller)
    saved = sc.post("/parametres", {"shop_name": "Atelier Neuf", "locale": "fr",
                                    "payment_instructions": "Virement : IBAN FR76 1234"})
    assert saved.status_code == 303
    html = sc.get("/commandes").get_data(as_text=True)
    assert TITLE in html and html.count('class="todo"') == 2 and html.count('class="done"') == 1
    saved = sc.post("/parametres", {"shop_name": "Atelier Neuf", "locale": "fr",
                                    "payment_instructions": "Virement : IBAN FR76 1234",
                                    "notification_email": "commandes@neuf.example.fr",
                                    "return_address": "Atelier Neuf\n3 rue des Fleurs\n69001 Lyon"})
    assert saved.status_code == 303
    for page in ("/commandes", "/parametres"):
        assert TITLE not in sc.get(page).get_data(as_text=True), page
    db.session.expire_all()
    fresh = db.session.get(Seller, seller.id)
    assert fresh is not None and fresh.return_address == "Atelier Neuf\n3 rue des Fleurs\n69001 Lyon"


def test_the_established_seller_sees_no_checklist(sc: SellerClient, seller: Seller) -> None:
    seller.notification_email = "commandes@lina.example.fr"
    seller.return_address = "L'Atelier de Lina, 3 rue des Fleurs, 69001 Lyon"
    db.session.commit()
    assert TITLE not in sc.get("/commandes").get_data(as_text=True)


def test_the_return_address_is_printed_on_the_slip(sc: SellerClient, seller: Seller,
                                                   order_in: Callable[..., Order]) -> None:
    order = order_in("paid")
    slip = f"/commandes/{order.reference}/preparation"
    assert "Ajoutez votre adresse de retour dans les paramètres" in sc.get(slip).get_data(as_text=True)
    sc.post("/parametres", {"shop_name": seller.shop_name, "locale": "fr",
                            "return_address": "L'Atelier de Lina\n3 rue des Fleurs\n69001 Lyon"})
    html = sc.get(slip).get_data(as_text=True)
    assert "Ajoutez votre adresse de retour" not in html
    assert "3 rue des Fleurs" in html


def test_a_return_address_too_long_is_refused(sc: SellerClient, seller: Seller) -> None:
    response = sc.post("/parametres", {"shop_name": seller.shop_name, "locale": "fr",
                                       "return_address": "x" * 501})
    assert response.status_code == 422
    assert "L&#39;adresse de retour a au plus 500 caractères." in response.get_data(as_text=True)


def test_an_api_order_for_a_new_seller_needs_no_setup(make_seller: Callable[..., Seller],
                                                      make_order: Callable[..., Any]) -> None:
    """Nothing is refused meanwhile: orders come in, E2 says the seller will send instructions."""
    order = make_order(owner=new_seller(make_seller))
    assert order.id
