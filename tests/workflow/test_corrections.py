"""Corrections: « Modifier le suivi » of a parcel and « Annuler la confirmation du paiement » —
what each writes (history with old and new values, the buyer's e-mail) and what each refuses,
changing nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import ship_all
from tests.workflow.test_transitions import SELLER, history, outbox
from uniqu3.extensions import db
from uniqu3.models import Order, OutboxEmail, Shipment, ShipmentProblem
from uniqu3.workflow import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    ParcelChanges,
    ParcelDetails,
    Workflow,
    WorkflowError,
)


@pytest.fixture
def paid(wf: Workflow, make_order: Any) -> Order:
    return wf.confirm_payment(make_order().id, actor=SELLER).order


@pytest.fixture
def shipped(wf: Workflow, paid: Order, clock: Any) -> Shipment:
    clock.advance(days=2)
    return ship_all(wf, paid)


def snapshot(order_id: int) -> tuple[Any, ...]:
    """Everything a refusal must leave as it was."""
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order is not None
    parcels = [(s.status, s.carrier, s.carrier_label, s.tracking_number, s.tracking_url, s.shipped_on,
                s.receipt_due_at) for s in order.shipments]
    return (order.status, order.paid_at, order.payment_note, order.version, order.search_text, parcels,
            len(history(order_id)), len(outbox(order_id)))


def refused(wf_call: Any, order_id: int, error: type[WorkflowError], match: str) -> WorkflowError:
    before = snapshot(order_id)
    with pytest.raises(error, match=match) as caught:
        wf_call()
    assert snapshot(order_id) == before
    return caught.value


def edit(wf: Workflow, shipment: Shipment, **fields: Any) -> Any:
    fields.setdefault("carrier", "colissimo")
    return wf.edit_shipment(shipment.order_id, shipment.number, ParcelDetails(**fields), actor=SELLER)


# ----------------------------------------------------------------------------- a parcel
def test_a_corrected_tracking_number_is_kept_with_the_old_one_and_sent_to_the_buyer(
        wf: Workflow, shipped: Shipment) -> None:
    result = edit(wf, shipped, tracking_number="6a 98765 43210 9", shipped_on=shipped.shipped_on)
    assert result.changed
    parcel = db.session.get(Shipment, shipped.id)
    assert parcel is not None and parcel.status == "shipped"
    assert parcel.tracking_number == "6A98765432109"
    assert parcel.tracking_url == "https://www.laposte.fr/outils/suivre-vos-envois?code=6A98765432109"
    kind, _, details = history(shipped.order_id)[-1]
    assert kind == "shipment_edited"
    assert details["before"] == {"tracking_number": "6A12345678901", "tracking_url":
                                 "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"}
    assert details["after"]["tracking_number"] == "6A98765432109"
    assert outbox(shipped.order_id)[-1][:2] == ("E4U", "buyer")
    # The search finds the parcel by its new number only.
    order = db.session.get(Order, shipped.order_id)
    assert order is not None
    assert "6A98765432109" in order.search_text and "6A12345678901" not in order.search_text


def test_carrier_and_date_change_by_the_rules_of_shipping(wf: Workflow, shipped: Shipment,
                                                          clock: Any) -> None:
    day = shipped.shipped_on - timedelta(days=1)
    edit(wf, shipped, carrier="chronopost", tracking_number="XY123456789FR", shipped_on=day)
    parcel = db.session.get(Shipment, shipped.id)
    assert parcel is not None
    assert (parcel.carrier, parcel.carrier_label, parcel.shipped_on) == ("chronopost", "Chronopost", day)
    details = history(shipped.order_id)[-1][2]
    assert details["before"]["carrier_label"] == "Colissimo (La Poste)"
    assert details["after"]["shipped_on"] == day.isoformat()


def test_the_same_values_again_change_nothing_and_send_nothing(wf: Workflow, shipped: Shipment) -> None:
    before = snapshot(shipped.order_id)
    result = edit(wf, shipped, tracking_number=" 6a12345678901 ")  # as typed differently
    assert not result.changed
    assert snapshot(shipped.order_id) == before


@pytest.mark.parametrize(("fields", "field", "match"), [
    ({"carrier": "nope"}, "carrier", "Choisissez un transporteur"),
    ({"tracking_number": ""}, "tracking_number", "obligatoire"),
    ({"tracking_number": "12"}, "tracking_number", "ne ressemble pas"),
    ({"carrier": "other", "tracking_number": "AB-1234"}, "carrier_label", "nom du transporteur"),
    ({"carrier": "other", "tracking_number": "AB-1234", "carrier_label": "Coursier",
      "carrier_url": "javascript:alert(1)"}, "carrier_url", "adresse web"),
    ({"tracking_number": "6A12345678901", "shipped_on": date(2030, 1, 1)}, "shipped_on", "futur"),
    ({"tracking_number": "6A12345678901", "shipped_on": date(2026, 11, 19)}, "shipped_on", "précéder"),
])
def test_a_correction_is_refused_by_the_rules_of_shipping(
        wf: Workflow, shipped: Shipment, fields: dict[str, Any], field: str, match: str) -> None:
    error = refused(lambda: edit(wf, shipped, **fields), shipped.order_id, InvalidInput, match)
    assert error.field == field


def test_a_number_of_another_parcel_of_the_order_is_refused(wf: Workflow, make_order: Any) -> None:
    order = wf.confirm_payment(make_order().id, actor=SELLER).order
    first_line, second_line = order.lines[0], order.lines[1]
    first = wf.ship(order.id, actor=SELLER, quantities={first_line.id: first_line.quantity},
                    carrier="colissimo", tracking_number="6A12345678901").shipment
    second = wf.ship(order.id, actor=SELLER, quantities={second_line.id: second_line.quantity},
                     carrier="colissimo", tracking_number="6A12345678902").shipment
    assert first is not None and second is not None
    refused(lambda: edit(wf, second, tracking_number="6A12345678901"), order.id, InvalidInput,
            "déjà enregistré")


def test_a_received_or_lost_parcel_is_refused(wf: Workflow, shipped: Shipment) -> None:
    wf.request_receipt(shipped.id, actor=SELLER)
    wf.confirm_receipt(shipped.id)
    refused(lambda: edit(wf, shipped, tracking_number="6A98765432109"), shipped.order_id,
            InvalidTransition, "déjà reçu")


def test_a_lost_parcel_is_refused(wf: Workflow, shipped: Shipment) -> None:
    wf.declare_lost(shipped.id, actor=SELLER)
    refused(lambda: edit(wf, shipped, tracking_number="6A98765432109"), shipped.order_id,
            InvalidTransition, "déclaré perdu")


def test_an_unknown_parcel_number_is_refused(wf: Workflow, shipped: Shipment) -> None:
    refused(lambda: wf.edit_shipment(shipped.order_id, 9, ParcelDetails("colissimo", "6A98765432109"),
                                     actor=SELLER), shipped.order_id, NotFound, "Colis introuvable")


def test_awaiting_receipt_keeps_its_deadline(wf: Workflow, shipped: Shipment, clock: Any) -> None:
    wf.request_receipt(shipped.id, actor=SELLER)
    due = db.session.get(Shipment, shipped.id).receipt_due_at  # type: ignore[union-attr]
    clock.advance(days=1)
    edit(wf, shipped, tracking_number="6A98765432109")
    db.session.expire_all()
    parcel = db.session.get(Shipment, shipped.id)
    assert parcel is not None
    assert (parcel.status, parcel.receipt_due_at) == ("awaiting_receipt", due)
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E4U")).one()
    assert row.data["due_at"] is not None


def test_a_date_after_the_receipt_request_is_refused(wf: Workflow, paid: Order, clock: Any) -> None:
    shipment = ship_all(wf, paid)
    wf.request_receipt(shipment.id, actor=SELLER)
    clock.advance(days=2)
    refused(lambda: edit(wf, shipment, tracking_number="6A12345678901",
                         shipped_on=shipment.shipped_on + timedelta(days=1)),
            paid.id, InvalidInput, "suivre la demande de confirmation")


def test_a_parcel_in_problem_is_corrected_and_its_problem_stays_open(wf: Workflow, shipped: Shipment) -> None:
    wf.request_receipt(shipped.id, actor=SELLER)
    wf.report_problem(shipped.id, reason="not_received", message="Le suivi ne donne rien")
    edit(wf, shipped, tracking_number="6A98765432109")
    db.session.expire_all()
    parcel = db.session.get(Shipment, shipped.id)
    order = db.session.get(Order, shipped.order_id)
    assert parcel is not None and order is not None
    assert parcel.status == "problem" and order.open_problems == 1
    assert db.session.scalars(select(ShipmentProblem.resolved_at)).all() == [None]
    # No automatic receipt while the problem is open, even past the deadline.
    assert parcel.receipt_due_at is not None


def test_two_corrections_send_two_emails(wf: Workflow, shipped: Shipment) -> None:
    edit(wf, shipped, tracking_number="6A98765432109")
    edit(wf, shipped, tracking_number="6A98765432100")
    assert [k for k, *_ in outbox(shipped.order_id)].count("E4U") == 2


def test_hand_delivery_keeps_no_number(wf: Workflow, shipped: Shipment) -> None:
    edit(wf, shipped, carrier="hand_delivery", tracking_number="ignored")
    parcel = db.session.get(Shipment, shipped.id)
    assert parcel is not None
    assert (parcel.tracking_number, parcel.tracking_url, parcel.handed_over) == ("", None, True)


def test_two_corrections_of_different_members_both_hold(app: Flask, wf: Workflow, shipped: Shipment,
                                                        clock: Any) -> None:
    """The storefront corrects the date while the label software corrects the number: the
    second, decided on the parcel as read before the first, does not write the old date back."""
    stale = db.session.get(Shipment, shipped.id)  # this request's read, before the other's change
    assert stale is not None
    day = stale.shipped_on - timedelta(days=1)
    with app.app_context():  # another request, with its own session
        other = Workflow(db.session, auto_receipt_days=7, clock=clock)
        other.edit_shipment(shipped.order_id, shipped.number, ParcelChanges(shipped_on=day), actor=SELLER)
        db.session.remove()
    assert stale.shipped_on != day  # still as read before
    wf.edit_shipment(shipped.order_id, stale.number, ParcelChanges(tracking_number="6A98765432109"),
                     actor=SELLER)
    db.session.expire_all()
    parcel = db.session.get(Shipment, shipped.id)
    assert parcel is not None
    assert (parcel.carrier, parcel.tracking_number, parcel.shipped_on) == ("colissimo", "6A98765432109", day)
    edits = [details for kind, _, details in history(shipped.order_id) if kind == "shipment_edited"]
    assert [sorted(d["after"]) for d in edits] == [["shipped_on"], ["tracking_number", "tracking_url"]]


def test_a_correction_leaving_out_the_tracking_page_of_another_carrier_keeps_it(
        wf: Workflow, paid: Order) -> None:
    shipment = ship_all(wf, paid, carrier="other", carrier_label="Coursier Lyon", tracking_number="CL-42",
                        carrier_url="https://coursier.example/suivi?n={number}")
    assert shipment.tracking_url == "https://coursier.example/suivi?n=CL-42"

    def parcel() -> tuple[str, str, str | None]:
        db.session.expire_all()
        found = db.session.get(Shipment, shipment.id)
        assert found is not None
        return found.carrier_label, found.tracking_number, found.tracking_url

    result = wf.edit_shipment(paid.id, 1, ParcelChanges(shipped_on=shipment.shipped_on), actor=SELLER)
    assert not result.changed
    assert parcel() == ("Coursier Lyon", "CL-42", "https://coursier.example/suivi?n=CL-42")
    # A new number: the same page, for it.
    wf.edit_shipment(paid.id, 1, ParcelChanges(tracking_number="CL-43"), actor=SELLER)
    assert parcel() == ("Coursier Lyon", "CL-43", "https://coursier.example/suivi?n=CL-43")
    # The seller's form gives every member: its page emptied, the parcel has none.
    wf.edit_shipment(paid.id, 1, ParcelDetails("other", "CL-43", carrier_label="Coursier Lyon"), actor=SELLER)
    assert parcel() == ("Coursier Lyon", "CL-43", None)


def test_another_carrier_has_its_own_name_and_page(wf: Workflow, paid: Order) -> None:
    shipment = ship_all(wf, paid, carrier="other", carrier_label="Coursier Lyon", tracking_number="CL-42",
                        carrier_url="https://coursier.example/suivi?n={number}")
    wf.edit_shipment(paid.id, 1, ParcelChanges(carrier="colissimo", tracking_number="6A98765432109"),
                     actor=SELLER)
    db.session.expire_all()
    found = db.session.get(Shipment, shipment.id)
    assert found is not None
    assert (found.carrier_label, found.tracking_url) == (
        "Colissimo (La Poste)", "https://www.laposte.fr/outils/suivre-vos-envois?code=6A98765432109")
    refused(lambda: wf.edit_shipment(paid.id, 1, ParcelChanges(carrier="other"), actor=SELLER), paid.id,
            InvalidInput, "nom du transporteur")


# ----------------------------------------------------------------------------- payment
def test_undo_payment_goes_back_to_awaiting_payment_and_tells_the_buyer(
        wf: Workflow, make_order: Any) -> None:
    order = wf.confirm_payment(make_order().id, actor=SELLER, note="Virement 42").order
    result = wf.undo_payment(order.id, actor=SELLER, reason="Virement rejeté")
    assert result.changed
    db.session.expire_all()
    again = db.session.get(Order, order.id)
    assert again is not None
    assert (again.status, again.paid_at, again.payment_note) == ("awaiting_payment", None, "")
    kind, _, details = history(order.id)[-1]
    assert kind == "payment_undone"
    assert details["note"] == "Virement 42" and details["reason"] == "Virement rejeté"
    assert outbox(order.id)[-1][:2] == ("E3U", "buyer")
    # Confirmed again, then undone again: each time the buyer is told.
    wf.confirm_payment(order.id, actor=SELLER)
    wf.undo_payment(order.id, actor=SELLER)
    assert [k for k, *_ in outbox(order.id)] == ["E1", "E2", "E3", "E3U", "E3", "E3U"]


def test_undo_payment_is_refused_when_not_paid(wf: Workflow, make_order: Any) -> None:
    order = make_order()
    refused(lambda: wf.undo_payment(order.id, actor=SELLER), order.id, InvalidTransition, "pas confirmé")


def test_undo_payment_is_refused_once_cancelled(wf: Workflow, paid: Order) -> None:
    wf.cancel(paid.id, actor=SELLER)
    refused(lambda: wf.undo_payment(paid.id, actor=SELLER), paid.id, InvalidTransition, "annulée")


def test_undo_payment_is_refused_once_something_shipped(wf: Workflow, shipped: Shipment) -> None:
    refused(lambda: wf.undo_payment(shipped.order_id, actor=SELLER), shipped.order_id,
            InvalidTransition, "déjà parti")


def test_undo_payment_is_refused_after_a_lost_parcel(wf: Workflow, shipped: Shipment) -> None:
    wf.declare_lost(shipped.id, actor=SELLER)  # everything is to ship again, yet a parcel left
    assert db.session.get(Order, shipped.order_id).status == "paid"  # type: ignore[union-attr]
    refused(lambda: wf.undo_payment(shipped.order_id, actor=SELLER), shipped.order_id,
            InvalidTransition, "déjà parti")


def test_undo_payment_is_refused_once_quantities_were_closed(wf: Workflow, paid: Order) -> None:
    line = paid.lines[0]
    wf.close_remainder(paid.id, actor=SELLER, quantities={line.id: 1}, reason="Rupture")
    refused(lambda: wf.undo_payment(paid.id, actor=SELLER), paid.id, InvalidTransition, "close")
