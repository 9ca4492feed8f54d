"""Corrections and refunds over the API: a parcel's tracking corrected, a payment confirmation
undone, a refund recorded — the seller's buttons' rules and refusals (a 422 whose `code` names
the rule), nothing changed by a refusal, the key's scope and the Idempotency-Key. Their
webhooks: tests/webhooks/test_delivery.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.api.conftest import PARCEL, Post, bearer, emails, history, refused
from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import Order, Refund, Seller, Shipment
from uniqu3.workflow import Actor, Workflow

SELLER = Actor.seller("atelier@example.fr")


@pytest.fixture
def patch(client: FlaskClient, auth: dict[str, str]) -> Callable[..., TestResponse]:
    """PATCH an order's parcel: `patch(order, 1, {...})`."""

    def send(order: Order | str, number: int, body: Any = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> TestResponse:
        reference = order if isinstance(order, str) else order.reference
        url = f"/api/v1/orders/{reference}/shipments/{number}"
        if body is not None:
            kwargs["json"] = body
        return client.patch(url, headers=headers if headers is not None else auth, **kwargs)

    return send


Patch = Callable[..., TestResponse]


@pytest.fixture
def paid(make_order: Callable[..., Order], wf: Workflow) -> Order:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    return order


@pytest.fixture
def shipped(paid: Order, act: Post, clock: Clock) -> Order:
    """Paid on 20/11, its parcel n° 1 (one bag, Colissimo 6A12345678901) sent on 21/11; today is 22/11."""
    clock.advance(days=2)
    assert act(paid, "shipments", {**PARCEL, "shipped_on": "2026-11-21"}).status_code == 201
    return paid


def refund_rows(order: Order) -> int:
    return db.session.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == order.id)) or 0


# ----------------------------------------------------------------------------- a parcel's tracking
def test_a_parcels_tracking_is_corrected_the_buyer_told_and_the_history_keeps_both(
        shipped: Order, patch: Patch) -> None:
    response = patch(shipped, 1, {"tracking_number": "6A98765432109"})
    assert response.status_code == 200
    parcel = response.get_json()["shipments"][0]
    # What was not given stays: carrier, date, items.
    assert (parcel["carrier"], parcel["tracking_number"], parcel["shipped_on"]) == (
        "colissimo", "6A98765432109", "2026-11-21")
    assert parcel["tracking_url"].endswith("6A98765432109")
    assert parcel["items"] == [{"sku": "BAG-RED-01", "quantity": 1}]
    assert emails(shipped)[-1] == "E4U"
    assert history(shipped)[-1] == ("shipment_edited", "api", "storefront")
    # The same values again change nothing and tell nobody.
    assert patch(shipped, 1, {"tracking_number": "6A98765432109"}).status_code == 200
    assert patch(shipped, 1, {}).status_code == 200
    assert patch(shipped, 1).status_code == 200
    assert patch(shipped, 1, {"carrier": None, "tracking_number": None}).status_code == 200  # null: not given
    assert emails(shipped).count("E4U") == 1


def test_another_carrier_with_its_name_and_a_date(shipped: Order, patch: Patch) -> None:
    response = patch(shipped, 1, {"carrier": "other", "carrier_name": "Coursier Lyon",
                                  "tracking_number": "CL-42", "shipped_on": "2026-11-20"})
    assert response.status_code == 200
    parcel = response.get_json()["shipments"][0]
    assert (parcel["carrier"], parcel["carrier_label"], parcel["tracking_number"], parcel["shipped_on"]) == (
        "other", "Coursier Lyon", "CL-42", "2026-11-20")
    # The name of an « other » carrier stays while it stays one.
    again = patch(shipped, 1, {"tracking_number": "CL-43"}).get_json()["shipments"][0]
    assert (again["carrier_label"], again["tracking_number"]) == ("Coursier Lyon", "CL-43")
    # Back to a carrier without tracking: no number.
    hand = patch(shipped, 1, {"carrier": "hand_delivery", "tracking_number": ""}).get_json()["shipments"][0]
    assert (hand["carrier"], hand["tracking_number"], hand["tracking_url"]) == ("hand_delivery", None, None)


def test_each_correction_changes_only_what_it_gives(shipped: Order, patch: Patch) -> None:
    """Two tools each correcting their own member: neither undoes the other's."""
    first = patch(shipped, 1, {"carrier": "chronopost", "tracking_number": "XY123456789FR",
                               "shipped_on": "2026-11-20"})
    assert first.status_code == 200
    response = patch(shipped, 1, {"tracking_number": "XY987654321FR"})
    assert response.status_code == 200
    parcel = response.get_json()["shipments"][0]
    assert (parcel["carrier"], parcel["tracking_number"], parcel["shipped_on"]) == (
        "chronopost", "XY987654321FR", "2026-11-20")
    assert emails(shipped).count("E4U") == 2


def test_a_correction_keeps_the_tracking_page_of_another_carrier(paid: Order, patch: Patch, wf: Workflow,
                                                                 clock: Clock) -> None:
    """The API takes no tracking page: one the seller typed stays, and follows a new number."""
    clock.advance(days=2)
    wf.ship(paid.id, actor=SELLER, quantities={paid.lines[0].id: 1}, carrier="other", tracking_number="CL-42",
            carrier_label="Coursier Lyon", carrier_url="https://coursier.example/suivi?n={number}")
    dated = patch(paid, 1, {"shipped_on": "2026-11-21"}).get_json()["shipments"][0]
    assert (dated["carrier_label"], dated["tracking_url"]) == (
        "Coursier Lyon", "https://coursier.example/suivi?n=CL-42")
    renumbered = patch(paid, 1, {"tracking_number": "CL-43"}).get_json()["shipments"][0]
    assert (renumbered["shipped_on"], renumbered["tracking_url"]) == (
        "2026-11-21", "https://coursier.example/suivi?n=CL-43")


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"tracking_number": "12"}, "invalid_tracking_number", "tracking_number"),
    ({"tracking_number": ""}, "invalid_tracking_number", "tracking_number"),
    ({"carrier": "pigeon"}, "unknown_carrier", "carrier"),
    # Another carrier does not inherit the first one's name.
    ({"carrier": "other"}, "carrier_name_required", "carrier_name"),
    ({"shipped_on": "2026-11-23"}, "ship_date_in_future", "shipped_on"),
    ({"shipped_on": "2026-11-19"}, "ship_date_before_order", "shipped_on"),
    ({"tracking_number": "6A12345678902"}, "duplicate_tracking_number", "tracking_number"),
    ({"shipped_on": "19/11/2026"}, "validation_failed", "shipped_on"),
    ({"tracking_number": 6}, "validation_failed", "tracking_number"),
    ({"tracking": "6A98765432109"}, "validation_failed", "tracking"),
    ({"carrier": 7, "tracking_number": "6A98765432109"}, "validation_failed", "carrier"),
    ({"carrier_name": "Coursier\nLyon"}, "validation_failed", "carrier_name"),
])
def test_a_correction_refused_names_the_rule_and_changes_nothing(
        shipped: Order, act: Post, patch: Patch, body: dict[str, Any], code: str, field: str) -> None:
    second = {"lines": [{"sku": "CARD-01", "quantity": 1}], "carrier": "colissimo",
              "tracking_number": "6A12345678902"}
    assert act(shipped, "shipments", second).status_code == 201
    before = emails(shipped), history(shipped)
    error = refused(patch(shipped, 1, body), code)
    assert field in error["fields"] and error["fields"][field][0], error
    assert (emails(shipped), history(shipped)) == before
    parcel = db.session.scalars(select(Shipment).where(Shipment.order_id == shipped.id,
                                                      Shipment.number == 1)).one()
    db.session.refresh(parcel)
    assert (parcel.carrier, parcel.tracking_number) == ("colissimo", "6A12345678901")


def test_a_received_or_lost_parcel_cannot_be_corrected(shipped: Order, act: Post, patch: Patch,
                                                       wf: Workflow, clock: Clock) -> None:
    act(shipped, "shipments/1/receipt-request")
    clock.advance(days=1)
    refused(patch(shipped, 1, {"shipped_on": "2026-11-23"}), "ship_date_after_receipt_request")
    shipment_id = db.session.scalar(select(Shipment.id).where(Shipment.order_id == shipped.id))
    assert shipment_id is not None
    wf.confirm_receipt(shipment_id)
    error = refused(patch(shipped, 1, {"tracking_number": "6A98765432109"}), "already_received")
    assert error["message"] == "Ce colis est déjà reçu : son suivi ne peut plus être modifié."
    second = {"lines": [{"sku": "CARD-01", "quantity": 1}], "carrier": "colissimo",
              "tracking_number": "6A12345678902"}
    act(shipped, "shipments", second)
    act(shipped, "shipments/2/receipt-request")
    second_id = db.session.scalar(select(Shipment.id).where(Shipment.order_id == shipped.id,
                                                            Shipment.number == 2))
    assert second_id is not None
    wf.report_problem(second_id, reason="not_received", message="Rien reçu")
    act(shipped, "shipments/2/loss")
    refused(patch(shipped, 2, {"tracking_number": "6A98765432103"}), "parcel_lost")
    assert "E4U" not in emails(shipped)


def test_a_parcel_that_is_not_there_is_a_404(shipped: Order, patch: Patch) -> None:
    refused(patch(shipped, 2, {"tracking_number": "6A98765432109"}), "not_found", 404)
    refused(patch("UQ-2026-999999", 1, {"tracking_number": "6A98765432109"}), "not_found", 404)


def test_a_refusal_speaks_english_when_asked(shipped: Order, patch: Patch, auth: dict[str, str]) -> None:
    english = {**auth, "Accept-Language": "en"}
    error = refused(patch(shipped, 1, {"shipped_on": "2026-11-23"}, headers=english), "ship_date_in_future")
    assert "future" in error["message"]


# ----------------------------------------------------------------------------- undoing a payment
def test_a_payment_confirmed_by_mistake_is_undone_and_the_buyer_told(paid: Order, act: Post) -> None:
    response = act(paid, "payment/cancellation", {"reason": "Virement d'un autre client"})
    assert response.status_code == 200
    data = response.get_json()
    assert (data["status"], data["paid_at"]) == ("awaiting_payment", None)
    assert emails(paid)[-1] == "E3U"
    assert history(paid)[-1] == ("payment_undone", "api", "storefront")
    # Undone: nothing more to undo; confirmed again, it can be undone again (without a body).
    refused(act(paid, "payment/cancellation"), "not_paid")
    assert act(paid, "payment").status_code == 200
    assert act(paid, "payment/cancellation").status_code == 200
    assert emails(paid).count("E3U") == 2


def test_undoing_a_payment_is_refused_once_something_left_or_closed(
        paid: Order, make_order: Callable[..., Order], act: Post, wf: Workflow) -> None:
    closed = make_order()
    wf.confirm_payment(closed.id, actor=SELLER)
    act(closed, "remainder-closure", {"reason": "Rupture", "lines": [{"sku": "CARD-01", "quantity": 1}]})
    cancelled = make_order()
    wf.cancel(cancelled.id, actor=SELLER, reason="x")
    act(paid, "shipments", PARCEL)
    for order, code in ((paid, "already_shipped"), (closed, "remainder_closed"),
                        (cancelled, "already_cancelled")):
        before = emails(order), history(order)
        refused(act(order, "payment/cancellation", {}), code)
        assert (emails(order), history(order)) == before
    for body, field in (({"reason": 3}, "reason"), ({"reason": "x" * 501}, "reason"), ({"why": "x"}, "why")):
        error = refused(act(closed, "payment/cancellation", body), "validation_failed")
        assert list(error["fields"]) == [field]


# ----------------------------------------------------------------------------- refunds
@pytest.fixture
def owing(paid: Order, act: Post) -> Order:
    """Paid 75.30, then cancelled: all of it is to refund."""
    assert act(paid, "cancellation", {"reason": "Atelier fermé"}).status_code == 200
    return paid


def test_a_refund_is_recorded_with_201_the_order_shows_it_and_the_buyer_is_told(owing: Order,
                                                                                act: Post) -> None:
    assert act(owing, "payment").status_code == 422  # cancelled: refunds are the way back
    response = act(owing, "refunds", {"amount": "25.30", "method": "transfer", "reference": "VIR-1",
                                      "note": "Premier versement"})
    assert response.status_code == 201
    data = response.get_json()
    assert (data["refund_owed"], data["refund_due"]) == ("75.30", "50.00")
    [refund] = data["refunds"]
    assert [refund[k] for k in ("amount", "method", "method_label", "reference", "note")] == [
        "25.30", "transfer", "Virement", "VIR-1", "Premier versement"]
    assert emails(owing)[-1] == "R1"
    assert history(owing)[-1] == ("refund_recorded", "api", "storefront")
    rest = act(owing, "refunds", {"amount": "50", "method": "paypal"})
    assert rest.status_code == 201
    assert (rest.get_json()["refund_due"], len(rest.get_json()["refunds"])) == ("0.00", 2)
    refused(act(owing, "refunds", {"amount": "0.01", "method": "paypal"}), "nothing_to_refund")


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"amount": "75.31", "method": "transfer"}, "amount_exceeds_due", "amount"),
    ({"amount": "0.00", "method": "transfer"}, "invalid_amount", "amount"),
    ({"amount": "10.00", "method": "bitcoin"}, "unknown_refund_method", "method"),
    ({"amount": 10, "method": "transfer"}, "validation_failed", "amount"),
    ({"amount": "10,00", "method": "transfer"}, "validation_failed", "amount"),
    ({"amount": "-1.00", "method": "transfer"}, "validation_failed", "amount"),
    ({"method": "transfer"}, "validation_failed", "amount"),
    ({"amount": "10.00"}, "validation_failed", "method"),
    ({"amount": "10.00", "method": "transfer", "reference": "x" * 101}, "validation_failed", "reference"),
    ({"amount": "10.00", "method": "transfer", "note": "x" * 501}, "validation_failed", "note"),
])
def test_a_refund_refused_names_the_rule_and_records_nothing(owing: Order, act: Post, body: dict[str, Any],
                                                             code: str, field: str) -> None:
    before = emails(owing), history(owing)
    error = refused(act(owing, "refunds", body), code)
    assert field in error["fields"] and error["fields"][field][0], error
    assert (emails(owing), history(owing), refund_rows(owing)) == (*before, 0)


def test_nothing_to_refund_before_payment_or_while_nothing_is_owed(
        paid: Order, make_order: Callable[..., Order], act: Post) -> None:
    unpaid = make_order()
    refused(act(unpaid, "refunds", {"amount": "1.00", "method": "cash"}), "not_paid")
    refused(act(paid, "refunds", {"amount": "1.00", "method": "cash"}), "nothing_to_refund")
    # A closed item is owed at its price.
    act(paid, "remainder-closure", {"reason": "Rupture", "lines": [{"sku": "CARD-01", "quantity": 1}]})
    assert act(paid, "refunds", {"amount": "5.50", "method": "cash"}).status_code == 201
    assert refund_rows(paid) == 1 and refund_rows(unpaid) == 0


def test_a_refund_with_its_idempotency_key_is_recorded_once(owing: Order, act: Post,
                                                            auth: dict[str, str]) -> None:
    body = {"amount": "10.00", "method": "transfer"}
    headers = {**auth, "Idempotency-Key": "refund-1"}
    first = act(owing, "refunds", body, headers=headers)
    again = act(owing, "refunds", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert refund_rows(owing) == 1 and emails(owing).count("R1") == 1
    refused(act(owing, "refunds", {**body, "amount": "11.00"}, headers=headers), "conflict", 409)
    # Without a key, the same request is another refund.
    assert act(owing, "refunds", body).status_code == 201
    assert refund_rows(owing) == 2


def test_a_correction_with_its_idempotency_key_acts_once(shipped: Order, patch: Patch, act: Post,
                                                         auth: dict[str, str]) -> None:
    headers = {**auth, "Idempotency-Key": "edit-1"}
    first = patch(shipped, 1, {"tracking_number": "6A98765432109"}, headers=headers)
    assert first.status_code == 200
    patch(shipped, 1, {"tracking_number": "6A98765432101"})
    again = patch(shipped, 1, {"tracking_number": "6A98765432109"}, headers=headers)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    assert again.get_json()["shipments"][0]["tracking_number"] == "6A98765432109"  # the stored answer
    refused(patch(shipped, 1, {"tracking_number": "6A98765432102"}, headers=headers), "conflict", 409)
    undo = {**auth, "Idempotency-Key": "undo-1"}
    assert act(shipped, "payment/cancellation", {}, headers=undo).status_code == 422
    assert act(shipped, "payment/cancellation", {}, headers=undo).headers["Idempotent-Replayed"] == "true"


# ----------------------------------------------------------------------------- who may act
def test_a_seller_key_corrects_and_refunds_its_own_orders_only(
        make_order: Callable[..., Order], make_seller: Callable[..., Seller], make_key: Callable[..., str],
        seller: Seller, act: Post, patch: Patch, wf: Workflow) -> None:
    other = make_seller("autre@example.fr")
    theirs = make_order(other)
    wf.confirm_payment(theirs.id, actor=SELLER)
    wf.ship(theirs.id, actor=SELLER, quantities={theirs.lines[1].id: 1}, carrier="colissimo",
            tracking_number="6A12345678901")
    key = bearer(make_key("label software", seller=seller))
    before = emails(theirs), history(theirs)
    refused(patch(theirs, 1, {"tracking_number": "6A98765432109"}, headers=key), "not_found", 404)
    refused(act(theirs, "payment/cancellation", {}, headers=key), "not_found", 404)
    refused(act(theirs, "refunds", {"amount": "1.00", "method": "cash"}, headers=key), "not_found", 404)
    assert (emails(theirs), history(theirs)) == before
    # The marketplace's key acts on every seller's orders.
    assert patch(theirs, 1, {"tracking_number": "6A98765432109"}).status_code == 200


def test_corrections_need_a_key(shipped: Order, act: Post, patch: Patch) -> None:
    refused(patch(shipped, 1, {"tracking_number": "6A98765432109"}, headers={}), "unauthorized", 401)
    refused(act(shipped, "refunds", {"amount": "1.00", "method": "cash"}, headers={}), "unauthorized", 401)
    refused(act(shipped, "payment/cancellation", {}, headers={}), "unauthorized", 401)
    assert "E4U" not in emails(shipped)
