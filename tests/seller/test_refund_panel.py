"""The money on the order page: the refund due after a cancellation or a closure, « Remboursement
effectué » with htmx and as a plain form, its refusals, the cancel panel's warning, and the
« À rembourser » tab."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.seller.test_actions import PARTIAL_BUDGET, fresh, url
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, OutboxEmail, Refund, Seller
from uniqu3.workflow import Actor, Workflow

from .conftest import SellerClient

Make = Callable[..., Order]
SELLER = Actor.seller("atelier@example.fr")


def refunds_of(order: Order) -> list[tuple[int, str, str]]:
    db.session.expire_all()
    return [(r.amount_cents, r.method, r.reference) for r in
            db.session.query(Refund).filter_by(order_id=order.id).order_by(Refund.id)]


def cancelled_paid(order_in: Make, wf: Workflow) -> Order:
    order = order_in(OrderStatus.PAID)
    wf.cancel(order.id, actor=SELLER, reason="Rupture")
    return order


def flat(html: str) -> str:
    return " ".join(html.replace("&#39;", "'").replace("\xa0", " ").replace("\u202f", " ").split())


def test_the_cancel_panel_of_a_paid_order_says_a_refund_will_be_due(sc: SellerClient, order_in: Make) -> None:
    paid = flat(sc.get(f"/commandes/{order_in(OrderStatus.PAID).reference}").get_data(as_text=True))
    assert "Le paiement est déjà reçu : 75,30 € seront à rembourser au client." in paid
    unpaid_order = order_in(OrderStatus.AWAITING_PAYMENT)
    unpaid = flat(sc.get(f"/commandes/{unpaid_order.reference}").get_data(as_text=True))
    assert "seront à rembourser" not in unpaid


def test_a_cancelled_paid_order_shows_the_refund_due(sc: SellerClient, order_in: Make, wf: Workflow) -> None:
    order = cancelled_paid(order_in, wf)
    page = flat(sc.get(f"/commandes/{order.reference}").get_data(as_text=True))
    assert "Commande annulée : le paiement reçu est à rembourser au client." in page
    assert "À rembourser au client</dt><dd>75,30 €" in page
    assert 'Reste à rembourser</dt><dd class="due">75,30 €' in page
    assert 'name="amount" inputmode="decimal" autocomplete="off" maxlength="20" value="75,30"' in page


def test_record_a_refund_with_htmx_then_the_rest_without_javascript(
        sc: SellerClient, order_in: Make, wf: Workflow) -> None:
    order = cancelled_paid(order_in, wf)
    response = sc.post(url(order, "remboursement"), {"amount": "25,30", "method": "paypal",
                                                     "reference": "PP-42", "note": ""}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(response.data) <= PARTIAL_BUDGET
    assert html.lstrip().startswith('<section id="payment" class="card">')
    shown = flat(html)
    assert "Déjà remboursé</dt><dd>25,30 €" in shown
    assert 'Reste à rembourser</dt><dd class="due">50,00 €' in shown
    assert "PayPal · réf. PP-42" in shown
    assert "Remboursement enregistré : le client en est informé par e-mail." in shown
    assert "Remboursement de 25,30 € enregistré (PayPal) ; reste à rembourser : 50,00 €." in shown
    response = sc.post(url(order, "remboursement"), {"amount": "50", "method": "transfer"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#payment")
    page = flat(sc.get(response.headers["Location"]).get_data(as_text=True))
    assert "Tout est remboursé." in page and "Remboursement effectué</button>" not in page
    assert "le paiement reçu est à rembourser" not in page
    assert refunds_of(order) == [(2530, "paypal", "PP-42"), (5000, "transfer", "")]
    assert fresh(order).refund_due_cents == 0
    assert db.session.query(OutboxEmail).filter_by(kind="R1", order_id=order.id).count() == 2


def test_after_an_action_the_refund_form_is_fetched_on_its_own(
        sc: SellerClient, order_in: Make, wf: Workflow) -> None:
    order = order_in(OrderStatus.PAID)
    html = sc.post(url(order, "annulation"), {"reason": "Rupture"}, htmx=True).get_data(as_text=True)
    # The answer says what is due and where the form comes from, not the whole form.
    assert 'Reste à rembourser</dt><dd class="due">75,30' in html
    assert f'data-hx-get="/commandes/{order.reference}/remboursement" data-hx-trigger="load"' in html
    assert 'name="amount"' not in html
    form = sc.get(url(order, "remboursement"), htmx=True).get_data(as_text=True)
    assert form.lstrip().startswith("<form") and 'name="amount"' in form and 'value="75,30"' in form
    plain = sc.get(url(order, "remboursement"))  # no JavaScript: the order page, at its card
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"/{order.reference}#payment")
    sc.post(url(order, "remboursement"), {"amount": "75,30", "method": "transfer"})
    assert sc.get(url(order, "remboursement"), htmx=True).get_data(as_text=True) == ""  # nothing due


def test_refusals_keep_the_input_and_say_why(sc: SellerClient, order_in: Make, wf: Workflow) -> None:
    order = cancelled_paid(order_in, wf)
    cases = [
        ({"amount": "80", "method": "transfer"},
         "Le montant dépasse ce qui reste à rembourser : 75,30 € au plus."),
        ({"amount": "0", "method": "transfer"}, "Le montant remboursé doit être supérieur à 0."),
        ({"amount": "-5", "method": "transfer"}, "Montant invalide : par exemple 12,50."),
        ({"amount": "douze", "method": "transfer"}, "Montant invalide : par exemple 12,50."),
        ({"amount": "12,505", "method": "transfer"}, "Montant invalide : par exemple 12,50."),
        ({"amount": "10", "method": "troc"}, "Choisissez le moyen de remboursement dans la liste."),
    ]
    for form, message in cases:
        for htmx in (True, False):
            response = sc.post(url(order, "remboursement"), {**form, "reference": "REF-9"}, htmx=htmx)
            assert response.status_code == 422, (form, htmx)
            shown = flat(response.get_data(as_text=True))
            assert message in shown, (form, htmx)
            assert 'value="REF-9"' in shown  # the seller's input is kept
            if htmx:
                assert shown.startswith('<section id="payment" class="card">')
    assert refunds_of(order) == []
    assert fresh(order).refund_due_cents == 7530


def test_nothing_to_refund_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    response = sc.post(url(order, "remboursement"), {"amount": "1", "method": "cash"}, htmx=True)
    assert response.status_code == 422
    assert "Rien n'est à rembourser sur cette commande" in flat(response.get_data(as_text=True))
    assert refunds_of(order) == []


def test_someone_elses_order_cannot_be_refunded(sc: SellerClient, order_in: Make, wf: Workflow,
                                               make_seller: Callable[..., object]) -> None:
    other = make_seller("autre@example.fr", shop_name="Autre")
    theirs = order_in(OrderStatus.PAID, other)
    wf.cancel(theirs.id, actor=SELLER)
    assert sc.post(url(theirs, "remboursement"), {"amount": "1", "method": "cash"}).status_code == 404
    assert refunds_of(theirs) == []


def test_the_to_refund_tab_lists_the_orders_that_owe_money(sc: SellerClient, order_in: Make,
                                                           wf: Workflow) -> None:
    owing = cancelled_paid(order_in, wf)
    done = cancelled_paid(order_in, wf)
    wf.record_refund(done.id, actor=SELLER, amount_cents=7530, method="transfer")
    order_in(OrderStatus.CANCELLED)  # unpaid: owes nothing
    order_in(OrderStatus.PAID)
    home = sc.get("/commandes").get_data(as_text=True)
    assert re.search(r'href="/commandes\?statut=a-rembourser">À rembourser <span class="count">1</span>',
                     home)
    tab = sc.get("/commandes?statut=a-rembourser").get_data(as_text=True)
    assert re.findall(r'<span class="ref">([^<]+)</span>', tab) == [owing.reference]


def test_a_lost_parcel_owes_its_items_until_shipped_again_with_htmx(
        sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.SHIPPED)  # parcel 1: the two bags (69,80 €), parcel 2: the card
    response = sc.post(url(order, "colis/1/perdu"), htmx=True)
    assert response.status_code == 200 and len(response.data) <= PARTIAL_BUDGET
    shown = flat(response.get_data(as_text=True))
    # The parcel is the part swapped; « Prochaine étape » (the ship form is back) and the payment
    # card come out of band.
    assert shown.startswith('<li id="colis-1" class="parcel">')
    assert re.search(r'<section id="next" [^>]*data-hx-swap-oob="true"', shown)
    assert '<section id="payment" class="card" data-hx-swap-oob="true">' in shown
    assert "À rembourser au client</dt><dd>69,80 € <small>(dont articles perdus : 69,80 €" in shown
    assert 'Reste à rembourser</dt><dd class="due">69,80 €' in shown
    assert fresh(order).refund_due_cents == 6980
    # The refund form comes on its own (the answer stays small); without htmx, the order page.
    assert f'id="refund-slot" data-hx-get="/commandes/{order.reference}/remboursement"' in shown
    form = sc.get(url(order, "remboursement"), htmx=True)
    assert form.status_code == 200 and len(form.data) <= PARTIAL_BUDGET
    assert 'value="69,80"' in form.get_data(as_text=True)
    assert "Remboursement effectué</button>" in form.get_data(as_text=True)
    plain = sc.get(url(order, "remboursement"))
    assert plain.status_code in (302, 303) and plain.headers["Location"].endswith("#payment")
    tab = sc.get("/commandes?statut=a-rembourser").get_data(as_text=True)
    assert re.findall(r'<span class="ref">([^<]+)</span>', tab) == [order.reference]
    # Shipped again: nothing is owed any more, the card says so at once.
    bags = next(line for line in fresh(order).lines if line.sku == "BAG-RED-01")
    response = sc.post(url(order, "expedition"), {
        f"qty_{bags.id}": "2", "carrier": "colissimo", "tracking_number": "6A99999999999",
        "shipped_on": "2026-11-20", "request_key": "again-1"}, htmx=True)
    assert response.status_code == 200 and len(response.data) <= PARTIAL_BUDGET
    shown = flat(response.get_data(as_text=True))
    assert '<section id="payment" class="card" data-hx-swap-oob="true">' in shown
    assert "À rembourser au client" not in shown
    assert fresh(order).refund_due_cents == 0
    assert sc.get(url(order, "remboursement"), htmx=True).get_data(as_text=True) == ""
    tab = sc.get("/commandes?statut=a-rembourser").get_data(as_text=True)
    assert re.findall(r'<span class="ref">([^<]+)</span>', tab) == []


def test_lost_items_refunded_are_refused_for_shipping_then_closed_without_javascript(
        sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.SHIPPED)
    assert sc.post(url(order, "colis/1/perdu")).status_code == 303
    assert sc.post(url(order, "remboursement"), {"amount": "69,80", "method": "transfer"}).status_code == 303
    bags = next(line for line in fresh(order).lines if line.sku == "BAG-RED-01")
    form = {f"qty_{bags.id}": "1", "carrier": "colissimo", "tracking_number": "6A99999999999",
            "shipped_on": "2026-11-20", "request_key": "again-2"}
    message = ("Le client a déjà été remboursé de 69,80 € pour les articles perdus : ils ne peuvent plus "
               "être expédiés. Retirez-les de ce qui reste à expédier avec « Clore le reste ».")
    for htmx in (False, True):
        response = sc.post(url(order, "expedition"), form, htmx=htmx)
        assert response.status_code == 422, htmx
        assert message in flat(response.get_data(as_text=True)), htmx
    assert [s.status for s in fresh(order).shipments] == ["lost", "shipped"]
    closed = sc.post(url(order, "cloture"), {f"close_{bags.id}": "2", "reason": "Remboursé"})
    assert closed.status_code == 303
    order = fresh(order)
    assert (order.status, order.refund_due_cents) == (OrderStatus.SHIPPED, 0)
    page = flat(sc.get(f"/commandes/{order.reference}").get_data(as_text=True))
    assert "À rembourser au client</dt><dd>69,80 €" in page and "Tout est remboursé." in page


def test_a_refusal_speaks_english_amounts_on_an_english_page(
        sc: SellerClient, seller: Seller, order_in: Make, wf: Workflow) -> None:
    seller.locale = "en"
    db.session.commit()
    order = cancelled_paid(order_in, wf)
    for htmx in (True, False):
        response = sc.post(url(order, "remboursement"), {"amount": "80", "method": "transfer"}, htmx=htmx)
        assert response.status_code == 422
        shown = flat(response.get_data(as_text=True))
        assert "The amount is more than what is still to refund: €75.30 at most." in shown, htmx
        assert "75,30" not in shown.replace('value="75,30"', "")
    wf.record_refund(order.id, actor=SELLER, amount_cents=7530, method="transfer")
    response = sc.post(url(order, "remboursement"), {"amount": "1", "method": "transfer"}, htmx=True)
    assert "Everything that was to be refunded already is: €75.30." in flat(response.get_data(as_text=True))
