"""« Signaler un problème », the seller's answers (message, « Relancer », « Colis perdu »), and the
reminder before the deadline: what each writes, what each refuses, and what stays out of reach
of the automatic receipt."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import ship_all
from tests.workflow.test_transitions import SELLER, history, lines_of, outbox
from uniqu3.extensions import db
from uniqu3.models import Order, OutboxEmail, Shipment, ShipmentProblem
from uniqu3.workflow import InvalidInput, InvalidTransition, Workflow, WorkflowError, derive_status

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


@pytest.fixture
def paid(wf: Workflow, make_order: Any) -> Order:
    return wf.confirm_payment(make_order().id, actor=SELLER).order


@pytest.fixture
def awaiting(wf: Workflow, paid: Order) -> Shipment:
    shipment = ship_all(wf, paid)
    wf.request_receipt(shipment.id, actor=SELLER)
    return shipment


def report(wf: Workflow, shipment: Shipment, reason: str = "not_received", message: str = "Rien reçu",
           **kwargs: Any) -> Any:
    return wf.report_problem(shipment.id, reason=reason, message=message, ip="203.0.113.7",
                             user_agent=UA, **kwargs)


def kinds(order_id: int) -> list[tuple[str, str]]:
    return [(kind, role) for kind, role, _ in outbox(order_id)]


def status_of(shipment_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Shipment, shipment_id).status  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- the report
def test_a_report_suspends_the_parcel_keeps_the_evidence_and_tells_both(
        wf: Workflow, awaiting: Shipment, clock: Any) -> None:
    order_id = awaiting.order_id
    result = report(wf, awaiting, message="Le suivi dit livré,\r\nmais rien dans ma boîte.")
    assert result.changed and result.shipment.status == "problem"
    order = db.session.get(Order, order_id)
    assert order.status == "shipped" and order.open_problems == 1
    evidence = db.session.scalars(select(ShipmentProblem)).one()
    assert (evidence.reason, evidence.message, evidence.ip, evidence.user_agent,
            evidence.seller_notified) == (
        "not_received", "Le suivi dit livré,\nmais rien dans ma boîte.", "203.0.113.7", UA, True)
    assert evidence.reported_at == clock() and evidence.resolved_at is None
    kind, actor, details = history(order_id)[-1]
    assert (kind, actor, details["reason"], details["message"], details["again"]) == (
        "problem_reported", "buyer", "not_received", "Le suivi dit livré,\nmais rien dans ma boîte.", False)
    assert kinds(order_id)[-2:] == [("P1", "seller"), ("P2", "buyer")]
    seller_mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "P1")).one()
    assert seller_mail.data["message"] == "Le suivi dit livré,\nmais rien dans ma boîte."


def test_a_parcel_not_yet_awaiting_receipt_can_be_reported_too(wf: Workflow, paid: Order) -> None:
    shipment = ship_all(wf, paid)
    assert report(wf, shipment, reason="damaged").shipment.status == "problem"


@pytest.mark.parametrize(("reason", "message", "field"), [
    ("", "x", "reason"),
    ("stolen", "x", "reason"),
    ("other", "   ", "message"),
    ("damaged", "x" * 2001, "message"),
])
def test_a_bad_report_is_refused_and_changes_nothing(
        wf: Workflow, awaiting: Shipment, reason: str, message: str, field: str) -> None:
    before = (kinds(awaiting.order_id), history(awaiting.order_id))
    with pytest.raises(InvalidInput) as refused:
        report(wf, awaiting, reason=reason, message=message)
    assert refused.value.field == field
    assert status_of(awaiting.id) == "awaiting_receipt"
    assert (kinds(awaiting.order_id), history(awaiting.order_id)) == before
    assert db.session.scalar(select(func.count()).select_from(ShipmentProblem)) == 0


def test_a_message_of_exactly_2000_characters_is_kept_whole(wf: Workflow, awaiting: Shipment) -> None:
    report(wf, awaiting, message="é" * 2000)
    assert db.session.scalars(select(ShipmentProblem.message)).one() == "é" * 2000


def test_the_same_report_twice_is_recorded_once(wf: Workflow, awaiting: Shipment) -> None:
    report(wf, awaiting)
    again = report(wf, awaiting)
    assert not again.changed
    assert db.session.scalar(select(func.count()).select_from(ShipmentProblem)) == 1
    assert kinds(awaiting.order_id).count(("P1", "seller")) == 1


def test_a_second_report_adds_to_the_first_without_a_second_email_soon_after(
        wf: Workflow, awaiting: Shipment, clock: Any) -> None:
    report(wf, awaiting)
    clock.advance(minutes=20)
    second = report(wf, awaiting, reason="damaged", message="Et le carton était ouvert.")
    assert second.changed
    rows = db.session.scalars(select(ShipmentProblem).order_by(ShipmentProblem.id)).all()
    assert [(r.reason, r.seller_notified) for r in rows] == [("not_received", True), ("damaged", False)]
    assert kinds(awaiting.order_id).count(("P1", "seller")) == 1
    assert history(awaiting.order_id)[-1][2]["again"] is True
    clock.advance(hours=2)
    report(wf, awaiting, reason="other", message="Toujours rien.")
    assert kinds(awaiting.order_id).count(("P1", "seller")) == 2
    assert db.session.get(Order, awaiting.order_id).open_problems == 1


def test_a_received_or_lost_parcel_cannot_be_reported(wf: Workflow, awaiting: Shipment) -> None:
    wf.confirm_receipt(awaiting.id, ip="1.2.3.4", user_agent=UA)
    with pytest.raises(InvalidTransition, match="déjà reçu"):
        report(wf, awaiting)
    assert status_of(awaiting.id) == "received"


# ----------------------------------------------------------------------------- no automatic receipt
def test_a_parcel_in_problem_is_never_received_automatically(
        wf: Workflow, awaiting: Shipment, clock: Any) -> None:
    report(wf, awaiting)
    clock.advance(days=30)
    assert wf.auto_receive(awaiting.id) is False
    assert wf.auto_receive_due().received == []
    assert status_of(awaiting.id) == "problem"
    assert ("E7", "seller") not in kinds(awaiting.order_id)


def test_the_buyer_can_still_confirm_and_that_closes_the_problem(
        wf: Workflow, awaiting: Shipment, clock: Any) -> None:
    report(wf, awaiting)
    clock.advance(days=1)
    result = wf.confirm_receipt(awaiting.id, ip="198.51.100.2", user_agent=UA)
    assert result.changed and result.shipment.status == "received"
    assert result.shipment.proof_ip == "198.51.100.2"
    order = db.session.get(Order, awaiting.order_id)
    assert order.status == "received" and order.open_problems == 0
    evidence = db.session.scalars(select(ShipmentProblem)).one()
    assert (evidence.resolution, evidence.resolved_at) == ("received", clock())
    assert history(awaiting.order_id)[-1][2]["closed_problem"] is True
    assert kinds(awaiting.order_id)[-1] == ("E6", "seller")


# ----------------------------------------------------------------------------- the seller's answers
def test_relaunch_gives_a_new_full_deadline_a_new_e5_and_its_own_reminder(
        wf: Workflow, awaiting: Shipment, clock: Any) -> None:
    report(wf, awaiting)
    clock.advance(days=3)
    result = wf.relaunch_receipt(awaiting.id, actor=SELLER)
    shipment = result.shipment
    assert result.changed and shipment.status == "awaiting_receipt"
    assert shipment.receipt_due_at == clock() + timedelta(days=7)
    assert shipment.reminder_due_at == clock() + timedelta(days=5)
    assert db.session.get(Order, awaiting.order_id).open_problems == 0
    assert kinds(awaiting.order_id).count(("E5", "buyer")) == 2
    assert db.session.scalars(select(ShipmentProblem.resolution)).one() == "relaunched"
    # Again: nothing more.
    assert not wf.relaunch_receipt(awaiting.id, actor=SELLER).changed
    assert kinds(awaiting.order_id).count(("E5", "buyer")) == 2
    # The old deadline passes: the parcel waits for the new one.
    clock.advance(days=5)
    assert wf.auto_receive_due().received == []
    clock.advance(days=2, seconds=1)
    assert wf.auto_receive_due().received == [awaiting.id]


def test_relaunch_is_refused_without_a_problem(wf: Workflow, paid: Order) -> None:
    shipment = ship_all(wf, paid)
    with pytest.raises(InvalidTransition, match="Aucun problème"):
        wf.relaunch_receipt(shipment.id, actor=SELLER)
    assert status_of(shipment.id) == "shipped"


def test_a_lost_parcel_puts_its_quantities_back_to_ship_again(
        wf: Workflow, paid: Order, clock: Any) -> None:
    shipment = ship_all(wf, paid)
    wf.request_receipt(shipment.id, actor=SELLER)
    report(wf, shipment)
    result = wf.declare_lost(shipment.id, actor=SELLER)
    order = result.order
    assert result.changed and result.shipment.status == "lost"
    shipped = {sku: line.shipped_quantity for sku, line in lines_of(order).items()}
    assert shipped == {"BAG-RED-01": 0, "CARD-01": 0}
    assert order.status == "paid" and order.open_problems == 0
    assert history(order.id)[-1][0] == "parcel_lost"
    assert kinds(order.id)[-1] == ("P4", "buyer")
    # Shipped again in a new parcel, which the buyer then confirms: the order is received.
    second = ship_all(wf, db.session.get(Order, order.id), tracking_number="6A98765432109")
    assert second.number == 2
    wf.request_receipt(second.id, actor=SELLER)
    done = wf.confirm_receipt(second.id, ip="1.2.3.4", user_agent=UA)
    assert done.order.status == "received"
    # Lost stays lost.
    assert not wf.declare_lost(shipment.id, actor=SELLER).changed
    with pytest.raises(InvalidTransition):
        wf.confirm_receipt(shipment.id, ip="1.2.3.4", user_agent=UA)
    with pytest.raises(InvalidTransition):
        wf.request_receipt(shipment.id, actor=SELLER)


def test_a_received_parcel_cannot_be_declared_lost(wf: Workflow, awaiting: Shipment) -> None:
    wf.confirm_receipt(awaiting.id, ip="1.2.3.4", user_agent=UA)
    with pytest.raises(InvalidTransition, match="déjà reçu"):
        wf.declare_lost(awaiting.id, actor=SELLER)
    assert db.session.get(Order, awaiting.order_id).status == "received"


def test_the_sellers_message_is_emailed_kept_and_sent_once_per_form(
        wf: Workflow, awaiting: Shipment) -> None:
    report(wf, awaiting)
    first = wf.message_buyer(awaiting.id, actor=SELLER, message="Je contacte La Poste.", request_key="k1")
    again = wf.message_buyer(awaiting.id, actor=SELLER, message="Je contacte La Poste.", request_key="k1")
    assert first.changed and not again.changed
    assert kinds(awaiting.order_id).count(("P3", "buyer")) == 1
    assert history(awaiting.order_id)[-1][:2] == ("seller_message", "seller")
    with pytest.raises(InvalidInput):
        wf.message_buyer(awaiting.id, actor=SELLER, message=" \x00 ", request_key="k2")
    assert status_of(awaiting.id) == "problem"


# ----------------------------------------------------------------------------- the reminder
def test_one_reminder_two_days_before_the_deadline(wf: Workflow, awaiting: Shipment, clock: Any) -> None:
    clock.advance(days=4, hours=23)
    assert wf.remind_due() == []
    clock.advance(hours=1)
    assert wf.remind_due() == [awaiting.id]
    assert wf.remind_due() == [] and wf.send_reminder(awaiting.id) is False
    shipment = db.session.get(Shipment, awaiting.id)
    assert shipment.reminded_at == clock() and shipment.reminder_due_at is None
    assert kinds(awaiting.order_id).count(("E5R", "buyer")) == 1
    assert history(awaiting.order_id)[-1][:2] == ("receipt_reminded", "system")


@pytest.mark.parametrize("answer", ["confirm", "report"])
def test_no_reminder_after_receipt_or_while_in_problem(
        wf: Workflow, awaiting: Shipment, clock: Any, answer: str) -> None:
    if answer == "confirm":
        wf.confirm_receipt(awaiting.id, ip="1.2.3.4", user_agent=UA)
    else:
        report(wf, awaiting)
    clock.advance(days=6)
    assert wf.remind_due() == [] and wf.send_reminder(awaiting.id) is False
    assert ("E5R", "buyer") not in kinds(awaiting.order_id)


def test_a_new_deadline_gets_its_own_reminder(wf: Workflow, awaiting: Shipment, clock: Any) -> None:
    clock.advance(days=5)
    assert wf.remind_due() == [awaiting.id]
    report(wf, awaiting)
    clock.advance(days=1)
    wf.relaunch_receipt(awaiting.id, actor=SELLER)
    clock.advance(days=5)
    assert wf.send_reminder(awaiting.id) is True
    assert kinds(awaiting.order_id).count(("E5R", "buyer")) == 2


def test_no_reminder_when_the_deadline_is_too_close(ctx: Any, clock: Any, make_order: Any) -> None:
    short = Workflow(db.session, auto_receipt_days=2, reminder_days=2, clock=clock)
    order = short.confirm_payment(make_order().id, actor=SELLER).order
    shipment = ship_all(short, order)
    short.request_receipt(shipment.id, actor=SELLER)
    assert db.session.get(Shipment, shipment.id).reminder_due_at is None
    clock.advance(days=1)
    assert short.remind_due() == []


def test_a_refused_action_schedules_nothing(wf: Workflow, awaiting: Shipment) -> None:
    wf.confirm_receipt(awaiting.id, ip="1.2.3.4", user_agent=UA)
    with pytest.raises(WorkflowError):
        wf.relaunch_receipt(awaiting.id, actor=SELLER)
    assert wf._pending_reminders == [] and wf._pending_receipts == []


def test_the_order_status_ignores_lost_parcels() -> None:
    assert derive_status(cancelled=False, paid=True, lines=[(2, 2)],
                         shipment_statuses=["lost", "received"]) == "received"
    assert derive_status(cancelled=False, paid=True, lines=[(2, 2)],
                         shipment_statuses=["lost", "problem"]) == "shipped"
    assert derive_status(cancelled=False, paid=True, lines=[(2, 0)], shipment_statuses=["lost"]) == "paid"


def test_no_reminder_once_the_deadline_has_passed(wf: Workflow, awaiting: Shipment, clock: Any) -> None:
    clock.advance(days=7, seconds=1)  # the reminder was never sent (no worker, no sweep)
    assert wf.remind_due() == [] and wf.send_reminder(awaiting.id) is False
    assert wf.auto_receive_due().received == [awaiting.id]
    assert ("E5R", "buyer") not in kinds(awaiting.order_id)
