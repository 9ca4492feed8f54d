"""A parcel in problem on the seller's side: the « Problèmes » tab, the report on the order page,
and the three answers (a message, « Relancer la confirmation », « Colis perdu »), with htmx and
as plain form posts."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, OutboxEmail, Seller, Shipment
from uniqu3.workflow import Workflow

from .conftest import SellerClient
from .test_actions import PARTIAL_BUDGET, fresh, url
from .test_orders_list import references, tab_counts

Make = Callable[..., Order]


@pytest.fixture
def reported(order_in: Make, wf: Workflow) -> Order:
    """A shipped order whose first parcel the buyer reported as not received."""
    order = order_in(OrderStatus.SHIPPED)
    first = sorted(order.shipments, key=lambda s: s.number)[0]
    wf.request_receipt(first.id, actor=_seller())
    wf.report_problem(first.id, reason="not_received", message="Rien dans ma boîte <b>aux lettres</b>.",
                      ip="203.0.113.50", user_agent="Firefox/140")
    return fresh(order)


def _seller() -> object:
    from uniqu3.workflow import Actor
    return Actor.seller("atelier@example.fr")


def emails(kind: str) -> int:
    return db.session.query(OutboxEmail).filter_by(kind=kind).count()


def test_the_problems_tab_counts_and_lists_the_orders_that_need_an_answer(
        sc: SellerClient, reported: Order, order_in: Make, make_seller: Callable[..., Seller],
        wf: Workflow) -> None:
    calm = order_in(OrderStatus.SHIPPED)
    other = order_in(OrderStatus.SHIPPED, owner=make_seller("autre@example.fr"))
    wf.report_problem(other.shipments[0].id, reason="damaged", message="x")  # another seller's
    html = sc.get("/commandes").get_data(as_text=True)
    assert tab_counts(html)["problemes"] == "1" and "Problèmes" in html
    assert "Problème signalé : à traiter" in html and 'class="needs-action"' in html
    tab = sc.get("/commandes?statut=problemes").get_data(as_text=True)
    assert references(tab) == [reported.reference]
    assert calm.reference not in tab
    # Answered: the order leaves the tab.
    wf.relaunch_receipt(reported.shipments[0].id, actor=_seller())
    assert references(sc.get("/commandes?statut=problemes").get_data(as_text=True)) == []
    assert tab_counts(sc.get("/commandes").get_data(as_text=True))["problemes"] == "0"


def test_the_order_page_shows_the_report_and_the_three_answers(sc: SellerClient, reported: Order) -> None:
    html = sc.get(f"/commandes/{reported.reference}").get_data(as_text=True)
    assert "Problème signalé" in html
    assert "la réception automatique est suspendue" in html
    assert "Rien dans ma boîte &lt;b&gt;aux lettres&lt;/b&gt;." in html
    assert "203.0.113.50" in html and "Firefox/140" in html
    for action in ("colis/1/message", "colis/1/relance", "colis/1/perdu"):
        assert f'action="/commandes/{reported.reference}/{action}"' in html
    assert "Relancer la confirmation" in html and "Colis perdu" in html
    assert "Le client a signalé un problème sur un colis" in html  # the next step says so
    assert "Le client signale un problème sur le colis n° 1 : Colis non reçu." in html  # history


def test_a_message_to_the_buyer_is_sent_once_and_kept(sc: SellerClient, reported: Order) -> None:
    page = sc.get(f"/commandes/{reported.reference}").get_data(as_text=True)
    key = re.search(r'name="request_key" value="([^"]+)"', page.split('id="colis-1"')[1]).group(1)
    form = {"message": "Je lance une enquête chez La Poste.", "request_key": key}
    response = sc.post(url(reported, "colis/1/message"), form, htmx=True)
    assert response.status_code == 200 and len(response.data) <= PARTIAL_BUDGET
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<li id="colis-1" class="parcel">')
    assert "Message envoyé au client par e-mail." in html
    assert "Message envoyé au client au sujet du colis n° 1." in html
    again = sc.post(url(reported, "colis/1/message"), form, htmx=True)
    assert "Ce message était déjà envoyé." in again.get_data(as_text=True)
    assert emails("P3") == 1


def test_an_empty_message_is_refused_next_to_its_field(sc: SellerClient, reported: Order) -> None:
    response = sc.post(url(reported, "colis/1/message"), {"message": "  "}, htmx=True)
    assert response.status_code == 422
    assert "Écrivez votre message au client." in response.get_data(as_text=True)
    assert emails("P3") == 0


def test_relaunch_sends_a_new_request_with_a_new_deadline(
        sc: SellerClient, reported: Order, clock: Clock) -> None:
    clock.advance(days=2)
    sc.stay_active()
    response = sc.post(url(reported, "colis/1/relance"), htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Confirmation relancée pour le colis n° 1" in html
    assert "reçu automatiquement le 29/11/2026 à 10:30" in html
    shipment = fresh(reported).shipments[0]
    assert shipment.status == "awaiting_receipt" and emails("E5") == 2
    again = sc.post(url(reported, "colis/1/relance"), htmx=True)
    assert "déjà relancée" in again.get_data(as_text=True) and emails("E5") == 2


def test_a_lost_parcel_can_be_shipped_again_without_javascript(sc: SellerClient, reported: Order) -> None:
    response = sc.post(url(reported, "colis/1/perdu"))
    assert response.status_code == 303 and response.headers["Location"].endswith("#colis-1")
    order = fresh(reported)
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert order.shipments[0].status == "lost" and emails("P4") == 1
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "Déclaré perdu le" in page and 'id="ship"' in page  # the ship form is back
    first = sorted(order.lines, key=lambda line: line.position)[0]
    shipped = sc.post(url(order, "expedition"), {
        f"qty_{first.id}": str(first.quantity), "carrier": "colissimo", "tracking_number": "6A99999999999",
        "shipped_on": "2026-11-20", "request_key": "again-1"})
    assert shipped.status_code == 303
    order = fresh(order)
    assert [s.status for s in order.shipments] == ["lost", "shipped", "shipped"]
    assert order.status == OrderStatus.SHIPPED


def test_while_a_problem_waits_the_other_parcels_keep_their_own_receipt_button(
        sc: SellerClient, reported: Order) -> None:
    page = sc.get(f"/commandes/{reported.reference}").get_data(as_text=True)
    step = page.split('<section id="next"')[1].split("</section>")[0]
    assert "Le client a signalé un problème sur un colis" in step and "/reception" not in step
    parcel = page.split('<li id="colis-2"')[1].split("</li>")[0]
    assert '<form id="reception-2" method="post"' in parcel  # not a pointer to the step above
    assert "voir la prochaine étape" not in page


def test_a_relaunch_that_ends_the_problem_brings_the_receipt_buttons_to_the_next_step(
        sc: SellerClient, reported: Order) -> None:
    response = sc.post(url(reported, "colis/1/relance"), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) <= PARTIAL_BUDGET
    assert html.lstrip().startswith('<li id="colis-1" class="parcel">')  # the parcel answered
    step = html.split('<section id="next"')[1].split("</section>")[0]
    assert 'data-hx-swap-oob="true"' in step and '<p id="ask-2">' in step
    assert '<p id="reception-2" class="hint" data-hx-swap-oob="true">' in html
    assert "autofocus" not in html  # the seller's focus stays in the parcel they answered


def test_a_lost_parcel_with_htmx_brings_the_ship_form_back_into_the_next_step(
        sc: SellerClient, reported: Order) -> None:
    response = sc.post(url(reported, "colis/1/perdu"), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) <= PARTIAL_BUDGET
    # The parcel is the part swapped in its place; « Prochaine étape » is updated where it is.
    assert html.lstrip().startswith('<li id="colis-1" class="parcel">')
    assert html.count('<section id="next"') == 1
    assert re.search(r'<section id="next" [^>]*data-hx-swap-oob="true">\s*<h2 id="next-h">Expédier</h2>',
                     html)
    assert 'id="ship-slot"' in html  # the form, with the quantities to ship again, fetched on its own
    assert '<form id="reception-2"' not in html  # parcel 2 keeps the button it had


def test_answers_on_a_parcel_without_a_problem_are_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.RECEIVED)
    for action in ("colis/1/relance", "colis/1/perdu"):
        response = sc.post(url(order, action), htmx=True)
        assert response.status_code == 422, action
    assert all(s.status == "received" for s in fresh(order).shipments)
    assert sc.post(url(order, "colis/9/perdu"), htmx=True).status_code == 404


def test_another_sellers_parcel_is_not_found(login: Callable[..., SellerClient], reported: Order,
                                             make_seller: Callable[..., Seller]) -> None:
    intruder = login(make_seller("autre@example.fr"))
    for action in ("colis/1/message", "colis/1/relance", "colis/1/perdu"):
        assert intruder.post(url(reported, action), {"message": "x"}, htmx=True).status_code == 404
    assert db.session.get(Shipment, reported.shipments[0].id).status == "problem"  # type: ignore[union-attr]
