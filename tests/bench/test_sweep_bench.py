"""The sweep benchmark measures on the generated database and leaves it as it found it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bench.dataset import Sizes
from bench.generate import generate
from bench.sweep import INDEX, SweepBench
from tests.conftest import Clock
from uniqu3.extensions import Base, db
from uniqu3.models import Shipment
from uniqu3.timeutil import as_utc
from uniqu3.workflow import Workflow


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    tables = ("orders", "shipments", "order_events", "outbox_emails")
    state = {name: [tuple(row) for row in db.session.execute(
        select(Base.metadata.tables[name]).order_by(Base.metadata.tables[name].c.id))]
        for name in tables}
    db.session.rollback()
    return state


def test_a_sweep_case_receives_exactly_n_parcels_and_everything_is_put_back(
    app: Any, ctx: Any, database_url: str, clock: Clock
) -> None:
    generate(database_url, Sizes(sellers=3, orders=400, big_seller_orders=100, overdue=2, seed=3,
                                 now=clock.now), jobs=1, vacuum=False, quiet=True)
    before = snapshot()

    def workflow() -> Workflow:
        return Workflow(db.session, clock=clock)

    bench = SweepBench(db.session, workflow, seed=1, emails=False)
    awaiting = len(bench.awaiting)
    assert awaiting > 5
    timing = bench.run_case(5, repeat=2)
    assert len(timing.samples) == 2
    # While a case is set up, exactly its parcels are due; the generated overdue ones wait.
    bench.make_due(0)
    assert bench.time_due_query(repeat=3).samples
    assert not [s for s in db.session.scalars(select(Shipment).where(Shipment.status == "awaiting_receipt"))
                if as_utc(s.receipt_due_at) <= clock.now]
    db.session.rollback()
    bench.restore_times()
    assert snapshot() == before
    if database_url.startswith("sqlite"):  # PostgreSQL scans a table this small
        assert any(INDEX in line for line in bench.plan())
