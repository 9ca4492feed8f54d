"""The benchmark data generator writes data the workflow itself could have written."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from bench.dataset import BIG_SELLER_EMAIL, BIG_SELLER_PASSWORD, TABLE_ORDER, Dataset, Sizes
from bench.generate import generate
from tests.conftest import Clock, order_input
from uniqu3 import carriers
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OutboxEmail, Seller, Shipment
from uniqu3.passwords import verify_password
from uniqu3.search_index import search_text
from uniqu3.timeutil import as_utc, paris_today
from uniqu3.workflow import Actor, Address, LineInput, OrderInput, Workflow, counts, derive_status

ORDERS, OVERDUE = 300, 6

# The e-mails each history event causes (kind, recipient), as the workflow writes them.
EMAILS_OF_EVENT = {
    "order_placed": [("E1", "seller"), ("E2", "buyer")],
    "payment_confirmed": [("E3", "buyer")],
    "shipped": [("E4", "buyer")],
    "receipt_requested": [("E5", "buyer")],
    "receipt_confirmed": [("E6", "seller")],
    "auto_received": [("E7", "seller"), ("E7", "buyer")],
    "cancelled": [("E8", "buyer")],
}


def sizes_for(clock: Clock, **changes: Any) -> Sizes:
    fields: dict[str, Any] = {"sellers": 4, "orders": ORDERS, "big_seller_orders": 100,
                              "overdue": OVERDUE, "seed": 7, "now": clock.now}
    fields.update(changes)
    return Sizes(**fields)


@pytest.fixture
def generated(app: Any, database_url: str, clock: Clock) -> Any:
    return generate(database_url, sizes_for(clock), jobs=1, vacuum=False, quiet=True)


def all_orders() -> list[Order]:
    return list(db.session.scalars(
        select(Order).order_by(Order.id).options(
            selectinload(Order.lines),
            selectinload(Order.shipments).selectinload(Shipment.lines),
            selectinload(Order.events),
        )
    ))


def test_every_order_is_consistent_with_the_workflow(generated: Any, ctx: Any, clock: Clock) -> None:
    assert generated.counts["orders"] == ORDERS
    orders = all_orders()
    outbox: dict[int, Counter[tuple[str, str]]] = {}
    for row in db.session.scalars(select(OutboxEmail)):
        assert row.status == "sent" and row.sent_at is not None
        outbox.setdefault(row.order_id, Counter())[(row.kind, row.recipient_role)] += 1
    assert len(orders) == ORDERS
    previous = None
    for order in orders:
        created = as_utc(order.created_at)
        assert clock.now - timedelta(days=2 * 365 + 1) <= created <= clock.now
        if previous is not None:  # ids increase with time
            assert created >= previous
        previous = created
        assert order.reference == f"UQ-{created.year}-{order.id:06d}"
        # What the workflow would have written: the « Commandes » search finds generated orders.
        assert order.search_text == search_text(order.reference, order.buyer_name, order.buyer_email,
                                                [line.sku for line in order.lines],
                                                [s.tracking_number for s in order.shipments])
        assert order.total_cents == sum(line.quantity * line.unit_price_cents for line in order.lines)
        assert 1 <= len(order.lines) <= 5
        for line in order.lines:
            shipped = sum(part.quantity for s in order.shipments for part in s.lines
                          if part.order_line_id == line.id)
            assert line.shipped_quantity == shipped
        assert order.status == derive_status(
            cancelled=order.cancelled_at is not None,
            paid=order.paid_at is not None,
            lines=[(line.quantity, line.shipped_quantity) for line in order.lines],
            shipment_statuses=[s.status for s in order.shipments],
        )
        # Every action after the order was placed locked (bumped) the order and wrote history.
        events = order.events
        assert events[0].kind == "order_placed"
        assert order.version == len(events)
        assert as_utc(order.updated_at) == max(as_utc(e.at) for e in events)
        assert [as_utc(e.at) for e in events] == sorted(as_utc(e.at) for e in events)
        expected_emails: Counter[tuple[str, str]] = Counter()
        for event in events:
            expected_emails.update(EMAILS_OF_EVENT[event.kind])
        assert outbox[order.id] == expected_emails, order.reference
        kinds = Counter(e.kind for e in events)
        assert kinds["shipped"] == len(order.shipments)
        assert kinds["payment_confirmed"] == (order.paid_at is not None)
        assert kinds["cancelled"] == (order.cancelled_at is not None)
        for shipment in order.shipments:
            check_shipment(order, shipment, clock)


def check_shipment(order: Order, shipment: Shipment, clock: Clock) -> None:
    carrier = carriers.get_carrier(shipment.carrier)
    assert carriers.check_tracking_number(carrier, shipment.tracking_number) == shipment.tracking_number
    if carrier.code != "other":
        assert shipment.tracking_url == carriers.tracking_url(carrier, shipment.tracking_number)
    assert paris_today(order.created_at) <= shipment.shipped_on <= paris_today(clock.now)
    assert as_utc(shipment.created_at) >= as_utc(order.paid_at)
    if shipment.status == "shipped":
        assert shipment.receipt_requested_at is None and shipment.received_at is None
        return
    assert shipment.receipt_due_at == shipment.receipt_requested_at + timedelta(days=7)
    if shipment.status == "received":
        assert shipment.received_by in {"buyer", "auto"}
        if shipment.received_by == "auto":
            assert shipment.received_at >= shipment.receipt_due_at
        else:
            assert shipment.received_at < shipment.receipt_due_at and shipment.proof_ip


def test_only_the_chosen_parcels_are_overdue_and_the_sweep_receives_them(
    generated: Any, wf: Workflow, clock: Clock
) -> None:
    awaiting = list(db.session.scalars(select(Shipment).where(Shipment.status == "awaiting_receipt")))
    overdue = sorted(s.id for s in awaiting if as_utc(s.receipt_due_at) <= clock.now)
    assert len(overdue) == OVERDUE
    assert all(as_utc(s.receipt_due_at) <= clock.now + timedelta(days=7) for s in awaiting)
    db.session.rollback()

    swept = wf.auto_receive_due()
    assert sorted(swept.received) == overdue
    for order in all_orders():
        assert order.status == derive_status(
            cancelled=order.cancelled_at is not None, paid=order.paid_at is not None,
            lines=[(line.quantity, line.shipped_quantity) for line in order.lines],
            shipment_statuses=[s.status for s in order.shipments],
        )
    assert wf.auto_receive_due().received == []
    # The tabs' counts: set by the load, then moved by the sweep as the orders moved.
    sellers = list(db.session.scalars(select(Seller)))
    assert {seller.id: counts.of(seller) for seller in sellers} == counts.counted(db.session)
    assert sum(counts.of(seller)["received"] for seller in sellers) > 0


def test_the_big_seller_can_log_in_and_generated_orders_replay_through_the_workflow(
    generated: Any, wf: Workflow
) -> None:
    big = db.session.scalar(select(Seller).where(Seller.email == BIG_SELLER_EMAIL))
    assert big is not None and verify_password(big.password_hash, BIG_SELLER_PASSWORD)
    per_seller = dict(db.session.execute(
        select(Order.seller_id, func.count()).group_by(Order.seller_id)).all())
    assert per_seller[big.id] == 100 and sum(per_seller.values()) == ORDERS

    # The stored request hash is the intake fingerprint: the marketplace sending an order
    # again is answered with the existing order, not a conflict nor a second order.
    for order in all_orders()[::37]:
        seller_email = db.session.get(Seller, order.seller_id).email
        again = wf.place_order(OrderInput(
            external_id=order.external_id, seller_email=seller_email, buyer_name=order.buyer_name,
            buyer_email=order.buyer_email, billing_address=Address(**order.billing_address),
            shipping_address=Address(**order.shipping_address), currency=order.currency,
            lines=tuple(LineInput(line.sku, line.title, line.quantity, line.unit_price_cents)
                        for line in order.lines),
        ), actor=Actor.api("storefront"))
        assert not again.changed and again.order.id == order.id

    # Ids continue after the generated ones (PostgreSQL sequences were moved past them).
    new = wf.place_order(order_input(BIG_SELLER_EMAIL, "AFTER-BENCH-1"), actor=Actor.api()).order
    assert new.id == ORDERS + 1 and new.reference == f"UQ-2026-{ORDERS + 1:06d}"
    assert db.session.scalar(select(func.max(OrderEvent.id))) == generated.counts["order_events"] + 1


def test_sqlite_rows_are_stored_in_the_apps_own_formats(generated: Any, ctx: Any,
                                                        database_url: str, wf: Workflow) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite storage formats")
    wf.place_order(order_input(BIG_SELLER_EMAIL, "AFTER-BENCH-2"), actor=Actor.api())
    rows = db.session.execute(text(
        "SELECT created_at, billing_address FROM orders WHERE id IN (1, :new) ORDER BY id"
    ), {"new": ORDERS + 1}).all()
    (gen_time, gen_json), (app_time, app_json) = rows
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
    assert stamp.fullmatch(gen_time) and stamp.fullmatch(app_time)
    assert gen_json == json.dumps(json.loads(gen_json))
    assert app_json == json.dumps(json.loads(app_json))


def test_generating_again_into_the_filled_database_is_refused(generated: Any, database_url: str,
                                                              clock: Clock) -> None:
    with pytest.raises(SystemExit, match="not empty"):
        generate(database_url, sizes_for(clock), jobs=1, vacuum=False, quiet=True)


class MemorySink:
    def __init__(self) -> None:
        self.buffers: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLE_ORDER}

    def maybe_flush(self) -> None:
        pass


def rows_for(sizes: Sizes) -> dict[str, list[tuple[Any, ...]]]:
    sink = MemorySink()
    Dataset(sizes, password_hash="hash").write(sink)
    return sink.buffers


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(clock: Clock) -> None:
    first = rows_for(sizes_for(clock, orders=120, big_seller_orders=40, overdue=2))
    assert first == rows_for(sizes_for(clock, orders=120, big_seller_orders=40, overdue=2))
    assert first["orders"] != rows_for(sizes_for(clock, orders=120, big_seller_orders=40, overdue=2,
                                                 seed=8))["orders"]


@pytest.mark.parametrize("changes, message", [
    ({"big_seller_orders": ORDERS + 1}, "--big-seller-orders"),
    ({"overdue": ORDERS}, "--overdue"),
    ({"sellers": 1}, "With one seller"),
])
def test_impossible_sizes_are_refused(clock: Clock, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sizes_for(clock, **changes).check()
