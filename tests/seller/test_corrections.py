"""Corrections on the order page: « Corriger le suivi ou la date » of a parcel and
« Annuler la confirmation du paiement », with htmx and as plain form posts, their refusals, CSRF,
and a hand delivery that reads as one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OrderStatus, OutboxEmail, Seller, ShipmentStatus
from uniqu3.workflow import Actor, Workflow

from .conftest import SellerClient
from .test_actions import PARTIAL_BUDGET, fresh, url

Make = Callable[..., Order]
SELLER = Actor.seller("atelier@example.fr")


def emails(order: Order, kind: str) -> int:
    return db.session.query(OutboxEmail).filter_by(kind=kind, order_id=order.id).count()


def events(order: Order, kind: str) -> int:
    return db.session.query(OrderEvent).filter_by(kind=kind, order_id=order.id).count()


def correct(sc: SellerClient, order: Order, htmx: bool = False, **form: str) -> Any:
    """« Modifier le suivi » of parcel n° 1, Colissimo with a new number unless told otherwise."""
    form = {"carrier": "colissimo", "tracking_number": "6A98765432109", "shipped_on": "2026-11-20", **form}
    return sc.post(url(order, "colis/1/suivi"), form, htmx=htmx)


def text(response: Any) -> str:
    return str(response.get_data(as_text=True)).replace("&#39;", "'")


# ----------------------------------------------------------------------------- a parcel
def test_the_edit_form_starts_from_the_parcels_values(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "Corriger le suivi ou la date" in page
    assert f'action="/commandes/{order.reference}/colis/1/suivi"' in page
    assert f'id="edit-1-tracking_number" name="tracking_number" autocomplete="off" spellcheck="false" ' \
           f'maxlength="64" value="6A{order.id:011d}"' in page
    assert '<option value="colissimo" selected>' in page


def test_a_correction_with_htmx_redraws_the_parcel_and_adds_the_history(sc: SellerClient,
                                                                        order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    response = correct(sc, order, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(response.data) <= PARTIAL_BUDGET
    assert html.lstrip().startswith('<li id="colis-1" class="parcel">')
    assert "6A98765432109</a>" in html
    assert "Colis n° 1 modifié : le client reçoit le suivi à jour par e-mail." in html
    assert f"suivi 6A{order.id:011d} → 6A98765432109" in html  # the history's old and new values
    assert fresh(order).shipments[0].tracking_number == "6A98765432109"
    assert emails(order, "E4U") == 1


def test_after_an_action_the_form_is_fetched_when_opened(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    html = correct(sc, order, htmx=True).get_data(as_text=True)
    form_url = f"/commandes/{order.reference}/colis/1/suivi"
    assert f'data-hx-get="{form_url}" data-hx-trigger="toggle once" data-hx-swap="beforeend"' in html
    assert 'name="tracking_number"' not in html  # the answer stays small
    fragment = sc.get(form_url, htmx=True).get_data(as_text=True)
    assert fragment.startswith(f'<form method="post" action="{form_url}"')
    assert 'value="6A98765432109"' in fragment and "<html" not in fragment
    plain = sc.get(form_url)
    assert plain.status_code == 302 and plain.headers["Location"] == f"/commandes/{order.reference}#colis-1"


def test_a_correction_without_javascript_redirects_to_the_parcel(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    response = correct(sc, order, carrier="chronopost", tracking_number="XY123456789FR")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/commandes/{order.reference}#colis-1"
    page = sc.get(response.headers["Location"]).get_data(as_text=True)
    assert "Colis n° 1 modifié : le client reçoit le suivi à jour par e-mail." in page
    assert "transporteur Colissimo (La Poste) → Chronopost" in page
    assert fresh(order).shipments[0].carrier == "chronopost"


def test_the_same_values_say_so_and_send_nothing(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    response = correct(sc, order, htmx=True, tracking_number=f"6A{order.id:011d}")
    assert response.status_code == 200
    assert "Rien n'a changé dans ce colis : le client n'est pas prévenu." in text(response)
    assert emails(order, "E4U") == 0 and events(order, "shipment_edited") == 0


@pytest.mark.parametrize("htmx", [True, False])
def test_a_bad_number_is_refused_next_to_its_field_with_the_input_kept(sc: SellerClient, order_in: Make,
                                                                       htmx: bool) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    response = correct(sc, order, htmx=htmx, tracking_number="12")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert ("<html" in html) is not htmx
    assert '<details class="edit-parcel" open>' in html
    assert 'value="12" aria-invalid="true" aria-describedby="edit-1-tracking_number-err"' in html
    assert "ne ressemble pas à un numéro Colissimo" in html
    assert fresh(order).shipments[0].tracking_number == f"6A{order.id:011d}"
    assert emails(order, "E4U") == 0


def test_a_date_that_is_not_a_date_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    response = correct(sc, order, htmx=True, shipped_on="20/11/2026")
    assert response.status_code == 422
    assert "Date d'expédition invalide." in text(response)
    assert events(order, "shipment_edited") == 0


def test_a_received_parcel_has_no_edit_form_and_is_refused(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.RECEIVED)
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "Corriger le suivi ou la date" not in page
    response = correct(sc, order, htmx=True)
    assert response.status_code == 422
    assert "Ce colis est déjà reçu : son suivi ne peut plus être modifié." in response.get_data(as_text=True)


def test_a_lost_parcel_is_refused(sc: SellerClient, order_in: Make, wf: Workflow) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    wf.declare_lost(order.shipments[0].id, actor=SELLER)
    response = correct(sc, order)
    assert response.status_code == 422
    assert "Ce colis a été déclaré perdu : son suivi ne peut plus être modifié." in text(response)


def test_a_parcel_in_problem_is_corrected_and_the_problem_stays(sc: SellerClient, order_in: Make,
                                                                wf: Workflow) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED)
    shipment = order.shipments[0]
    wf.request_receipt(shipment.id, actor=SELLER)
    wf.report_problem(shipment.id, reason="not_received", message="Le suivi ne trouve rien")
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "Le problème signalé reste ouvert : répondez-lui ci-dessous." in page
    sc.post(url(order, "colis/1/suivi"), {"carrier": "colissimo", "tracking_number": "6A98765432109"})
    order = fresh(order)
    assert order.shipments[0].status == ShipmentStatus.PROBLEM and order.open_problems == 1


def test_an_unknown_or_someone_elses_parcel_is_not_found(sc: SellerClient, order_in: Make,
                                                         make_seller: Callable[..., Seller]) -> None:
    mine = order_in(OrderStatus.PARTIALLY_SHIPPED)
    assert sc.post(url(mine, "colis/9/suivi"), {"carrier": "colissimo"}, htmx=True).status_code == 404
    theirs = order_in(OrderStatus.PARTIALLY_SHIPPED, owner=make_seller("autre@example.fr"))
    before = fresh(theirs).version
    for htmx in (True, False):
        response = sc.post(url(theirs, "colis/1/suivi"), {"carrier": "colissimo",
                                                          "tracking_number": "6A98765432109"}, htmx=htmx)
        assert response.status_code == 404
    assert fresh(theirs).version == before


@pytest.mark.parametrize("action", ["colis/1/suivi", "paiement/annulation"])
def test_each_correction_needs_the_csrf_token(sc: SellerClient, order_in: Make, action: str) -> None:
    order = order_in(OrderStatus.PARTIALLY_SHIPPED if "colis" in action else OrderStatus.PAID)
    before = fresh(order).version
    form = {"carrier": "colissimo", "tracking_number": "6A98765432109"}
    assert sc.post(url(order, action), form, csrf=False).status_code == 400
    assert sc.post(url(order, action), form, csrf=False, htmx=True).status_code == 400
    assert fresh(order).version == before


# ----------------------------------------------------------------------------- payment
def test_undo_payment_with_htmx(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "Paiement confirmé par erreur ?" in page
    response = sc.post(url(order, "paiement/annulation"), {"reason": "Virement rejeté"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="next"')
    assert '<span id="status" class="badge b-awaiting_payment" data-hx-swap-oob="true">' in html
    assert "Confirmer le paiement" in html  # the pay form is back
    assert "Confirmation du paiement annulée : le client en est informé par e-mail." in html
    assert "<q>Virement rejeté</q>" in html
    order = fresh(order)
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.paid_at is None
    assert emails(order, "E3U") == 1


def test_undo_payment_without_javascript(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    response = sc.post(url(order, "paiement/annulation"), {"reason": ""})
    assert response.status_code == 303
    page = sc.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirmation du paiement annulée : le client en est informé par e-mail." in page
    assert "Paiement confirmé par erreur ?" not in page
    assert fresh(order).status == OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize(("status", "message"), [
    (OrderStatus.AWAITING_PAYMENT, "Le paiement de cette commande n&#39;est pas confirmé : rien à annuler."),
    (OrderStatus.CANCELLED, "Cette commande est annulée : son paiement ne peut plus être modifié."),
    (OrderStatus.PARTIALLY_SHIPPED, "Un colis de cette commande est déjà parti : la confirmation du paiement "
                                    "ne peut plus être annulée."),
])
def test_undo_payment_is_refused_with_the_reason(sc: SellerClient, order_in: Make, status: str,
                                                 message: str) -> None:
    order = order_in(status)
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "Paiement confirmé par erreur ?" not in page  # not offered
    before = fresh(order).version
    for htmx in (True, False):
        response = sc.post(url(order, "paiement/annulation"), {"reason": "x"}, htmx=htmx)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        assert ("<html" in html) is not htmx
    assert fresh(order).version == before and emails(order, "E3U") == 0


# ----------------------------------------------------------------------------- hand delivery
def test_a_hand_delivery_reads_as_a_handover(sc: SellerClient, order_in: Make, wf: Workflow) -> None:
    order = order_in(OrderStatus.PAID)
    wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity for line in order.lines},
            carrier="hand_delivery")
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    assert "Remis en main propre le 20/11/2026" in page
    assert '<span class="badge p-shipped">Remis en main propre</span>' in page
    assert "expédié le" not in page
    assert "Colis n° 1 remis en main propre le 20/11/2026" in page  # the history
    # The edit form says « Date de remise » when hand delivery is chosen (CSS follows the select).
    assert '<span class="by-hand">Date de remise</span>' in page


def test_the_ship_form_holds_its_postage_links_and_both_date_labels(sc: SellerClient, order_in: Make) -> None:
    order = order_in(OrderStatus.PAID)
    page = sc.get(f"/commandes/{order.reference}").get_data(as_text=True)
    form = page[page.index('<form id="ship"'):]
    form = form[:form.index("</form>")]
    assert 'class="postage"' in form  # hidden with the form's hand delivery choice
    labels = '<span class="by-carrier">Date d\'expédition</span><span class="by-hand">Date de remise</span>'
    assert labels in form
