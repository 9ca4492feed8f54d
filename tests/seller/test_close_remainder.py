"""« Clore le reste » on the order page: with htmx and as a plain form, its refusals, and how the
closed quantities show (page, slip, buyer's page)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from tests.seller.test_actions import PARTIAL_BUDGET, fresh, lines_of, url
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, OutboxEmail
from uniqu3.tokens import order_token

from .conftest import SellerClient

Make = Callable[..., Order]


def closed_cell(html: str) -> list[str]:
    return re.findall(r'<td class="closed">(\d+)</td>', html)


def test_the_panel_shows_on_an_order_with_something_left_and_not_otherwise(
        sc: SellerClient, order_in: Make) -> None:
    for status, shown in ((OrderStatus.AWAITING_PAYMENT, False), (OrderStatus.PAID, True),
                          (OrderStatus.PARTIALLY_SHIPPED, True), (OrderStatus.SHIPPED, False),
                          (OrderStatus.CANCELLED, False)):
        order = order_in(status)
        page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
        assert ("<summary>Clore le reste</summary>" in page) is shown, status


def test_close_with_htmx_swaps_the_lines_status_and_history(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)  # the bag shipped, the card left
    _, card = lines_of(order)
    response = sc.post(url(order, "cloture"), {f"close_{card}": "1", "reason": "Rupture de stock",
                                               "request_key": str(uuid.uuid4())}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(response.data) <= PARTIAL_BUDGET
    assert 'class="badge b-shipped" data-hx-swap-oob="true">Expédiée<' in html
    assert '<section id="lines" class="card" data-hx-swap-oob="true">' in html
    assert closed_cell(html) == ["1"]
    assert "Reste clos : CARD-01 × 1 ne seront pas expédiés" in html
    assert "Reste clos : le client en est informé par e-mail." in html
    assert "<summary>Clore le reste</summary>" not in html  # nothing left to close
    # All is shipped now: parcel 1's receipt button moves to « Prochaine étape ».
    assert '<p id="reception-1" class="hint" data-hx-swap-oob="true">' in html
    assert '<p id="ask-1">' in html.split('<section id="next"')[1].split("</section>")[0]
    order = fresh(order)
    assert order.status == OrderStatus.SHIPPED
    assert db.session.query(OutboxEmail).filter_by(kind="C1", order_id=order.id).count() == 1
    # The buyer's page no longer announces the card as coming.
    buyer = sc.client.get(f"/o/{order_token(order.id)}").get_data(as_text=True)
    assert "CARD-01" in buyer and "À venir" not in buyer


def test_close_without_javascript_then_the_page_and_slip(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    response = sc.post(url(order, "cloture"), {f"close_{bag}": "1", f"close_{card}": "0",
                                               "reason": "Un seul sac en stock"})
    assert response.status_code == 303
    page = sc.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reste clos : le client en est informé par e-mail." in page  # the flash message
    assert '<abbr title="Clos : ne sera pas expédié">Clos</abbr>' in page
    assert closed_cell(page) == ["1"]
    assert fresh(order).status == OrderStatus.PAID
    # The slip lists what is left to prepare: one bag and the card, not the closed bag.
    slip = sc.get(f"/commandes/{order.reference}/preparation").get_data(as_text=True)
    assert re.findall(r'<td class="qty-big">(\d+)</td>', slip) == ["1", "1"]


def test_closing_everything_before_a_parcel_cancels_the_order(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    response = sc.post(url(order, "cloture"), {f"close_{bag}": "2", f"close_{card}": "1",
                                               "reason": "Atelier fermé"}, htmx=True)
    html = response.get_data(as_text=True)
    assert 'class="badge b-cancelled" data-hx-swap-oob="true">Annulée<' in html
    assert "Reste clos, rien n&#39;étant expédié : commande annulée." in html
    assert fresh(order).status == OrderStatus.CANCELLED


def test_closing_more_than_is_left_is_refused_next_to_its_line(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    for htmx in (True, False):
        response = sc.post(url(order, "cloture"), {f"close_{bag}": "5", f"close_{card}": "0",
                                                   "reason": "Rupture"}, htmx=htmx)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert (f'<p class="error" id="close_{bag}-err">Il reste 2 articles à expédier pour cette ligne.</p>'
                in html)
        assert f'id="close_{bag}" name="close_{bag}" type="number" min="0" max="2" value="5"' in html
        assert '<details id="close" class="cancel" open>' in html
        assert "Rupture</textarea>" in html
    assert fresh(order).lines[0].closed_quantity == 0


def test_closing_nothing_or_without_a_reason_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    nothing = sc.post(url(order, "cloture"), {f"close_{bag}": "0", f"close_{card}": "0", "reason": "x"},
                      htmx=True)
    assert nothing.status_code == 422
    assert "Choisissez au moins un article à clore, avec sa quantité." in nothing.get_data(as_text=True)
    no_reason = sc.post(url(order, "cloture"), {f"close_{bag}": "1", "reason": " "})
    assert no_reason.status_code == 422
    page = no_reason.get_data(as_text=True).replace("&#39;", "'")
    assert ('<p class="error" id="close_reason-err">Indiquez le motif : le client le lira dans l\'e-mail.</p>'
            in page)
    not_a_number = sc.post(url(order, "cloture"), {f"close_{bag}": "deux", "reason": "x"}, htmx=True)
    assert not_a_number.status_code == 422
    assert "Quantité invalide : un nombre entier est attendu." in not_a_number.get_data(as_text=True)
    order = fresh(order)
    assert [line.closed_quantity for line in order.lines] == [0, 0]
    assert db.session.query(OutboxEmail).filter_by(kind="C1", order_id=order.id).count() == 0


def test_closing_an_unpaid_order_is_refused_with_the_reason(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.AWAITING_PAYMENT)
    bag, _ = lines_of(order)
    response = sc.post(url(order, "cloture"), {f"close_{bag}": "1", "reason": "x"}, htmx=True)
    assert response.status_code == 422
    assert "Le paiement n&#39;est pas confirmé : rien n&#39;est à clore." in response.get_data(as_text=True)
    assert fresh(order).status == OrderStatus.AWAITING_PAYMENT


def test_someone_elses_order_cannot_be_closed(sc: SellerClient, order_in: Make,
                                              make_seller: Callable[..., object]) -> None:
    other = make_seller("autre@example.fr", shop_name="Autre")
    theirs = order_in(OrderStatus.PAID, other)
    bag, _ = lines_of(theirs)
    assert sc.post(url(theirs, "cloture"), {f"close_{bag}": "1", "reason": "x"}).status_code == 404
    assert fresh(theirs).lines[0].closed_quantity == 0


def test_after_an_action_the_close_form_is_fetched_when_its_panel_opens(
        sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    form = {f"qty_{bag}": "1", f"qty_{card}": "0", "carrier": "colissimo", "tracking_number": "6A12345678901"}
    html = sc.post(url(order, "expedition"), form, htmx=True).get_data(as_text=True)
    # The answer has the closed panel, not its form (the answer stays small).
    assert (f'<details id="close" class="cancel" data-hx-get="/commandes/{order.reference}/cloture" '
            'data-hx-trigger="toggle once" data-hx-target="this" data-hx-swap="beforeend">') in html
    assert 'name="close_' not in html
    form = sc.get(url(order, "cloture"), htmx=True).get_data(as_text=True)
    assert form.lstrip().startswith("<form") and f'name="close_{bag}"' in form and 'max="1"' in form
    plain = sc.get(url(order, "cloture"))  # no JavaScript: the order page, at the panel
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"/{order.reference}#close")
    sc.post(url(order, "cloture"), {f"close_{bag}": "1", f"close_{card}": "1", "reason": "Rupture"})
    assert sc.get(url(order, "cloture"), htmx=True).get_data(as_text=True) == ""  # nothing left to close
