"""« Commandes »: the seller's own orders, tabs with counts, search, paging, htmx fragments."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import url_for
from markupsafe import escape

from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.seller import queries
from uniqu3.seller.queries import PER_PAGE
from uniqu3.seller.rendering import href_maker, query_url_maker
from uniqu3.workflow import Actor, LineInput, Workflow

from .conftest import SellerClient

Make = Callable[..., Order]


def references(html: str) -> list[str]:
    return re.findall(r'<span class="ref">([^<]+)</span>', html)


def tab_counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'statut=([a-z-]+)[^>]*>[^<]+<span class="count">([^<]+)</span>', html))


def test_the_list_shows_my_orders_newest_first_and_nobody_elses(
    sc: SellerClient, make_order: Make, make_seller: Callable[..., Seller], clock: Any
) -> None:
    mine = []
    for _ in range(3):
        mine.append(make_order().reference)
        clock.advance(minutes=5)
    other = make_order(make_seller("autre@example.fr"), buyer_name="Quelqu'un d'autre").reference
    html = sc.get("/commandes").get_data(as_text=True)
    assert references(html) == list(reversed(mine))
    assert other not in html
    assert "Quelqu&#39;un d&#39;autre" not in html


def test_tabs_show_the_count_of_each_status(sc: SellerClient, order_in: Make,
                                            make_seller: Callable[..., Seller]) -> None:
    for status, times in ((OrderStatus.AWAITING_PAYMENT, 2), (OrderStatus.PAID, 1),
                          (OrderStatus.PARTIALLY_SHIPPED, 1), (OrderStatus.SHIPPED, 1),
                          (OrderStatus.RECEIVED, 1), (OrderStatus.CANCELLED, 3)):
        for _ in range(times):
            order_in(status)
    order_in(OrderStatus.PAID, owner=make_seller("autre@example.fr"))  # not counted
    html = sc.get("/commandes").get_data(as_text=True)
    assert tab_counts(html) == {"a-traiter": "4", "problemes": "0", "a-encaisser": "2", "a-expedier": "2",
                                "expediees": "1", "recues": "1", "annulees": "3", "a-rembourser": "0",
                                "toutes": "9"}
    for label in ("À encaisser", "À expédier", "Expédiées", "Reçues", "Annulées", "Toutes"):
        assert label in html


def test_counts_are_exact_however_many_orders_and_follow_each_action(
    sc: SellerClient, seller: Seller, order_in: Make, wf: Workflow
) -> None:
    """The tabs' counts are kept by the workflow (no cap, no counting on each view): the page
    shows them exact and, after an action, moved."""
    for status in (OrderStatus.PAID, OrderStatus.RECEIVED, OrderStatus.CANCELLED):
        for _ in range(3):
            order_in(status)
    waiting = order_in(OrderStatus.AWAITING_PAYMENT)
    counts = tab_counts(sc.get("/commandes").get_data(as_text=True))
    assert counts == {"a-traiter": "4", "problemes": "0", "a-encaisser": "1", "a-expedier": "3",
                      "expediees": "0", "recues": "3", "annulees": "3", "a-rembourser": "0", "toutes": "10"}
    wf.confirm_payment(waiting.id, actor=Actor.seller(seller.email))
    counts = tab_counts(sc.get("/commandes").get_data(as_text=True))
    assert (counts["a-encaisser"], counts["a-expedier"], counts["toutes"]) == ("0", "4", "10")


def test_counts_use_french_digit_grouping(app: Any) -> None:
    with app.test_request_context():
        assert str(queries.Count(12345)) == "12\u202f345"
        assert str(queries.Count(10000, capped=True)) == "10\u202f000+"  # a big search's


@pytest.mark.parametrize(("slug", "statuses"), [
    ("a-encaisser", {"awaiting_payment"}),
    ("a-expedier", {"paid", "partially_shipped"}),
    ("expediees", {"shipped"}),
    ("recues", {"received"}),
    ("annulees", {"cancelled"}),
    ("toutes", {"awaiting_payment", "paid", "partially_shipped", "shipped", "received", "cancelled"}),
])
def test_each_tab_lists_its_statuses(sc: SellerClient, order_in: Make, slug: str, statuses: set[str]) -> None:
    made = {status: order_in(status).reference for status in OrderStatus}
    html = sc.get(f"/commandes?statut={slug}").get_data(as_text=True)
    assert set(references(html)) == {made[s] for s in statuses}
    assert re.search(rf'statut={slug}[^>]*aria-current="page"', html)


def test_the_list_opens_on_what_needs_action_and_an_unknown_tab_too(
    sc: SellerClient, order_in: Make, wf: Any, clock: Any
) -> None:
    """« À traiter »: payments to confirm, parcels to send, problems to answer; not what waits
    for the buyer or is done."""
    to_cash = order_in(OrderStatus.AWAITING_PAYMENT).reference
    to_ship = order_in(OrderStatus.PARTIALLY_SHIPPED).reference
    order_in(OrderStatus.SHIPPED)
    order_in(OrderStatus.CANCELLED)
    for url in ("/commandes", "/commandes?statut=nope"):
        html = sc.get(url).get_data(as_text=True)
        assert sorted(references(html)) == sorted([to_cash, to_ship])
        assert re.search(r'statut=a-traiter"[^>]* aria-current="page">À traiter', html)
        assert tab_counts(html)["a-traiter"] == "2"
    # Tabs in the order a seller works: what needs action first, everything last.
    assert re.findall(r'statut=([a-z-]+)"', html)[:9] == [
        "a-traiter", "problemes", "a-encaisser", "a-expedier", "expediees", "recues", "annulees",
        "a-rembourser", "toutes"]


@pytest.mark.parametrize("query", ["UQ-2026", "000002", "Léa Dupont", "léa dupont", "DUPONT",
                                   "lea@exemple.fr", "LEA@EXEMPLE", "PLANT-77", "plant-7", "6A00000000002",
                                   "6a 0000 0000 002"])
def test_search_finds_an_order_by_each_field(sc: SellerClient, order_in: Make, query: str) -> None:
    from uniqu3.workflow import LineInput

    order_in(OrderStatus.PAID, buyer_name="Autre Client", buyer_email="autre@example.fr")
    target = order_in(OrderStatus.PARTIALLY_SHIPPED, buyer_name="Léa Dupont", buyer_email="lea@exemple.fr",
                      lines=(LineInput("PLANT-77", "Plante verte", 1, 1990),
                             LineInput("POT-01", "Pot", 1, 500)))
    assert target.reference == "UQ-2026-000002"
    found = references(sc.get("/commandes", query_string={"q": query}).get_data(as_text=True))
    if query == "UQ-2026":
        assert len(found) == 2
    else:
        assert found == [target.reference]


def test_search_treats_like_wildcards_as_text(sc: SellerClient, make_order: Make) -> None:
    make_order(buyer_name="Sans pourcentage")
    make_order(buyer_name="Remise 100% garantie")
    assert len(references(sc.get("/commandes?q=%25").get_data(as_text=True))) == 1
    assert len(references(sc.get("/commandes?q=_").get_data(as_text=True))) == 0


def test_search_stays_within_a_tab_and_says_when_nothing_matches(sc: SellerClient, order_in: Make) -> None:
    paid = order_in(OrderStatus.PAID, buyer_name="Jeanne Martin")
    order_in(OrderStatus.CANCELLED, buyer_name="Jeanne Martin")
    html = sc.get("/commandes?statut=a-expedier&q=Jeanne").get_data(as_text=True)
    assert references(html) == [paid.reference]
    empty = sc.get("/commandes?q=introuvable").get_data(as_text=True)
    assert "Aucune commande ne correspond à « introuvable »." in empty


def test_a_search_counts_its_orders_in_every_tab_and_keeps_the_tab(sc: SellerClient, order_in: Make) -> None:
    paid = order_in(OrderStatus.PAID, buyer_name="Jeanne Martin")
    received = order_in(OrderStatus.RECEIVED, buyer_name="Jeanne Martin")
    order_in(OrderStatus.RECEIVED, buyer_name="Paul Durand")
    order_in(OrderStatus.PAID, buyer_name="Paul Durand")
    html = sc.get("/commandes?statut=a-expedier&q=Jeanne").get_data(as_text=True)
    assert references(html) == [paid.reference]
    assert re.search(r'statut=a-expedier&amp;q=Jeanne"[^>]* aria-current="page"', html)
    assert tab_counts(html) == {"a-traiter": "1", "problemes": "0", "a-encaisser": "0", "a-expedier": "1",
                                "expediees": "0", "recues": "1", "annulees": "0", "a-rembourser": "0",
                                "toutes": "2"}
    # Nothing in this tab: the search over every tab is one link away, with its count.
    html = sc.get("/commandes?statut=annulees&q=Jeanne").get_data(as_text=True)
    assert "Aucune commande ne correspond à « Jeanne »." in html
    link = re.search(r'<a href="([^"]+)"[^>]*>Chercher dans tous les onglets \(2\)</a>', html)
    assert link and link.group(1) == "/commandes?statut=toutes&amp;q=Jeanne"
    everywhere = sc.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert sorted(references(everywhere)) == sorted([paid.reference, received.reference])
    # Without a search, the tab's empty message offers nothing more.
    assert "Chercher dans tous les onglets" not in sc.get("/commandes?statut=annulees").get_data(as_text=True)


def test_a_big_search_counts_to_a_lower_bound(sc: SellerClient, order_in: Make,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 2)
    for status in (OrderStatus.PAID, OrderStatus.PAID, OrderStatus.RECEIVED):
        order_in(status, buyer_name="Jeanne Martin")
    counts = tab_counts(sc.get("/commandes?statut=toutes&q=Jeanne").get_data(as_text=True))
    assert counts["toutes"].endswith("+") and counts["a-expedier"].endswith("+")


def test_moving_between_tabs_with_htmx_clears_the_first_views_message(sc: SellerClient) -> None:
    page = sc.get("/commandes").get_data(as_text=True)
    fragment = sc.get("/commandes?statut=toutes", htmx=True).get_data(as_text=True)
    assert '<div id="alerts" role="status">' in page
    assert fragment.startswith('<div id="alerts" data-hx-swap-oob="innerHTML"></div>')


def test_search_does_not_find_other_sellers_orders(sc: SellerClient, make_order: Make,
                                                   make_seller: Callable[..., Seller]) -> None:
    other = make_order(make_seller("autre@example.fr"), buyer_name="Zébulon")
    assert references(sc.get("/commandes?q=Zébulon").get_data(as_text=True)) == []
    assert references(sc.get(f"/commandes?q={other.reference}").get_data(as_text=True)) == []


def _pages(sc: SellerClient, url: str) -> list[list[str]]:
    pages = []
    while url:
        html = sc.get(url).get_data(as_text=True)
        pages.append(references(html))
        match = re.search(r'href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else ""
    return pages


def test_pages_go_back_in_time_without_gaps_or_repeats(sc: SellerClient, make_order: Make,
                                                       clock: Any) -> None:
    made = []
    for n in range(PER_PAGE * 2 + 3):
        made.append(make_order().reference)
        if n % 4 == 0:  # several orders share a creation time: the id breaks the tie
            clock.advance(seconds=1)
    pages = _pages(sc, "/commandes")
    assert [len(p) for p in pages] == [PER_PAGE, PER_PAGE, 3]
    assert [ref for page in pages for ref in page] == list(reversed(made))


def test_newer_pages_come_back_in_the_same_order(sc: SellerClient, make_order: Make) -> None:
    for _ in range(PER_PAGE * 2 + 3):
        make_order()
    first = sc.get("/commandes").get_data(as_text=True)
    assert 'rel="prev"' not in first
    third_url = _next_url(sc.get(_next_url(first)).get_data(as_text=True))
    third = sc.get(third_url).get_data(as_text=True)
    second_again = sc.get(_prev_url(third)).get_data(as_text=True)
    assert references(second_again) == references(sc.get(_next_url(first)).get_data(as_text=True))
    first_again = sc.get(_prev_url(second_again)).get_data(as_text=True)
    assert references(first_again) == references(first)
    assert 'rel="prev"' not in first_again


def _next_url(html: str) -> str:
    match = re.search(r'href="([^"]+)" rel="next"', html)
    assert match
    return match.group(1).replace("&amp;", "&")


def _prev_url(html: str) -> str:
    match = re.search(r'href="([^"]+)" rel="prev"', html)
    assert match
    return match.group(1).replace("&amp;", "&")


def test_a_tab_of_two_statuses_pages_through_both(sc: SellerClient, order_in: Make, clock: Any) -> None:
    made = []
    for n in range(PER_PAGE + 4):
        made.append(order_in(OrderStatus.PAID if n % 2 else OrderStatus.PARTIALLY_SHIPPED).reference)
        clock.advance(seconds=1)
    order_in(OrderStatus.SHIPPED)
    pages = _pages(sc, "/commandes?statut=a-expedier")
    assert [ref for page in pages for ref in page] == list(reversed(made))
    assert "statut=a-expedier" in _next_url(sc.get("/commandes?statut=a-expedier").get_data(as_text=True))


def test_a_forged_cursor_starts_from_the_top(sc: SellerClient, make_order: Make) -> None:
    make_order()
    for cursor in ("garbage", "1-", "-1", "99999999999999999999999-1", "1" * 50):
        response = sc.get("/commandes", query_string={"apres": cursor})
        assert response.status_code == 200
        assert len(references(response.get_data(as_text=True))) == 1


def test_htmx_gets_the_list_fragment_and_caches_are_told(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    full = sc.get("/commandes?statut=a-encaisser")
    fragment = sc.get("/commandes?statut=a-encaisser", htmx=True)
    for response in (full, fragment):
        assert "HX-Request" in response.headers["Vary"]
        assert order.reference in response.get_data(as_text=True)
    assert "<html" in full.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="results"' not in body
    assert '<nav class="tabs"' in body
    assert 'name="statut" value="a-encaisser" form="search"' in body
    # Going back in history with htmx asks for the whole page again.
    restore = sc.client.get("/commandes", headers={"HX-Request": "true",
                                                   "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_the_list_page_wires_search_tabs_and_paging_to_htmx(sc: SellerClient) -> None:
    html = sc.get("/commandes").get_data(as_text=True)
    assert 'data-hx-get="/commandes" data-hx-target="#results" data-hx-push-url="true"' in html
    boosted = 'data-hx-boost="true" data-hx-target="#results" data-hx-push-url="true"'
    assert html.count(boosted) == 2  # tabs and pager
    assert '<label for="q">Rechercher une commande</label>' in html


def test_buyer_text_is_escaped_in_the_list(sc: SellerClient, make_order: Make) -> None:
    make_order(buyer_name="<script>alert(1)</script>")
    html = sc.get("/commandes").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    fragment = sc.get("/commandes?q=%3Cscript", htmx=True).get_data(as_text=True)
    assert "<script>alert" not in fragment
    assert "&lt;script&gt;" in fragment


def test_money_and_dates_are_french(sc: SellerClient, make_order: Make) -> None:
    make_order()
    html = sc.get("/commandes").get_data(as_text=True)
    assert "75,30\xa0€" in html
    assert "20/11/2026 à 10:30" in html  # 09:30 UTC is 10:30 in Paris in November


def row_of(html: str, order: Order) -> tuple[str, str]:
    """The link and the content of the order's row."""
    ref = f'<span class="ref">{order.reference}</span>'
    match = re.search(rf'<li><input type="checkbox" name="ref" value="{order.reference}" form="bulk" '
                      rf'aria-label="{order.reference}"><a href="([^"]+)">({ref}.*?)</a></li>', html)
    assert match, order.reference
    return match.group(1), match.group(2)


@pytest.mark.parametrize(("locale", "shown"), [
    ("fr", '<span class="badge b-awaiting_payment">En attente de paiement</span>'
           '<span class="who"><span class="vh">Client : </span>Camille Martin</span>'
           '<span class="items">3 articles</span><span class="amt">75,30\xa0€</span>'
           '<span class="when"><time datetime="2026-11-20T09:30:00Z">20/11/2026 à 10:30</time> '
           '<span class="age">aujourd\'hui</span></span>'),
    ("en", '<span class="badge b-awaiting_payment">Awaiting payment</span>'
           '<span class="who"><span class="vh">Buyer: </span>Camille Martin</span>'
           '<span class="items">3 items</span><span class="amt">€75.30</span>'
           '<span class="when"><time datetime="2026-11-20T09:30:00Z">11/20/2026 at 10:30</time> '
           '<span class="age">today</span></span>'),
])
def test_each_row_shows_the_order_and_leads_to_its_page(
    sc: SellerClient, seller: Seller, make_order: Make, locale: str, shown: str
) -> None:
    seller.locale = locale
    db.session.commit()
    order = make_order()
    for html in (sc.get("/commandes").get_data(as_text=True),
                 sc.get("/commandes?statut=a-encaisser", htmx=True).get_data(as_text=True)):
        href, content = row_of(html, order)
        assert re.fullmatch(f'<span class="ref">{order.reference}</span>{shown}', content), content
        assert href == f"/commandes/{order.reference}"
        assert order.reference in sc.get(href).get_data(as_text=True)


@pytest.mark.parametrize("value", ["UQ-2026-000001", "a_b.c~d", "a b", "é/ü?#&%", "100%", "<x>\"'", "&amp;"])
@pytest.mark.parametrize("script_root", ["", "/a&b"])
def test_row_links_are_those_url_for_builds_escaped(app: Any, value: str, script_root: str) -> None:
    with app.test_request_context(base_url=f"http://localhost{script_root}"):
        order_href = href_maker("seller.order_detail", "reference")
        assert order_href(value) == escape(url_for("seller.order_detail", reference=value))


@pytest.mark.parametrize("value", ["a-traiter", "a b", "é/ü?#&%=+", "100%", "<x>\"'", 7])
def test_list_links_are_those_url_for_builds(app: Any, value: Any) -> None:
    with app.test_request_context():
        list_url = query_url_maker("seller.orders")
        for args in ({"statut": "toutes", "q": value}, {"q": value, "debut": 26, "apres": None}, {}):
            assert list_url(**args) == url_for("seller.orders", **args), args


def _summary(html: str) -> str:
    match = re.search(r'<span class="summary">([^<]+)</span>', html)
    return match.group(1) if match else ""


@pytest.mark.parametrize(("locale", "first", "second"), [
    ("fr", "1–25 sur 28", "26–28 sur 28"), ("en", "1–25 of 28", "26–28 of 28")])
def test_the_pager_says_which_orders_of_how_many_are_shown(
    sc: SellerClient, seller: Seller, make_order: Make, locale: str, first: str, second: str
) -> None:
    seller.locale = locale
    db.session.commit()
    for _ in range(PER_PAGE + 3):
        make_order()
    page_one = sc.get("/commandes?statut=toutes").get_data(as_text=True)
    assert _summary(page_one) == first
    page_two = sc.get(_next_url(page_one)).get_data(as_text=True)
    assert _summary(page_two) == second
    # Back to the newer page, by its link, and the same page as an htmx fragment.
    assert _summary(sc.get(_prev_url(page_two)).get_data(as_text=True)) == first
    assert _summary(sc.get(_next_url(page_one), htmx=True).get_data(as_text=True)) == second
    # An address without the page's place (typed, or an old bookmark) shows the page alone.
    bare = re.sub(r"&debut=\d+|debut=\d+&?", "", _next_url(page_one))
    assert references(sc.get(bare).get_data(as_text=True)) == references(page_two)
    assert _summary(sc.get(bare).get_data(as_text=True)) == ""


def test_the_summary_counts_the_tab_and_says_when_its_count_is_a_lower_bound(
    sc: SellerClient, make_order: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(4):
        make_order()
    assert _summary(sc.get("/commandes?statut=a-encaisser").get_data(as_text=True)) == "1–4 sur 4"
    # A search counts its orders up to SEARCH_COUNT_CAP: past it, a lower bound.
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 3)
    assert _summary(sc.get("/commandes?statut=a-encaisser&q=Camille").get_data(as_text=True)) == "1–4 sur 4+"
    assert _summary(sc.get("/commandes?statut=expediees").get_data(as_text=True)) == ""  # no order
    # The bound counted from the search's first orders is below what the page shows: the page's.
    make_order()
    assert _summary(sc.get("/commandes?statut=a-encaisser&q=Camille").get_data(as_text=True)) == "1–5 sur 5+"


@pytest.mark.parametrize(("locale", "ages", "items"), [
    ("fr", ["il y a 3 j", "hier", "aujourd'hui"], ["1 article", "3 articles", "12 articles"]),
    ("en", ["3 d ago", "yesterday", "today"], ["1 item", "3 items", "12 items"])])
def test_each_row_says_how_old_the_order_is_and_how_many_items_it_holds(
    sc: SellerClient, seller: Seller, make_order: Make, clock: Any, locale: str, ages: list[str],
    items: list[str]
) -> None:
    seller.locale = locale
    db.session.commit()
    make_order(lines=(LineInput(sku="MUG-01", title="Mug", quantity=1, unit_price_cents=900),))
    clock.advance(days=2)
    make_order()
    clock.advance(days=1)
    make_order(lines=(
        LineInput(sku="MUG-01", title="Mug", quantity=5, unit_price_cents=900),
        LineInput(sku="BOL-02", title="Bol", quantity=7, unit_price_cents=700)))
    sc.stay_active()
    html = sc.get("/commandes").get_data(as_text=True)
    assert re.findall(r'<span class="age">([^<]+)</span>', html) == list(reversed(ages))
    assert re.findall(r'<span class="items">([^<]+)</span>', html) == list(reversed(items))
    # The next day, with no order changed, the ages have moved on.
    clock.advance(days=1)
    sc.stay_active()
    html = sc.get("/commandes").get_data(as_text=True)
    assert re.findall(r'<span class="age">([^<]+)</span>', html)[0] == ages[1]


@pytest.mark.parametrize(("locale", "names"), [
    ("fr", ["Commande", "Statut", "Client", "Articles", "Montant", "Date"]),
    ("en", ["Order", "Status", "Buyer", "Items", "Amount", "Date"])])
def test_the_list_names_its_columns(sc: SellerClient, seller: Seller, make_order: Make, locale: str,
                                    names: list[str]) -> None:
    seller.locale = locale
    db.session.commit()
    make_order()
    for html in (sc.get("/commandes").get_data(as_text=True),
                 sc.get("/commandes?statut=toutes", htmx=True).get_data(as_text=True)):
        head = re.search(r'<div class="orders-head" aria-hidden="true">(.*?)</div>', html)
        assert head and re.findall(r">([^<]+)</span>", head.group(1)) == names
    # No order, no columns.
    assert "orders-head" not in sc.get("/commandes?statut=annulees").get_data(as_text=True)
