"""« Commandes » is rendered once and reused, and never shows a list older than the orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.seller.list_cache import RenderedLists
from uniqu3.workflow import Actor, Workflow

from .conftest import SellerClient, csrf_token

Make = Callable[..., Order]


def results(html: str) -> str:
    return html.split('<div id="results">', 1)[1]


def badge(html: str, order: Order) -> str:
    """The status badge shown on the order's row."""
    row = html.split(f'<span class="ref">{order.reference}</span>', 1)[1]
    return row.split('">', 1)[1].split("</span>", 1)[0]


def count(html: str, slug: str) -> str:
    tab = html.split(f'statut={slug}', 1)[1]
    return tab.split('<span class="count">', 1)[1].split("</span>", 1)[0]


def test_a_second_view_reads_only_the_seller_and_shows_the_same_list(
    sc: SellerClient, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    for status in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.AWAITING_PAYMENT):
        order_in(status)
    first = sc.get("/commandes?statut=a-expedier").get_data(as_text=True)
    with count_queries() as counter:
        again = sc.get("/commandes?statut=a-expedier").get_data(as_text=True)
    assert counter.count == 1  # the seller (and with it, the version of their orders)
    assert results(again) == results(first)
    with count_queries() as counter:
        fragment = sc.get("/commandes?statut=a-expedier", htmx=True).get_data(as_text=True)
    assert counter.count == 1
    # The fragment: the kept results, after clearing the page's first messages.
    cleared, kept_results = fragment.split("</div>", 1)
    assert cleared == '<div id="alerts" data-hx-swap-oob="innerHTML">'
    assert kept_results.strip() in first


def test_a_kept_list_comes_in_a_page_with_this_sessions_csrf_token(
    sc: SellerClient, login: Callable[..., SellerClient], seller: Seller, order_in: Make
) -> None:
    order = order_in(OrderStatus.AWAITING_PAYMENT)
    sc.get("/commandes?statut=toutes")
    kept = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    token = csrf_token(kept)
    response = sc.client.post(f"/commandes/{order.reference}/paiement", data={"note": ""},
                              headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    # Another browser of the same seller gets the same kept list with its own token.
    other = login(seller)
    elsewhere = other.get("/commandes?statut=toutes").get_data(as_text=True)
    assert csrf_token(elsewhere) != token and results(elsewhere) == results(
        sc.get("/commandes?statut=toutes").get_data(as_text=True))
    refused = other.client.post("/parametres", data={"shop_name": "X", "csrf_token": token})
    assert refused.status_code == 400


def test_every_change_shows_at_once_whoever_makes_it(
    sc: SellerClient, seller: Seller, wf: Workflow, make_order: Make, clock: Clock
) -> None:
    order = make_order()
    html = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    assert badge(html, order) == "En attente de paiement" and count(html, "a-expedier") == "0"

    # The seller's own action, through the page.
    sc.post(f"/commandes/{order.reference}/paiement", {"note": ""})
    html = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    assert badge(html, order) == "Payée" and count(html, "a-expedier") == "1"

    # The storefront, through the workflow: a new order is on top.
    newer = make_order()
    html = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    assert html.index(newer.reference) < html.index(order.reference)
    assert count(html, "a-encaisser") == "1"

    # The buyer from the e-mail link, and the automatic receipt once the deadline passed.
    me = Actor.seller(seller.email)
    bag, card = sorted(order.lines, key=lambda line: line.position)
    first = wf.ship(order.id, actor=me, quantities={bag.id: 2, card.id: 1}, carrier="colissimo",
                    tracking_number="6A12345678901").shipment
    assert first is not None
    wf.request_receipt(first.id, actor=me)
    assert badge(sc.get("/commandes?statut=toutes").get_data(as_text=True), order) == "Expédiée"
    clock.advance(days=8)
    sc.stay_active()
    assert wf.auto_receive_due().received == [first.id]
    assert badge(sc.get("/commandes?statut=toutes").get_data(as_text=True), order) == "Reçue"


def test_another_sellers_orders_leave_this_list_as_it_was(
    sc: SellerClient, make_seller: Callable[..., Seller], make_order: Make, order_in: Make,
    count_queries: Callable[[], Any]
) -> None:
    mine = order_in(OrderStatus.PAID)
    sc.get("/commandes?statut=toutes")
    other = make_seller("autre@example.fr")
    theirs = make_order(other)
    with count_queries() as counter:
        html = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    assert counter.count == 1
    assert mine.reference in html and theirs.reference not in html


def test_a_refused_action_changes_nothing_and_keeps_the_list(
    sc: SellerClient, order_in: Make, count_queries: Callable[[], Any]
) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    before = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    response = sc.post(f"/commandes/{order.reference}/annulation", {"reason": "trop tard"}, htmx=True)
    assert response.status_code == 422
    for repeat in ("", "again"):  # an idempotent repeat writes nothing either
        sc.post(f"/commandes/{order.reference}/paiement", {"note": repeat})
    with count_queries() as counter:
        after = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    assert counter.count == 1
    assert "Le paiement était déjà confirmé." in after  # said above the list, once per repeat
    assert results(after) == results(before)


def test_the_list_follows_the_sellers_language(sc: SellerClient, seller: Seller, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    assert badge(sc.get("/commandes?statut=toutes").get_data(as_text=True), order) == "Payée"
    seller.locale = "en"
    db.session.commit()
    html = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    assert badge(html, order) == "Paid"
    assert "To ship" in html


def test_pages_of_the_list_are_kept_apart(sc: SellerClient, order_in: Make) -> None:
    for _ in range(27):
        order_in(OrderStatus.AWAITING_PAYMENT)
    first = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    older = first.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = sc.get(older).get_data(as_text=True)
    assert second.count('<span class="ref">') == 2
    assert first.count('<span class="ref">') == 25
    # The list as kept (the page around it carries a CSRF token signed with the time).
    assert results(sc.get("/commandes?statut=toutes").get_data(as_text=True)) == results(first)


def test_least_recently_used_lists_go_first_and_size_zero_keeps_none() -> None:
    lists = RenderedLists(2)
    renders: list[str] = []

    def render(name: str) -> Callable[[], str]:
        return lambda: renders.append(name) or f"<ol>{name}</ol>"

    assert lists.get_or_render("a", render("a")) == "<ol>a</ol>"
    lists.get_or_render("b", render("b"))
    lists.get_or_render("a", render("a"))  # a is used again: b is now the oldest
    lists.get_or_render("c", render("c"))
    lists.get_or_render("a", render("a"))
    lists.get_or_render("b", render("b"))
    assert renders == ["a", "b", "c", "b"] and len(lists) == 2
    off = RenderedLists(0)
    off.get_or_render("a", render("a"))
    off.get_or_render("a", render("a"))
    assert renders[-2:] == ["a", "a"] and len(off) == 0
