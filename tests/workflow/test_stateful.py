"""Random sequences of seller, buyer and clock actions; the invariants hold after each step.

- shipped ≤ ordered on every line;
- the stored status equals the pure status function;
- a refused action changed nothing;
- every e-mail the spec requires is in the outbox exactly once.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from tests.conftest import Clock, _empty_tables, cached_hash, order_input
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OrderLine, OutboxEmail, Seller, Shipment
from uniqu3.timeutil import paris_today
from uniqu3.workflow import Actor, LineInput, Workflow, WorkflowError, counts, derive_status, signals

SELLER = Actor.seller("s@example.fr")
CARRIERS = [("hand_delivery", ""), ("colissimo", "6A{n:011d}"), ("colissimo", "6A{n:011d}"),
            ("colissimo", "bad"), ("pigeon", "")]
# A light run with the rest of the suite; the reliability suite runs the deep one
# (RELIABILITY_STATEFUL_EXAMPLES, tests/reliability/test_bad_input.py).
EXAMPLES = int(os.environ.get("WORKFLOW_STATEFUL_EXAMPLES", "15"))
STEPS = 50  # at most, per example


def snapshot() -> tuple[Any, ...]:
    """Everything an action may change, to prove a refusal changed nothing."""
    db.session.expire_all()
    return (
        sorted((o.id, o.status, o.paid_at, o.cancelled_at, o.version)
               for o in db.session.scalars(select(Order))),
        sorted((l.id, l.shipped_quantity) for l in db.session.scalars(select(OrderLine))),
        sorted((s.id, s.status, s.received_by, s.receipt_due_at)
               for s in db.session.scalars(select(Shipment))),
        db.session.scalars(select(OrderEvent.id).order_by(OrderEvent.id)).all(),
        db.session.scalars(select(OutboxEmail.id).order_by(OutboxEmail.id)).all(),
        [counts.of(seller) for seller in db.session.scalars(select(Seller).order_by(Seller.id))],
    )


@dataclass
class Tally:
    """What a run of the state machine saw: examples, steps, invariants checked and broken."""

    examples: int = 0
    steps_max: int = 0
    checks: int = 0
    broken: list[str] = field(default_factory=list)
    error: BaseException | None = None


def test_random_workflows_keep_the_invariants(app: Flask) -> None:
    tally = run_random_workflows(app, EXAMPLES)
    if tally.error is not None:
        raise tally.error
    assert tally.examples >= EXAMPLES and tally.checks > tally.examples and tally.broken == []


def run_random_workflows(app: Flask, examples: int) -> Tally:
    """Runs the state machine; a broken invariant is counted in the tally (with Hypothesis's
    error, minimal example included) rather than raised, so that a caller records it first."""
    tally = Tally()

    class Orders(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            tally.examples += 1
            self.steps = 0
            _empty_tables(app)
            self.ctx = app.app_context()
            self.ctx.push()
            self.clock = Clock()
            self.wf = Workflow(db.session, auto_receipt_days=7, clock=self.clock)
            db.session.add(Seller(email="s@example.fr", shop_name="S", password_hash=cached_hash("x")))
            db.session.commit()
            self.orders: list[int] = []
            self.shipments: list[int] = []
            self.counter = 0

        def teardown(self) -> None:
            db.session.remove()
            self.ctx.pop()

        def require(self, held: bool, what: str) -> None:
            tally.checks += 1
            if not held:
                tally.broken.append(what)
                raise AssertionError(what)

        def attempt(self, action: Any) -> Any:
            before = snapshot()
            try:
                return action()
            except WorkflowError:
                self.require(snapshot() == before, "a refused action changed something")
                return None

        @initialize(quantities=st.lists(st.integers(1, 3), min_size=1, max_size=3))
        def first_order(self, quantities: list[int]) -> None:
            self.place(quantities)
            self.wf.confirm_payment(self.orders[0], actor=SELLER)

        @rule(quantities=st.lists(st.integers(1, 3), min_size=1, max_size=3))
        def place(self, quantities: list[int]) -> None:
            self.counter += 1
            lines = tuple(LineInput(f"SKU-{i}", f"Article {i}", q, 100 * (i + 1))
                          for i, q in enumerate(quantities))
            order = self.wf.place_order(order_input("s@example.fr", f"X-{self.counter}", lines=lines),
                                        actor=Actor.api()).order
            self.orders.append(order.id)

        @rule(i=st.integers(0, 50), replay=st.booleans())
        def replay_order(self, i: int, replay: bool) -> None:
            if not self.orders:
                return
            order = db.session.get(Order, self.orders[i % len(self.orders)])
            lines = tuple(LineInput(l.sku, l.title, l.quantity, l.unit_price_cents) for l in order.lines)
            data = order_input("s@example.fr", order.external_id,
                               lines=lines if replay else (*lines[:1], LineInput("NEW", "n", 1, 1)))
            self.attempt(lambda: self.wf.place_order(data, actor=Actor.api()))

        @rule(i=st.integers(0, 50))
        def pay(self, i: int) -> None:
            if self.orders:
                self.attempt(lambda: self.wf.confirm_payment(self.orders[i % len(self.orders)], actor=SELLER))

        @rule(i=st.integers(0, 50))
        def cancel(self, i: int) -> None:
            if self.orders:
                self.attempt(lambda: self.wf.cancel(self.orders[i % len(self.orders)], actor=SELLER))

        @rule(i=st.integers(0, 50), mode=st.sampled_from(["rest", "rest", "one", "one", "over", "none"]),
              carrier=st.sampled_from(CARRIERS), key=st.sampled_from([None, "k1", "k2"]),
              days_back=st.sampled_from([0, 0, 0, 0, 1, -1]))
        def ship(self, i: int, mode: str, carrier: tuple[str, str], key: str | None,
                 days_back: int) -> None:
            if not self.orders:
                return
            order = db.session.get(Order, self.orders[i % len(self.orders)])
            open_lines = [line for line in order.lines if line.remaining] or order.lines
            quantities = {
                "rest": {line.id: line.remaining for line in order.lines},
                "one": {open_lines[0].id: 1},
                "over": {open_lines[0].id: open_lines[0].remaining + 1},
                "none": {},
            }[mode]
            self.counter += 1
            code, number = carrier
            result = self.attempt(lambda: self.wf.ship(
                order.id, actor=SELLER, quantities=quantities, carrier=code,
                tracking_number=number.format(n=self.counter),
                shipped_on=paris_today(self.clock.now) - timedelta(days=days_back),
                request_key=key))
            if result is not None and result.changed and result.shipment is not None:
                self.shipments.append(result.shipment.id)

        @rule(i=st.integers(0, 50))
        def request_receipt(self, i: int) -> None:
            if self.shipments:
                self.attempt(lambda: self.wf.request_receipt(self.shipments[i % len(self.shipments)],
                                                             actor=SELLER))

        @rule(i=st.integers(0, 50))
        def buyer_confirms(self, i: int) -> None:
            if self.shipments:
                self.attempt(lambda: self.wf.confirm_receipt(self.shipments[i % len(self.shipments)]))

        @rule(days=st.integers(0, 8))
        def time_passes(self, days: int) -> None:
            self.clock.advance(days=days, hours=1)

        @rule()
        def sweep(self) -> None:
            self.wf.auto_receive_due()

        @rule(i=st.integers(0, 50))
        def scheduled_job(self, i: int) -> None:
            if self.shipments:
                self.wf.auto_receive(self.shipments[i % len(self.shipments)])

        @invariant()
        def count_steps(self) -> None:
            self.steps += 1  # after the initial order, then after each step
            tally.steps_max = max(tally.steps_max, self.steps - 1)

        @invariant()
        def shipped_within_ordered(self) -> None:
            for line in db.session.scalars(select(OrderLine)):
                self.require(0 <= line.shipped_quantity <= line.quantity,
                             f"line {line.id}: {line.shipped_quantity} shipped of {line.quantity}")
            for line in db.session.scalars(select(OrderLine)):
                shipped = sum(sl.quantity for s in line.order.shipments for sl in s.lines
                              if sl.order_line_id == line.id)
                self.require(shipped == line.shipped_quantity,
                             f"line {line.id}: parcels hold {shipped}, the line says {line.shipped_quantity}")

        @invariant()
        def tab_counts_are_the_orders_counted(self) -> None:
            db.session.expire_all()
            kept = {seller.id: counts.of(seller) for seller in db.session.scalars(select(Seller))}
            self.require(kept == counts.counted(db.session),
                         f"the sellers' tab counts {kept} are not {counts.counted(db.session)}")

        @invariant()
        def status_is_the_pure_function(self) -> None:
            db.session.expire_all()
            for order in db.session.scalars(select(Order)):
                expected = derive_status(
                    cancelled=order.cancelled_at is not None, paid=order.paid_at is not None,
                    lines=[(l.quantity, l.shipped_quantity) for l in order.lines],
                    shipment_statuses=[s.status for s in order.shipments])
                self.require(order.status == expected, f"order {order.id}: {order.status}, not {expected}")

        @invariant()
        def every_required_email_exactly_once(self) -> None:
            expected: Counter[tuple[str, int | None, str]] = Counter()
            for order in db.session.scalars(select(Order)):
                expected[("E1", None, f"o{order.id}")] += 1
                expected[("E2", None, f"o{order.id}")] += 1
                if order.paid_at is not None:
                    expected[("E3", None, f"o{order.id}")] += 1
                if order.cancelled_at is not None:
                    expected[("E8", None, f"o{order.id}")] += 1
                for s in order.shipments:
                    expected[("E4", s.id, "buyer")] += 1
                    if s.receipt_requested_at is not None:
                        expected[("E5", s.id, "buyer")] += 1
                    if s.received_by == "buyer":
                        expected[("E6", s.id, "seller")] += 1
                    if s.received_by == "auto":
                        expected[("E7", s.id, "seller")] += 1
                        expected[("E7", s.id, "buyer")] += 1
            actual: Counter[tuple[str, int | None, str]] = Counter()
            for e in db.session.scalars(select(OutboxEmail)):
                if e.shipment_id is None:
                    actual[(e.kind, None, f"o{e.order_id}")] += 1
                else:
                    actual[(e.kind, e.shipment_id, e.recipient_role)] += 1
            self.require(actual == expected,
                         f"outbox: {actual - expected} too many, {expected - actual} missing")

    # The outbox rows are what is checked here; delivering them is the e-mail tests' business.
    with signals.emails_queued.muted():
        try:
            run_state_machine_as_test(Orders, settings=settings(
                max_examples=examples, stateful_step_count=STEPS, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
        except Exception as error:  # Hypothesis's report of the minimal failing example
            tally.error = error
            if not tally.broken:
                tally.broken.append(repr(error))
    return tally
