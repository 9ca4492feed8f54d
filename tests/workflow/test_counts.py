"""The tabs' counts kept on the seller's row: every action moves them as the orders move, a
refusal or a repeat moves nothing, and `recount` finds and mends counts that went wrong."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from tests.conftest import ship_all
from tests.workflow.test_problems import report
from tests.workflow.test_transitions import SELLER
from uniqu3.extensions import db
from uniqu3.models import Order, Seller
from uniqu3.workflow import InvalidTransition, Workflow, counts


def kept(seller: Seller) -> dict[str, int]:
    """The seller's non-zero counts, as stored, checked against the orders themselves."""
    db.session.expire_all()
    stored = counts.of(seller)
    assert stored == counts.counted(db.session, [seller.id])[seller.id]
    return {bucket: n for bucket, n in stored.items() if n}


def test_each_action_moves_the_order_from_one_count_to_the_next(wf: Workflow, seller: Seller,
                                                                make_order: Any) -> None:
    order = make_order()
    other = make_order()
    assert kept(seller) == {"awaiting_payment": 2}
    wf.confirm_payment(order.id, actor=SELLER)
    assert kept(seller) == {"awaiting_payment": 1, "paid": 1}
    wf.cancel(other.id, actor=SELLER)
    assert kept(seller) == {"paid": 1, "cancelled": 1}
    parcel = ship_all(wf, order)
    assert kept(seller) == {"shipped": 1, "cancelled": 1}
    wf.request_receipt(parcel.id, actor=SELLER)
    report(wf, parcel)
    # Still « Expédiée », with a parcel in problem: counted in « Problèmes » and, not being in a
    # status « À traiter » shows, in its problems.
    assert kept(seller) == {"shipped": 1, "cancelled": 1, "open_problems": 1, "other_problems": 1}
    wf.declare_lost(parcel.id, actor=SELLER)
    # Lost: the items are to ship again and owed back until then.
    assert kept(seller) == {"paid": 1, "cancelled": 1, "refund_due": 1}
    due = db.session.get(Order, order.id).refund_due_cents  # type: ignore[union-attr]
    wf.record_refund(order.id, actor=SELLER, amount_cents=due, method="transfer")
    assert kept(seller) == {"paid": 1, "cancelled": 1}


def test_a_refusal_or_a_repeat_moves_no_count(wf: Workflow, seller: Seller, make_order: Any) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    assert wf.confirm_payment(order.id, actor=SELLER).changed is False
    assert kept(seller) == {"paid": 1}
    parcel = ship_all(wf, order)
    wf.request_receipt(parcel.id, actor=SELLER)
    with pytest.raises(InvalidTransition):
        wf.cancel(order.id, actor=SELLER)  # its parcel has left
    assert wf.request_receipt(parcel.id, actor=SELLER).changed is False
    assert kept(seller) == {"shipped": 1}


def test_recount_mends_counts_written_without_the_workflow(wf: Workflow, seller: Seller,
                                                           make_order: Any) -> None:
    wf.confirm_payment(make_order().id, actor=SELLER)
    make_order()
    assert counts.recount(db.session) == []
    db.session.execute(update(Seller).where(Seller.id == seller.id).values(orders_paid=7, orders_received=2))
    assert counts.recount(db.session) == [seller.id]
    db.session.commit()
    assert kept(seller) == {"awaiting_payment": 1, "paid": 1}
