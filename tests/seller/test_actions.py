"""The order page's actions, with htmx and as plain form posts, their refusals, and the CSRF guard."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OrderStatus, OutboxEmail, Seller, Shipment, ShipmentStatus
from uniqu3.workflow import Actor, LineInput, Workflow

from .conftest import SellerClient

Make = Callable[..., Order]
PARTIAL_BUDGET = 4 * 1024


def fresh(order: Order) -> Order:
    db.session.expire_all()
    refreshed = db.session.get(Order, order.id)
    assert refreshed is not None
    return refreshed


def lines_of(order: Order) -> tuple[int, int]:
    bag, card = sorted(order.lines, key=lambda line: line.position)
    return bag.id, card.id


def url(order: Order, action: str) -> str:
    return f"/commandes/{order.reference}/{action}"


# --------------------------------------------------------------------------- payment
def test_confirm_payment_with_htmx_swaps_the_step_badge_payment_and_history(
    sc: SellerClient, make_order: Make
) -> None:
    order = make_order()
    response = sc.post(url(order, "paiement"), {"note": "Virement 4471"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(response.data) <= PARTIAL_BUDGET
    assert html.lstrip().startswith('<section id="next"')
    assert '<span id="status" class="badge b-paid" data-hx-swap-oob="true">Payée</span>' in html
    assert '<section id="payment" class="card" data-hx-swap-oob="true">' in html
    assert "Note : Virement 4471" in html
    assert '<ol data-hx-swap-oob="beforeend:#history-list"><li>' in html
    assert html.count("<li>") == 1  # only the new event is appended
    assert "Paiement confirmé : le client en est informé par e-mail." in html
    # The ship form comes next, fetched on its own.
    assert f'data-hx-get="/commandes/{order.reference}/expedition" data-hx-trigger="load"' in html
    order = fresh(order)
    assert order.status == OrderStatus.PAID and order.payment_note == "Virement 4471"
    assert db.session.query(OutboxEmail).filter_by(kind="E3", order_id=order.id).count() == 1


def test_confirm_payment_without_javascript_redirects_with_a_message(sc: SellerClient,
                                                                     make_order: Make) -> None:
    order = make_order()
    response = sc.post(url(order, "paiement"), {"note": ""})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/commandes/{order.reference}"
    page = sc.get(response.headers["Location"]).get_data(as_text=True)
    assert "Paiement confirmé : le client en est informé par e-mail." in page
    assert fresh(order).status == OrderStatus.PAID


def test_confirming_twice_is_harmless(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    sc.post(url(order, "paiement"), htmx=True)
    again = sc.post(url(order, "paiement"), htmx=True)
    assert again.status_code == 200
    assert "Le paiement était déjà confirmé." in again.get_data(as_text=True)
    assert db.session.query(OrderEvent).filter_by(order_id=order.id, kind="payment_confirmed").count() == 1


def test_paying_a_cancelled_order_is_refused_with_the_reason(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.CANCELLED)
    for htmx in (True, False):
        response = sc.post(url(order, "paiement"), {"note": "gardée"}, htmx=htmx)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "Cette commande est annulée : son paiement ne peut plus être confirmé." in html
        assert ("<html" in html) is not htmx  # htmx: the part; plain post: the whole page
    assert fresh(order).paid_at is None


# --------------------------------------------------------------------------- shipping
def test_the_ship_form_fragment(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    response = sc.get(url(order, "expedition"), htmx=True)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="ship"')
    assert "Expédier ce colis" in html
    assert sc.get(url(order, "expedition")).headers["Location"].endswith("#next")
    done = order_in(OrderStatus.SHIPPED)
    assert sc.get(url(done, "expedition"), htmx=True).get_data(as_text=True) == ""


def test_ship_part_then_the_rest(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    first = sc.post(url(order, "expedition"), {
        f"qty_{bag}": "1", f"qty_{card}": "0", "carrier": "colissimo", "tracking_number": "6a 1234 5678 901",
        "shipped_on": "2026-11-20", "request_key": str(uuid.uuid4()),
    }, htmx=True)
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert len(first.data) <= PARTIAL_BUDGET
    assert 'class="badge b-partially_shipped" data-hx-swap-oob="true"' in html
    assert '<section id="lines" class="card" data-hx-swap-oob="true">' in html
    assert '<ol data-hx-swap-oob="beforeend:#shipment-list"><li id="colis-1" class="parcel">' in html
    assert '<p id="no-shipment" data-hx-swap-oob="delete"></p>' in html
    assert "Colis n° 1 expédié : le client reçoit le suivi par e-mail." in html
    assert "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901" in html

    second = sc.post(url(order, "expedition"), {
        f"qty_{bag}": "1", f"qty_{card}": "1", "carrier": "hand_delivery", "tracking_number": "",
        "request_key": str(uuid.uuid4()),
    }, htmx=True)
    assert second.status_code == 200
    html = second.get_data(as_text=True)
    assert 'class="badge b-shipped" data-hx-swap-oob="true">Expédiée<' in html
    assert 'id="no-shipment"' not in html
    assert "Tout est expédié" in html
    order = fresh(order)
    assert order.status == OrderStatus.SHIPPED
    assert [(s.number, s.carrier, s.tracking_number) for s in order.shipments] == [
        (1, "colissimo", "6A12345678901"), (2, "hand_delivery", "")]


def _receipt_buttons(html: str) -> dict[str, list[str]]:
    """The page's or answer's « Activer la confirmation de réception » forms, by where they are:
    « Prochaine étape » (from=next) or a parcel's own."""
    forms = re.findall(r"<form[^>]*/reception\".*?</form>", html, re.S)
    return {"next": [f for f in forms if 'name="from" value="next"' in f],
            "parcels": [f for f in forms if 'name="from" value="next"' not in f]}


def test_shipping_the_last_parcel_moves_every_receipt_button_to_the_next_step(
        sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    _bag, card = lines_of(order)
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert len(_receipt_buttons(page)["parcels"]) == 1  # parcel 1 carries its own while partly shipped
    response = sc.post(url(order, "expedition"), {f"qty_{card}": "1", "carrier": "colissimo",
                                                  "tracking_number": "6A12345678902"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) <= PARTIAL_BUDGET
    # Parcel 1's button gives way to a pointer; the step has both, the first one focused.
    assert re.search(r'<p id="reception-1" class="hint" data-hx-swap-oob="true"><a href="#next">'
                     r"Confirmation de réception à activer", html)
    buttons = _receipt_buttons(html)
    assert buttons["parcels"] == [] and len(buttons["next"]) == 2
    assert "autofocus" in buttons["next"][0] and html.count("autofocus") == 1
    assert '<p id="reception-2" class="hint">' in html  # in the new parcel itself
    # The whole page after it says the same: nothing is left behind the answer.
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert [len(found) for found in _receipt_buttons(page).values()] == [2, 0]
    assert "autofocus" not in page


def test_shipping_a_parcel_that_is_not_the_last_leaves_the_other_parcels_alone(
        sc: SellerClient, make_order: Make, wf: Workflow) -> None:
    lines = (LineInput("A", "Article A", 1, 100), LineInput("B", "Article B", 1, 100),
             LineInput("C", "Article C", 1, 100))
    order = make_order(lines=lines)
    seller = Actor.seller("atelier@example.fr")
    wf.confirm_payment(order.id, actor=seller)
    a, b, _c = sorted(order.lines, key=lambda line: line.position)
    wf.ship(order.id, actor=seller, quantities={a.id: 1}, carrier="colissimo",
            tracking_number="6A12345678901")
    form = {f"qty_{b.id}": "1", "carrier": "colissimo", "tracking_number": "6A12345678902"}
    html = sc.post(url(order, "expedition"), form, htmx=True).get_data(as_text=True)
    assert "Partiellement expédiée" in html
    assert 'id="reception-1"' not in html and "autofocus" not in html
    assert len(_receipt_buttons(html)["parcels"]) == 1  # the new parcel's own


def test_ship_without_javascript(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    response = sc.post(url(order, "expedition"), {
        f"qty_{bag}": "2", f"qty_{card}": "1", "carrier": "mondial_relay", "tracking_number": "12345678",
    })
    assert response.status_code == 303
    assert response.headers["Location"] == f"/commandes/{order.reference}#colis-1"
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "Colis n° 1 expédié : le client reçoit le suivi par e-mail." in page
    assert fresh(order).status == OrderStatus.SHIPPED


def test_a_double_submit_gives_the_same_parcel(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, _card = lines_of(order)
    form = {f"qty_{bag}": "1", "carrier": "colissimo", "tracking_number": "6A12345678901",
            "request_key": str(uuid.uuid4())}
    first = sc.post(url(order, "expedition"), form, htmx=True)
    second = sc.post(url(order, "expedition"), form, htmx=True)
    assert first.status_code == second.status_code == 200
    html = second.get_data(as_text=True)
    assert "Ce colis (n° 1) était déjà enregistré." in html
    assert 'data-hx-swap-oob="beforeend:#shipment-list"' not in html  # not shown twice
    assert '<section id="shipments" class="card" data-hx-swap-oob="true">' in html
    assert db.session.query(Shipment).filter_by(order_id=order.id).count() == 1
    plain = sc.post(url(order, "expedition"), form)
    assert plain.status_code == 303
    assert db.session.query(Shipment).filter_by(order_id=order.id).count() == 1


def _ship_refused(sc: SellerClient, order: Order, form: dict[str, str], htmx: bool = True) -> str:
    response = sc.post(url(order, "expedition"), form, htmx=htmx)
    assert response.status_code == 422
    assert db.session.query(Shipment).filter_by(order_id=order.id).count() == 0
    return response.get_data(as_text=True)


def test_over_quantity_is_refused_next_to_its_line_with_the_input_kept(sc: SellerClient,
                                                                        order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    html = _ship_refused(sc, order, {f"qty_{bag}": "3", f"qty_{card}": "1", "carrier": "colissimo",
                                     "tracking_number": "6A12345678901"})
    assert html.lstrip().startswith('<section id="next"')
    assert f'<p class="error" id="qty_{bag}-err">Il reste 2 articles à expédier pour cette ligne.</p>' in html
    assert re.search(rf'name="qty_{bag}" [^>]*value="3" aria-invalid="true" aria-describedby="qty_{bag}-err"',
                     html)
    assert 'value="6A12345678901"' in html
    assert "Le colis n&#39;a pas été enregistré : corrigez le champ signalé." in html
    assert fresh(order).status == OrderStatus.PAID


@pytest.mark.parametrize(("typed", "message"), [
    ("-1", "Une quantité ne peut pas être négative : 0 laisse cette ligne hors du colis."),
    ("\u22121", "Une quantité ne peut pas être négative : 0 laisse cette ligne hors du colis."),
    ("5", "Il reste 1 article à expédier pour cette ligne."),
    ("12345678901234", "Il reste 1 article à expédier pour cette ligne."),
])
def test_a_wrong_quantity_says_what_is_left(sc: SellerClient, order_in: Make, wf: Workflow,
                                           typed: str, message: str) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    wf.ship(order.id, actor=Actor.seller("atelier@example.fr"), quantities={bag: 1},
            carrier="hand_delivery")
    for htmx in (True, False):
        response = sc.post(url(order, "expedition"), {f"qty_{bag}": typed, f"qty_{card}": "0",
                                                      "carrier": "hand_delivery"}, htmx=htmx)
        assert response.status_code == 422
        html = response.get_data(as_text=True).replace("&#39;", "'")
        assert f'<p class="error" id="qty_{bag}-err">{message}</p>' in html
        assert "nombre entier" not in html and "entre 1 et" not in html
    assert len(fresh(order).shipments) == 1


def test_zero_lines_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    html = _ship_refused(sc, order, {f"qty_{bag}": "0", f"qty_{card}": "0", "carrier": "colissimo",
                                     "tracking_number": "6A12345678901"})
    assert "Sélectionnez au moins une référence à expédier, avec sa quantité." in html


def test_a_future_date_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, _card = lines_of(order)
    html = _ship_refused(sc, order, {f"qty_{bag}": "1", "carrier": "colissimo",
                                     "tracking_number": "6A12345678901", "shipped_on": "2026-11-21"})
    assert ('<p class="error" id="shipped_on-err">La date d&#39;expédition ne peut pas être dans le '
            "futur.</p>") in html
    assert 'value="2026-11-21" aria-invalid="true"' in html


def test_a_date_that_is_not_a_date_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, _card = lines_of(order)
    html = _ship_refused(sc, order, {f"qty_{bag}": "1", "carrier": "colissimo",
                                     "tracking_number": "6A12345678901", "shipped_on": "31/02/2026"})
    assert "Date d&#39;expédition invalide." in html


def test_a_quantity_that_is_not_a_number_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, _card = lines_of(order)
    html = _ship_refused(sc, order, {f"qty_{bag}": "deux", "carrier": "colissimo",
                                     "tracking_number": "6A12345678901"})
    assert f'id="qty_{bag}-err">Quantité invalide : un nombre entier est attendu.' in html


@pytest.mark.parametrize(("carrier", "number", "message"), [
    ("colissimo", "12", "ne ressemble pas à un numéro Colissimo"),
    ("colissimo", "", "Le numéro de suivi est obligatoire pour ce transporteur."),
    ("pigeon", "6A12345678901", "Choisissez un transporteur de la liste."),
])
def test_a_bad_tracking_number_or_carrier_is_refused(sc: SellerClient, order_in: Make, carrier: str,
                                                     number: str, message: str) -> None:
    order = order_in(OrderStatus.PAID)
    bag, _card = lines_of(order)
    html = _ship_refused(sc, order, {f"qty_{bag}": "1", "carrier": carrier, "tracking_number": number})
    assert message in html.replace("&#39;", "'")


def test_after_a_refusal_the_preview_follows_the_typed_number(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, _card = lines_of(order)
    refused_number = _ship_refused(sc, order, {f"qty_{bag}": "1", "carrier": "colissimo",
                                               "tracking_number": "12"}, htmx=False)
    preview = refused_number.split('id="tracking-preview"', 1)[1].split("</p>", 1)[0]
    assert "Saisissez le numéro" not in preview
    assert "Corrigez le numéro de suivi : le lien envoyé au client s&#39;affichera ici." in preview
    refused_quantity = _ship_refused(sc, order, {f"qty_{bag}": "9", "carrier": "colissimo",
                                                 "tracking_number": "6a12345678901"}, htmx=False)
    preview = refused_quantity.split('id="tracking-preview"', 1)[1].split("</p>", 1)[0]
    assert "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901" in preview


def test_a_bad_custom_tracking_url_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, _card = lines_of(order)
    html = _ship_refused(sc, order, {f"qty_{bag}": "1", "carrier": "other", "carrier_label": "Coursier",
                                     "tracking_number": "ABC-123", "carrier_url": "javascript:alert(1)"})
    assert 'id="carrier_url-err"' in html
    assert 'value="Coursier"' in html and '<option value="other" selected>' in html


def test_another_carrier_without_its_name_is_refused_next_to_the_name(sc: SellerClient,
                                                                        order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, _card = lines_of(order)
    for htmx in (True, False):
        html = _ship_refused(sc, order, {f"qty_{bag}": "1", "carrier": "other", "carrier_label": "  ",
                                         "tracking_number": "ABC-123"}, htmx=htmx)
        assert '<p class="error" id="carrier_label-err">Indiquez le nom du transporteur.</p>' in html
        assert 'name="carrier_label" maxlength="100" value="  " aria-invalid="true"' in html
        assert 'value="ABC-123"' in html
    assert db.session.query(OutboxEmail).filter_by(kind="E4", order_id=order.id).count() == 0


def test_another_carrier_with_its_own_name_and_link(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    bag, card = lines_of(order)
    response = sc.post(url(order, "expedition"), {
        f"qty_{bag}": "2", f"qty_{card}": "1", "carrier": "other", "carrier_label": "Coursier Lyonnais",
        "tracking_number": "cl-42", "carrier_url": "https://coursier.example/suivi?n={number}",
    }, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Coursier Lyonnais" in html
    assert 'href="https://coursier.example/suivi?n=CL-42"' in html


def test_shipping_before_payment_is_refused(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    bag, _card = lines_of(order)
    html = _ship_refused(sc, order, {f"qty_{bag}": "1", "carrier": "colissimo",
                                     "tracking_number": "6A12345678901"}, htmx=False)
    assert "Le paiement doit être confirmé avant d&#39;expédier la commande." in html
    assert "<html" in html


def test_a_line_of_another_order_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    other = order_in(OrderStatus.PAID)
    other_bag, _ = lines_of(other)
    html = _ship_refused(sc, order, {f"qty_{other_bag}": "1", "carrier": "colissimo",
                                     "tracking_number": "6A12345678901"})
    assert "Une ligne choisie n&#39;appartient pas à cette commande." in html


# --------------------------------------------------------------------------- receipt
def test_activate_receipt_confirmation(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.SHIPPED)
    response = sc.post(url(order, "colis/1/reception"), htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(response.data) <= PARTIAL_BUDGET
    assert html.lstrip().startswith('<li id="colis-1" class="parcel">')
    assert "Confirmation de réception demandée" in html
    assert "reçu automatiquement le 27/11/2026 à 10:30" in html
    assert "Confirmation de réception activée pour le colis n° 1" in html
    assert '<span id="status" class="badge b-shipped" data-hx-swap-oob="true">' in html
    shipment = fresh(order).shipments[0]
    assert shipment.status == ShipmentStatus.AWAITING_RECEIPT
    assert db.session.query(OutboxEmail).filter_by(kind="E5", shipment_id=shipment.id).count() == 1
    again = sc.post(url(order, "colis/1/reception"), htmx=True)
    assert "La confirmation de réception était déjà activée pour ce colis." in again.get_data(as_text=True)


def test_activate_receipt_without_javascript(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    response = sc.post(url(order, "colis/1/reception"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#colis-1")
    assert fresh(order).shipments[0].status == ShipmentStatus.AWAITING_RECEIPT


def test_activate_receipt_on_a_received_parcel_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.RECEIVED)
    response = sc.post(url(order, "colis/2/reception"), htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<li id="colis-2" class="parcel">')
    assert "Ce colis est déjà reçu." in html


def test_an_unknown_parcel_is_not_found(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.SHIPPED)
    assert sc.post(url(order, "colis/9/reception"), htmx=True).status_code == 404


# --------------------------------------------------------------------------- cancel
def test_cancel_with_a_reason(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "<summary>Annuler la commande</summary>" in page  # the confirmation step
    response = sc.post(url(order, "annulation"), {"reason": "Rupture de stock"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(response.data) <= PARTIAL_BUDGET
    assert 'class="badge b-cancelled" data-hx-swap-oob="true">Annulée<' in html
    assert "Motif : Rupture de stock" in html
    assert "Commande annulée : le client en est informé par e-mail." in html
    order = fresh(order)
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "Rupture de stock"


def test_a_cancelled_order_no_longer_looks_open(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    html = sc.post(url(order, "annulation"), {"reason": ""}, htmx=True).get_data(as_text=True)
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True).replace("&#39;", "'")
    for shown in (html.replace("&#39;", "'"), page):
        assert '<h2 id="next-h">Commande annulée</h2>' in shown
        assert "Prochaine étape" not in shown and 'class="todo"' not in shown
        assert "Aucun colis : la commande est annulée." in shown
        assert "Aucun colis expédié pour l'instant" not in shown
        # Nothing is left to ship: no « Reste » column, the step is not outlined as one to do.
        assert ">Reste</th>" not in shown and '<th scope="row" colspan="2">Total</th>' in shown
        assert '<section id="next" class="card next over"' in shown
    assert "Bon de préparation" not in page
    paid = sc.get(f"/commandes/{order_in(OrderStatus.PAID).reference}").get_data(as_text=True)
    assert ">Reste</th>" in paid and '<section id="next" class="card next"' in paid


def test_an_action_after_the_session_ended_comes_back_to_the_order(sc: SellerClient,
                                                                   make_order: Make) -> None:
    order = make_order()
    assert sc.token
    with sc.client.session_transaction() as session:  # logged out, the form's token still good
        session.pop("_user_id", None)
    order_page = f"/commandes/{order.reference}"
    response = sc.post(url(order, "paiement"), {"note": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/connexion?next=" + order_page)
    htmx = sc.post(url(order, "paiement"), {"note": ""}, htmx=True)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].endswith("?next=" + order_page)
    assert fresh(order).status == OrderStatus.AWAITING_PAYMENT


def test_cancel_without_javascript(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    response = sc.post(url(order, "annulation"), {"reason": ""})
    assert response.status_code == 303
    assert fresh(order).status == OrderStatus.CANCELLED


def test_cancel_after_shipping_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    response = sc.post(url(order, "annulation"), {"reason": "trop tard"}, htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "La commande ne peut plus être annulée : un colis a déjà été expédié." in html
    assert fresh(order).status == OrderStatus.PARTIALLY_SHIPPED


# --------------------------------------------------------------------------- who and how
@pytest.mark.parametrize("action", ["paiement", "annulation", "expedition", "colis/1/reception"])
def test_someone_elses_order_cannot_be_touched(sc: SellerClient, order_in: Make, action: str,
                                              make_seller: Callable[..., Seller]) -> None:
    theirs = order_in(OrderStatus.SHIPPED if "colis" in action else OrderStatus.PAID,
                      owner=make_seller("autre@example.fr"))
    before = fresh(theirs).version
    for htmx in (True, False):
        response = sc.post(url(theirs, action), {"carrier": "colissimo"}, htmx=htmx)
        assert response.status_code == 404
    assert fresh(theirs).version == before


@pytest.mark.parametrize("action", ["paiement", "annulation", "expedition", "colis/1/reception"])
def test_every_action_needs_the_csrf_token(sc: SellerClient, order_in: Make, action: str) -> None:
    order = order_in(OrderStatus.SHIPPED if "colis" in action else OrderStatus.PAID)
    before = fresh(order).version
    page = sc.post(url(order, action), {"carrier": "colissimo"}, csrf=False)
    assert page.status_code == 400
    assert "jeton de sécurité manquant" in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    htmx = sc.post(url(order, action), csrf=False, htmx=True)
    assert htmx.status_code == 400
    assert htmx.headers["HX-Retarget"] == "#alerts"
    assert "jeton de sécurité manquant" in htmx.get_data(as_text=True)
    forged = sc.client.post(url(order, action), headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    assert fresh(order).version == before


def test_actions_are_recorded_as_the_seller(sc: SellerClient, make_order: Make) -> None:
    order = make_order()
    sc.post(url(order, "paiement"), htmx=True)
    event = db.session.query(OrderEvent).filter_by(order_id=order.id, kind="payment_confirmed").one()
    assert (event.actor, event.actor_label) == ("seller", "atelier@example.fr")


def test_the_default_ship_date_is_today_in_paris(sc: SellerClient, order_in: Make, clock: Clock,
                                                 wf: Workflow) -> None:
    clock.now = clock.now.replace(hour=23, minute=30)  # 00:30 the next day in Paris
    order = order_in(OrderStatus.PAID)
    sc.stay_active()
    html = sc.get(url(order, "expedition"), htmx=True).get_data(as_text=True)
    assert 'value="2026-11-21"' in html
    bag, _ = lines_of(order)
    sc.post(url(order, "expedition"), {f"qty_{bag}": "1", "carrier": "colissimo",
                                       "tracking_number": "6A12345678901"})
    assert fresh(order).shipments[0].shipped_on == date(2026, 11, 20) + timedelta(days=1)
    assert wf is not None


def test_successful_partials_stay_small_for_a_typical_order(sc: SellerClient, make_order: Make) -> None:
    order = make_order(buyer_name="Marie-Charlotte de La Tour d'Auvergne", buyer_email="mc@example.fr")
    bag, card = lines_of(order)
    sizes = {
        "paiement": sc.post(url(order, "paiement"), {"note": "Virement SEPA ref 2026-11-4471"}, htmx=True),
        "expedition 1": sc.post(url(order, "expedition"), {f"qty_{bag}": "1", "carrier": "colissimo",
                                                           "tracking_number": "6A12345678901"}, htmx=True),
        "expedition 2": sc.post(url(order, "expedition"), {f"qty_{bag}": "1", f"qty_{card}": "1",
                                                           "carrier": "chronopost",
                                                           "tracking_number": "XY123456789FR"}, htmx=True),
        "reception": sc.post(url(order, "colis/2/reception"), htmx=True),
    }
    for name, response in sizes.items():
        assert response.status_code == 200, name
        assert len(response.data) <= PARTIAL_BUDGET, (name, len(response.data))
    cancelled = make_order()
    response = sc.post(url(cancelled, "annulation"), {"reason": "Rupture de stock"}, htmx=True)
    assert len(response.data) <= PARTIAL_BUDGET
    assert Actor is not None


def test_a_missing_page_keeps_the_sellers_navigation(sc: SellerClient) -> None:
    response = sc.get("/commandes/UQ-2026-999999")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<nav class="menu" aria-label="Menu">' in html
    assert 'href="/parametres"' in html and "Retour aux commandes" in html
