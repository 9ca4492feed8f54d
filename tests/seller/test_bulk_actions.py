"""The selection in « Commandes »: confirm payments, print the slips, activate the receipt
confirmations of many orders, as a plain form and with htmx; refusals per order and for the
whole selection (empty, too many, another seller's order, no CSRF token)."""

from __future__ import annotations

import html as entities
import re
from collections.abc import Callable

from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OrderStatus, OutboxEmail, Seller, Shipment, ShipmentStatus
from uniqu3.workflow import bulk

from .conftest import SellerClient

Make = Callable[..., Order]
URL = "/commandes/selection"


def status_of(order: Order) -> str:
    db.session.expire_all()
    found = db.session.get(Order, order.id)
    assert found is not None
    return found.status


def summary_line(html: str, reference: str) -> str:
    """The summary's line of one reference, as text."""
    match = re.search(rf'<li class="o-\w+"><a href="[^"]+">{reference}</a> :(.*?)</li>', html, re.S)
    assert match, f"no summary line for {reference}"
    return " ".join(entities.unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())


def test_the_list_has_a_box_per_row_and_select_all_for_the_page(sc: SellerClient, make_order: Make) -> None:
    first, second = make_order(), make_order()
    html = sc.get("/commandes?statut=a-encaisser").get_data(as_text=True)
    assert '<form id="bulk" method="post" action="/commandes/selection">' in html
    for order in (first, second):
        assert (f'<input type="checkbox" name="ref" value="{order.reference}" form="bulk" '
                f'aria-label="{order.reference}">') in html
    # Without JavaScript « Tout sélectionner » sends the page's references itself.
    assert (f'name="tout" value="{second.reference} {first.reference}" form="bulk" data-select-all>'
            in html)
    assert '<input type="hidden" name="statut" value="a-encaisser" form="bulk">' in html


def test_confirm_payments_of_the_selection_as_a_plain_form(
    sc: SellerClient, order_in: Callable[..., Order]
) -> None:
    waiting = order_in(OrderStatus.AWAITING_PAYMENT)
    paid = order_in(OrderStatus.PAID)
    cancelled = order_in(OrderStatus.CANCELLED)
    response = sc.post(URL, {"action": "paiements", "statut": "a-encaisser",
                             "ref": [waiting.reference, paid.reference, cancelled.reference]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Commandes</h1>" in html  # the whole page, the list under the summary
    assert "Fait : 1 · Déjà fait : 1 · Refusé : 1" in html
    assert summary_line(html, waiting.reference) == "paiement confirmé, le client est informé par e-mail"
    assert summary_line(html, paid.reference) == "déjà fait"
    assert summary_line(html, cancelled.reference) == (
        "refusé — Cette commande est annulée : son paiement ne peut plus être confirmé.")
    assert status_of(waiting) == OrderStatus.PAID
    assert status_of(cancelled) == OrderStatus.CANCELLED
    # The list shown is the tab the seller was on, now without the paid order.
    assert 'aria-current="page">À encaisser <span class="count">0</span>' in html
    assert db.session.query(OutboxEmail).filter_by(kind="E3", order_id=waiting.id).count() == 1


def test_a_second_identical_post_does_nothing_twice(sc: SellerClient, make_order: Make) -> None:
    orders = [make_order() for _ in range(3)]
    form = {"action": "paiements", "ref": [o.reference for o in orders]}
    assert "Fait : 3 · Déjà fait : 0" in sc.post(URL, form).get_data(as_text=True)
    again = sc.post(URL, form).get_data(as_text=True)
    assert "Fait : 0 · Déjà fait : 3 · Refusé : 0" in again
    for order in orders:
        assert summary_line(again, order.reference) == "déjà fait"
        events = db.session.query(OrderEvent).filter_by(order_id=order.id, kind="payment_confirmed")
        assert events.count() == 1
        assert db.session.query(OutboxEmail).filter_by(kind="E3", order_id=order.id).count() == 1


def test_with_htmx_the_results_come_back_with_the_summary(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    response = sc.post(URL, {"action": "paiements", "ref": order.reference, "statut": "a-expedier"},
                       htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>" not in html and html.lstrip().startswith('<section class="bulk-summary card"')
    assert "Fait : 1 · Déjà fait : 0 · Refusé : 0" in html
    assert 'aria-current="page">À expédier <span class="count">1</span>' in html
    assert f'value="{order.reference}" form="bulk"' in html


def test_select_all_without_javascript_acts_on_the_page(sc: SellerClient, make_order: Make) -> None:
    orders = [make_order() for _ in range(3)]
    page = " ".join(o.reference for o in orders)
    form = {"action": "paiements", "tout": page, "ref": orders[0].reference}
    html = sc.post(URL, form).get_data(as_text=True)
    assert "Fait : 3 · Déjà fait : 0 · Refusé : 0" in html
    assert all(status_of(o) == OrderStatus.PAID for o in orders)


def test_activate_receipt_confirmation_of_every_shipped_parcel(
    sc: SellerClient, order_in: Callable[..., Order]
) -> None:
    shipped = order_in(OrderStatus.SHIPPED)  # two parcels
    partly = order_in(OrderStatus.PARTIALLY_SHIPPED)
    paid = order_in(OrderStatus.PAID)
    received = order_in(OrderStatus.RECEIVED)
    refs = [shipped.reference, partly.reference, paid.reference, received.reference]
    html = sc.post(URL, {"action": "reception", "ref": refs}).get_data(as_text=True)
    assert "Fait : 2 · Déjà fait : 1 · Refusé : 1" in html
    assert summary_line(html, shipped.reference) == (
        "confirmation activée pour 2 colis, le client reçoit la demande par e-mail")
    assert summary_line(html, partly.reference).startswith("confirmation activée pour 1 colis")
    assert summary_line(html, received.reference) == "déjà fait"
    assert summary_line(html, paid.reference) == (
        "refusé — Aucun colis n'est expédié pour cette commande : rien à confirmer.")
    statuses = db.session.query(Shipment.status).filter(Shipment.order_id.in_([shipped.id, partly.id])).all()
    assert {s for (s,) in statuses} == {ShipmentStatus.AWAITING_RECEIPT}
    assert db.session.query(OutboxEmail).filter_by(kind="E5", order_id=shipped.id).count() == 2
    again = sc.post(URL, {"action": "reception", "ref": refs}).get_data(as_text=True)
    assert "Fait : 0 · Déjà fait : 3 · Refusé : 1" in again
    assert db.session.query(OutboxEmail).filter_by(kind="E5", order_id=shipped.id).count() == 2


def test_print_the_slips_of_the_selection_as_one_document(
    sc: SellerClient, order_in: Callable[..., Order]
) -> None:
    first, second = order_in(OrderStatus.PAID), order_in(OrderStatus.AWAITING_PAYMENT)
    response = sc.post(URL, {"action": "bons", "ref": [second.reference, first.reference]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Bons de préparation : 2 commandes" in html
    assert html.count('<article class="slip">') == 2
    # In the order of the selection, each with its own lines and warnings.
    assert html.index(f"<h2>Bon de préparation {second.reference}</h2>") < html.index(
        f"<h2>Bon de préparation {first.reference}</h2>")
    assert html.count("Attention : le paiement n'est pas encore confirmé.") == 1
    assert html.count("BAG-RED-01") == 2
    assert status_of(first) == OrderStatus.PAID and status_of(second) == OrderStatus.AWAITING_PAYMENT


def test_the_single_slip_keeps_its_page(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    html = sc.get(f"/commandes/{order.reference}/preparation").get_data(as_text=True)
    assert "<h1>Bon de préparation</h1>" in html and "<h2>Livrer à</h2>" in html


def test_another_sellers_reference_is_refused_like_a_404_and_nothing_is_done(
    sc: SellerClient, make_order: Make, make_seller: Callable[..., Seller]
) -> None:
    mine = make_order()
    theirs = make_order(make_seller("autre@example.fr"))
    for action in ("paiements", "reception", "bons"):
        response = sc.post(URL, {"action": action, "ref": [mine.reference, theirs.reference]})
        assert response.status_code == 404
        assert theirs.reference not in response.get_data(as_text=True)
        unknown = sc.post(URL, {"action": action, "ref": [mine.reference, "UQ-2026-999999"]})
        assert unknown.status_code == 404
    assert status_of(mine) == OrderStatus.AWAITING_PAYMENT
    assert status_of(theirs) == OrderStatus.AWAITING_PAYMENT


def test_an_empty_selection_is_refused_with_the_list(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    response = sc.post(URL, {"action": "paiements"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Sélectionnez au moins une commande." in html and order.reference in html
    fragment = sc.post(URL, {"action": "paiements"}, htmx=True)
    assert fragment.status_code == 422
    assert "Sélectionnez au moins une commande." in fragment.get_data(as_text=True)


def test_over_the_bound_nothing_is_done(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    refs = [order.reference] + [f"UQ-2026-{n:06d}" for n in range(500_000, 500_000 + bulk.MAX_ORDERS)]
    response = sc.post(URL, {"action": "paiements", "ref": refs})
    assert response.status_code == 422
    assert "100 commandes au plus par action : 101 sont sélectionnées." in response.get_data(as_text=True)
    assert status_of(order) == OrderStatus.AWAITING_PAYMENT


def test_an_unknown_action_and_a_missing_csrf_token_are_refused(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    assert sc.post(URL, {"action": "supprimer", "ref": order.reference}).status_code == 400
    assert sc.post(URL, {"action": "paiements", "ref": order.reference}, csrf=False).status_code == 400
    assert sc.post(URL, {"action": "paiements", "ref": order.reference}, htmx=True,
                   csrf=False).status_code == 400
    assert status_of(order) == OrderStatus.AWAITING_PAYMENT
