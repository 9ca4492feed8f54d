"""The orders tab and the order page cost a fixed number of SQL queries, however much they show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import order_input
from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.workflow import Actor, LineInput, Workflow

from .conftest import SellerClient

Make = Callable[..., Order]


def queries_for(sc: SellerClient, count_queries: Callable[[], Any], url: str, **kwargs: Any) -> int:
    sc.get(url, **kwargs)  # warm up: CSRF token, caches
    with count_queries() as counter:
        response = sc.get(url, **kwargs)
    assert response.status_code == 200
    return counter.count


def test_the_orders_tab_runs_the_same_queries_for_2_or_25_rows(
    sc: SellerClient, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    for status in (OrderStatus.PAID, OrderStatus.SHIPPED):
        order_in(status)
    small = {url: queries_for(sc, count_queries, url) for url in
             ("/commandes", "/commandes?statut=a-expedier", "/commandes?q=camille")}
    for n in range(23):
        order_in(OrderStatus.PAID if n % 2 else OrderStatus.PARTIALLY_SHIPPED)
    for url, count in small.items():
        assert queries_for(sc, count_queries, url) == count, url
        assert queries_for(sc, count_queries, url, htmx=True) <= count, url
    # The seller, the tab counts (one query), the page of orders.
    assert small["/commandes"] == 3


def test_the_order_page_runs_the_same_queries_for_a_small_or_a_big_order(
    sc: SellerClient, seller: Seller, wf: Workflow, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    small = order_in(OrderStatus.PARTIALLY_SHIPPED)  # 2 lines, 1 parcel, 4 events
    small_count = queries_for(sc, count_queries, f"/commandes/{small.reference}")
    lines = tuple(LineInput(f"SKU-{n}", f"Article {n}", 3, 990) for n in range(10))
    big = wf.place_order(order_input(seller.email, "MKT-BIG", lines=lines), actor=Actor.api()).order
    me = Actor.seller(seller.email)
    wf.confirm_payment(big.id, actor=me)
    for n, line in enumerate(sorted(big.lines, key=lambda item: item.position)[:5]):
        wf.ship(big.id, actor=me, quantities={line.id: 1}, carrier="dpd",
                tracking_number=f"0987654321{n:04d}")
    for shipment in big.shipments[:3]:
        wf.request_receipt(shipment.id, actor=me)
        wf.confirm_receipt(shipment.id)
    assert queries_for(sc, count_queries, f"/commandes/{big.reference}") == small_count
    # The seller, the order, its lines, its parcels, their lines, its history.
    assert small_count == 6
    # Without any parcel there are no parcel lines to read: one query fewer, never more.
    assert queries_for(sc, count_queries, f"/commandes/{order_in(OrderStatus.PAID).reference}") == 5
