"""Two requests at once cannot over-ship, double-receive or double-mail (real database)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from uniqu3.extensions import db
from uniqu3.models import Order, OrderLine, OutboxEmail, Seller, Shipment
from uniqu3.workflow import Actor, Workflow, WorkflowError, counts

SELLER = Actor.seller("atelier@example.fr")


def race(app: Flask, clock: Any, n: int, action: Callable[[Workflow, int], Any]) -> list[Any]:
    """Run `action` in n threads released together, each with its own session."""
    barrier = threading.Barrier(n)
    outcomes: list[Any] = [None] * n

    def run(i: int) -> None:
        with app.app_context():
            wf = Workflow(db.session, auto_receipt_days=7, clock=clock)
            barrier.wait()
            try:
                outcomes[i] = action(wf, i)
            except WorkflowError as exc:
                outcomes[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


@pytest.fixture
def paid_order(wf: Workflow, make_order: Any) -> Order:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    return db.session.get(Order, order.id)


def test_twenty_sellers_shipping_the_last_units_ship_exactly_what_is_left(
    app: Flask, clock: Any, paid_order: Order
) -> None:
    bag = next(line for line in paid_order.lines if line.sku == "BAG-RED-01")
    line_id, order_id = bag.id, paid_order.id
    db.session.remove()

    outcomes = race(app, clock, 20, lambda wf, i: wf.ship(
        order_id, actor=SELLER, quantities={line_id: 1}, carrier="hand_delivery"))

    shipped = [o for o in outcomes if not isinstance(o, WorkflowError)]
    refused = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(shipped) == 2  # two units were ordered
    assert len(refused) == 18
    assert all("expédi" in str(e) for e in refused)
    with app.app_context():
        assert db.session.get(OrderLine, line_id).shipped_quantity == 2
        assert db.session.scalar(select(func.count()).select_from(Shipment)) == 2
        assert db.session.scalar(select(func.count()).where(OutboxEmail.kind == "E4")) == 2


def test_buyer_confirming_while_the_sweep_runs_gives_one_receipt_and_one_email(
    app: Flask, clock: Any, wf: Workflow, paid_order: Order
) -> None:
    quantities = {line.id: line.quantity for line in paid_order.lines}
    parcel = wf.ship(paid_order.id, actor=SELLER, quantities=quantities, carrier="hand_delivery").shipment
    assert parcel is not None
    wf.request_receipt(parcel.id, actor=SELLER)
    clock.advance(days=7, seconds=1)
    parcel_id = parcel.id
    db.session.remove()

    def act(w: Workflow, i: int) -> Any:
        if i % 2:
            return w.auto_receive_due()
        return w.confirm_receipt(parcel_id, ip="198.51.100.7")

    race(app, clock, 6, act)
    with app.app_context():
        shipment = db.session.get(Shipment, parcel_id)
        assert shipment.status == "received"
        kinds = db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.shipment_id == parcel_id)).all()
        if shipment.received_by == "buyer":
            assert sorted(kinds) == ["E4", "E5", "E6"]
        else:
            assert sorted(kinds) == ["E4", "E5", "E7", "E7"]


def test_the_same_order_sent_twice_at_once_is_recorded_once(app: Flask, clock: Any, seller: Any) -> None:
    from tests.conftest import order_input

    data = order_input(seller.email, "MKT-RACE")
    db.session.remove()
    outcomes = race(app, clock, 8, lambda wf, i: wf.place_order(data, actor=Actor.api()))
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert sum(1 for o in outcomes if o.changed) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 2


def test_one_sellers_orders_paid_at_once_all_move_its_tab_counts(
    app: Flask, clock: Any, wf: Workflow, make_order: Any, seller: Any
) -> None:
    """Each payment's transaction moves the seller's counts by its own order: none is lost
    when ten commit at once (the seller's row is updated by adding, under its lock)."""
    order_ids = [make_order().id for _ in range(10)]
    seller_id = seller.id
    db.session.remove()

    outcomes = race(app, clock, 10, lambda wf, i: wf.confirm_payment(order_ids[i], actor=SELLER))

    assert not [o for o in outcomes if isinstance(o, WorkflowError)]
    with app.app_context():
        kept = counts.of(db.session.get(Seller, seller_id))
        assert (kept["awaiting_payment"], kept["paid"]) == (0, 10)
        assert counts.wrong(db.session(), counts.counted(db.session())) == []
