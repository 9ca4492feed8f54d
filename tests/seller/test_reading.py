"""What a new seller reads on the order page, the ship form and the slip, without guessing."""

from __future__ import annotations

from collections.abc import Callable

from uniqu3.models import Order, OrderStatus

from .conftest import SellerClient
from .test_order_page import page, text

OrderIn = Callable[..., Order]


def test_the_ship_form_says_what_0_means(sc: SellerClient, order_in: OrderIn) -> None:
    html = page(sc, order_in(OrderStatus.PAID))
    assert 'aria-describedby="ship-qty-hint"' in html
    assert "Quantité à mettre dans ce colis ; 0 : pas dans ce colis." in text(html)
