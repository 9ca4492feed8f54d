"""The workflow's actions over the API: payment, parcels, receipt requests, cancellation and
the answers to a buyer's problem — the same rules and refusals as the seller's buttons, a 422
whose `code` names the rule, and nothing changed by a refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.conftest import PARCEL, Post, bearer, emails, history, parcels, refused
from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import Order, Seller, Shipment
from uniqu3.workflow import Actor, Workflow


@pytest.fixture
def paid(make_order: Callable[..., Order], wf: Workflow) -> Order:
    order = make_order()
    wf.confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"))
    return order


# ----------------------------------------------------------------------------- payment
def test_payment_confirms_it_tells_the_buyer_and_records_who(make_order: Callable[..., Order],
                                                             act: Post) -> None:
    order = make_order()
    response = act(order, "payment", {"note": "Virement reçu"})
    assert response.status_code == 200
    data = response.get_json()
    assert (data["reference"], data["status"], data["status_label"]) == (order.reference, "paid", "Payée")
    assert data["paid_at"] is not None
    assert emails(order) == ["E1", "E2", "E3"]
    assert history(order)[-1] == ("payment_confirmed", "api", "storefront")


def test_payment_without_a_body_and_again_changes_nothing_more(make_order: Callable[..., Order],
                                                              act: Post) -> None:
    order = make_order()
    first = act(order, "payment")
    again = act(order, "payment")
    assert first.status_code == again.status_code == 200
    assert again.get_json()["paid_at"] == first.get_json()["paid_at"]
    assert emails(order).count("E3") == 1
    assert [kind for kind, _, _ in history(order)].count("payment_confirmed") == 1


def test_payment_of_a_cancelled_order_is_refused_with_its_rule(make_order: Callable[..., Order], act: Post,
                                                               wf: Workflow) -> None:
    order = make_order()
    wf.cancel(order.id, actor=Actor.seller("atelier@example.fr"))
    before = emails(order), history(order)
    error = refused(act(order, "payment"), "already_cancelled")
    assert error["message"] == "Cette commande est annulée : son paiement ne peut plus être confirmé."
    assert (emails(order), history(order)) == before


def test_a_refusal_speaks_english_when_asked(make_order: Callable[..., Order], act: Post,
                                             auth: dict[str, str]) -> None:
    order = make_order()
    error = refused(act(order, "shipments", PARCEL, headers={**auth, "Accept-Language": "en"}), "not_paid")
    assert error["message"] == "Payment must be confirmed before the order ships."


@pytest.mark.parametrize(("body", "field"), [
    ({"note": 12}, "note"),
    ({"note": "x" * 501}, "note"),
    ({"note": "ok", "method": "virement"}, "method"),
])
def test_a_payment_body_of_the_wrong_shape_is_a_422_by_field(make_order: Callable[..., Order], act: Post,
                                                            body: dict[str, Any], field: str) -> None:
    order = make_order()
    error = refused(act(order, "payment", body), "validation_failed")
    assert list(error["fields"]) == [field]
    assert order.paid_at is None and emails(order) == ["E1", "E2"]


# ----------------------------------------------------------------------------- parcels
def test_a_parcel_is_shipped_with_its_tracking_and_the_buyer_told(paid: Order, act: Post) -> None:
    response = act(paid, "shipments", {**PARCEL, "shipped_on": "2026-11-20"})
    assert response.status_code == 201
    data = response.get_json()
    assert data["status"] == "partially_shipped"
    [parcel] = data["shipments"]
    assert parcel["number"] == 1
    assert parcel["items"] == [{"sku": "BAG-RED-01", "quantity": 1}]
    assert (parcel["carrier"], parcel["tracking_number"], parcel["shipped_on"]) == (
        "colissimo", "6A12345678901", "2026-11-20")
    assert parcel["tracking_url"].endswith("6A12345678901")
    assert [line["remaining_quantity"] for line in data["lines"]] == [1, 1]
    assert emails(paid)[-1] == "E4"
    assert history(paid)[-1][:2] == ("shipped", "api")


def test_the_rest_ships_in_a_second_parcel_then_nothing_is_left(paid: Order, act: Post) -> None:
    assert act(paid, "shipments", PARCEL).status_code == 201
    rest = {"lines": [{"sku": "BAG-RED-01", "quantity": 1}, {"sku": "CARD-01", "quantity": 1}],
            "carrier": "other", "carrier_name": "Coursier Lyon", "tracking_number": "CL-42"}
    second = act(paid, "shipments", rest)
    assert second.status_code == 201
    assert second.get_json()["status"] == "shipped"
    assert second.get_json()["shipments"][1]["carrier_label"] == "Coursier Lyon"
    refused(act(paid, "shipments", PARCEL), "nothing_left_to_ship")
    assert parcels(paid) == 2


def test_shipping_before_payment_is_refused(make_order: Callable[..., Order], act: Post) -> None:
    order = make_order()
    error = refused(act(order, "shipments", PARCEL), "not_paid")
    assert error["message"] == "Le paiement doit être confirmé avant d'expédier la commande."
    assert parcels(order) == 0 and emails(order) == ["E1", "E2"]


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"lines": [{"sku": "BAG-RED-01", "quantity": 3}]}, "quantity_exceeds_remaining", "lines[0].quantity"),
    ({"lines": [{"sku": "CARD-01", "quantity": 1}, {"sku": "BAG-RED-01", "quantity": 5}]},
     "quantity_exceeds_remaining", "lines[1].quantity"),
    ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "unknown_line", "lines[0].sku"),
    ({"lines": [{"sku": "CARD-01", "quantity": 1}, {"sku": "CARD-01", "quantity": 1}]}, "repeated_sku",
     "lines[1].sku"),
    ({"tracking_number": None}, "invalid_tracking_number", "tracking_number"),
    ({"tracking_number": "12"}, "invalid_tracking_number", "tracking_number"),
    ({"carrier": "pigeon"}, "unknown_carrier", "carrier"),
    ({"carrier": "other", "tracking_number": "CL-42"}, "carrier_name_required", "carrier_name"),
    ({"shipped_on": "2026-11-21"}, "ship_date_in_future", "shipped_on"),
    ({"shipped_on": "2026-01-01"}, "ship_date_before_order", "shipped_on"),
    ({"lines": []}, "validation_failed", "lines"),
    ({"lines": [{"sku": "CARD-01", "quantity": "1"}]}, "validation_failed", "lines[0].quantity"),
    ({"lines": [{"sku": "CARD-01", "quantity": 0}]}, "validation_failed", "lines[0].quantity"),
    ({"shipped_on": "20/11/2026"}, "validation_failed", "shipped_on"),
    ({"carrier": None}, "validation_failed", "carrier"),
    ({"tracking": "6A12345678901"}, "validation_failed", "tracking"),
])
def test_a_parcel_refused_names_the_rule_and_the_field_and_ships_nothing(
    paid: Order, act: Post, change: dict[str, Any], code: str, field: str,
) -> None:
    body = {**PARCEL, **change}
    before = emails(paid), history(paid)
    error = refused(act(paid, "shipments", body), code)
    assert field in error["fields"], error
    assert error["fields"][field][0]
    assert parcels(paid) == 0
    assert (emails(paid), history(paid)) == before


def test_a_body_that_is_not_json_is_refused_before_anything(paid: Order, act: Post,
                                                            auth: dict[str, str]) -> None:
    assert act(paid, "shipments", None, data="lines=1").status_code == 415
    assert act(paid, "shipments", None, data=b"{", content_type="application/json").status_code == 400
    assert act(paid, "shipments", [PARCEL]).status_code == 422
    assert parcels(paid) == 0


# ----------------------------------------------------------------------------- receipt
def test_receipt_request_asks_the_buyer_once(paid: Order, act: Post) -> None:
    act(paid, "shipments", PARCEL)
    response = act(paid, "shipments/1/receipt-request")
    assert response.status_code == 200
    parcel = response.get_json()["shipments"][0]
    assert parcel["status"] == "awaiting_receipt"
    assert parcel["receipt"]["status"] == "awaiting"
    assert parcel["receipt"]["due_at"] == "2026-11-27T09:30:00Z"
    assert act(paid, "shipments/1/receipt-request", {}).status_code == 200
    assert emails(paid).count("E5") == 1


def test_receipt_request_of_a_parcel_that_is_not_there_is_a_404(paid: Order, act: Post) -> None:
    act(paid, "shipments", PARCEL)
    for path in ("shipments/2/receipt-request", "shipments/0/receipt-request"):
        refused(act(paid, path), "not_found", 404)
    refused(act(paid, "shipments/1/receipt-request", {"now": True}), "validation_failed")
    assert "E5" not in emails(paid)


def test_receipt_request_of_a_received_parcel_is_refused(paid: Order, act: Post, wf: Workflow) -> None:
    act(paid, "shipments", PARCEL)
    act(paid, "shipments/1/receipt-request")
    shipment_id = db.session.scalar(select(Shipment.id).where(Shipment.order_id == paid.id))
    assert shipment_id is not None
    wf.confirm_receipt(shipment_id)
    refused(act(paid, "shipments/1/receipt-request"), "already_received")


# ----------------------------------------------------------------------------- cancellation
def test_cancellation_tells_the_buyer_why(make_order: Callable[..., Order], act: Post) -> None:
    order = make_order()
    response = act(order, "cancellation", {"reason": "Rupture de stock"})
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["cancel_reason"]) == (
        "cancelled", "Rupture de stock")
    assert emails(order)[-1] == "E8"
    assert act(order, "cancellation", {"reason": "Rupture de stock"}).status_code == 200
    assert emails(order).count("E8") == 1


def test_cancellation_needs_a_reason_and_nothing_shipped(paid: Order, act: Post) -> None:
    for body in ({}, {"reason": ""}, None):
        error = refused(act(paid, "cancellation", body), "validation_failed" if body is not None else
                        "unsupported_media_type", 422 if body is not None else 415)
        if body is not None:
            assert list(error["fields"]) == ["reason"]
    act(paid, "shipments", PARCEL)
    refused(act(paid, "cancellation", {"reason": "Trop tard"}), "already_shipped")
    assert "E8" not in emails(paid)


# ----------------------------------------------------------------------------- who may act
def test_a_seller_key_acts_on_its_own_orders_only(
    make_order: Callable[..., Order], make_seller: Callable[..., Seller], make_key: Callable[..., str],
    seller: Seller, act: Post,
) -> None:
    other = make_seller("autre@example.fr")
    theirs = make_order(other)
    mine = make_order()
    key = bearer(make_key("label software", seller=seller))
    for action, body in (("payment", {}), ("cancellation", {"reason": "x"}), ("shipments", PARCEL),
                         ("shipments/1/receipt-request", None)):
        refused(act(theirs, action, body, headers=key), "not_found", 404)
    assert emails(theirs) == ["E1", "E2"]
    assert act(mine, "payment", {}, headers=key).status_code == 200
    # The marketplace's key acts on every seller's orders.
    assert act(theirs, "payment").status_code == 200


def test_a_key_of_a_deactivated_seller_acts_on_nothing(
    make_order: Callable[..., Order], make_key: Callable[..., str], seller: Seller, act: Post,
) -> None:
    order = make_order()
    key = bearer(make_key("label software", seller=seller))
    seller.active = False
    db.session.commit()
    refused(act(order, "payment", {}, headers=key), "not_found", 404)
    assert db.session.get(Order, order.id).paid_at is None  # type: ignore[union-attr]


def test_actions_need_a_key(make_order: Callable[..., Order], act: Post) -> None:
    order = make_order()
    refused(act(order, "payment", {}, headers={}), "unauthorized", 401)
    refused(act(order, "payment", {}, headers=bearer("uq_live_abcdefghij_" + "x" * 40)), "unauthorized", 401)
    assert emails(order) == ["E1", "E2"]


def test_a_reference_in_lower_case_is_the_same_order(make_order: Callable[..., Order], act: Post) -> None:
    order = make_order()
    response = act(order.reference.lower(), "payment")
    assert response.status_code == 200
    assert response.get_json()["reference"] == order.reference
    refused(act("UQ-2026-999999", "payment"), "not_found", 404)
    refused(act("nothing", "payment"), "not_found", 404)


# ----------------------------------------------------------------------------- a parcel in problem
@pytest.fixture
def in_problem(paid: Order, act: Post, wf: Workflow) -> Order:
    act(paid, "shipments", PARCEL)
    act(paid, "shipments/1/receipt-request")
    shipment_id = db.session.scalar(select(Shipment.id).where(Shipment.order_id == paid.id))
    assert shipment_id is not None
    wf.report_problem(shipment_id, reason="not_received", message="Rien reçu")
    return paid


def test_the_seller_answers_a_problem_with_a_message_then_a_relaunch(in_problem: Order, act: Post,
                                                                    clock: Clock) -> None:
    message = act(in_problem, "shipments/1/messages", {"message": "Le transporteur enquête."})
    assert message.status_code == 200
    assert emails(in_problem)[-1] == "P3"
    clock.advance(days=1)
    relaunch = act(in_problem, "shipments/1/receipt-relaunch")
    assert relaunch.status_code == 200
    parcel = relaunch.get_json()["shipments"][0]
    assert parcel["status"] == "awaiting_receipt"
    assert parcel["receipt"]["due_at"] == "2026-11-28T09:30:00Z"
    assert parcel["problems"][0]["resolution"] == "relaunched"
    refused(act(in_problem, "shipments/1/loss", {"x": 1}), "validation_failed")
    refused(act(in_problem, "shipments/1/messages", {"message": ""}), "validation_failed")


def test_a_relaunch_without_a_problem_is_refused(paid: Order, act: Post) -> None:
    act(paid, "shipments", PARCEL)
    refused(act(paid, "shipments/1/receipt-relaunch"), "no_open_problem")


def test_a_lost_parcel_puts_its_items_back_to_ship(in_problem: Order, act: Post) -> None:
    response = act(in_problem, "shipments/1/loss")
    assert response.status_code == 200
    data = response.get_json()
    assert data["shipments"][0]["status"] == "lost"
    assert [line["remaining_quantity"] for line in data["lines"]] == [2, 1]
    assert emails(in_problem)[-1] == "P4"
    assert act(in_problem, "shipments", {**PARCEL, "tracking_number": "6A12345678902"}).status_code == 201


# ----------------------------------------------------------------------------- closing the remainder
def test_the_remainder_out_of_stock_is_closed_and_the_order_shipped(paid: Order, act: Post) -> None:
    act(paid, "shipments", PARCEL)
    response = act(paid, "remainder-closure", {"reason": "Rupture de stock",
                                               "lines": [{"sku": "CARD-01", "quantity": 1}]})
    assert response.status_code == 200
    data = response.get_json()
    assert [line["remaining_quantity"] for line in data["lines"]] == [1, 0]
    assert data["status"] == "partially_shipped"
    everything = act(paid, "remainder-closure", {"reason": "Plus de stock du tout"})
    assert everything.status_code == 200
    assert everything.get_json()["status"] == "shipped"
    assert history(paid)[-1][:2] == ("remainder_closed", "api")
    refused(act(paid, "remainder-closure", {"reason": "Encore"}), "nothing_left_to_close")


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"reason": "Rupture", "lines": [{"sku": "CARD-01", "quantity": 2}]}, "quantity_exceeds_remaining",
     "lines[0].quantity"),
    ({"reason": "Rupture", "lines": [{"sku": "NOPE", "quantity": 1}]}, "unknown_line", "lines[0].sku"),
    ({"reason": "Rupture", "lines": []}, "validation_failed", "lines"),
    ({"lines": [{"sku": "CARD-01", "quantity": 1}]}, "validation_failed", "reason"),
])
def test_a_closure_refused_closes_nothing(paid: Order, act: Post, body: dict[str, Any], code: str,
                                          field: str) -> None:
    before = emails(paid), history(paid)
    error = refused(act(paid, "remainder-closure", body), code)
    assert field in error["fields"], error
    assert (emails(paid), history(paid)) == before


def test_closing_before_payment_is_refused(make_order: Callable[..., Order], act: Post) -> None:
    refused(act(make_order(), "remainder-closure", {"reason": "Rupture"}), "not_paid")
