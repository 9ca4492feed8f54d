"""The automatic-receipt sweep on a generated database: its cost must follow what is due, not
the number of parcels (spec section 5: ≤ 5 ms with 1,000,000 shipments and none due).

    python -m bench.sweep --database-url sqlite:///bench/out/bench.sqlite

For each case (none due, 1,000 due, 10,000 due) the due time of that many parcels awaiting
receipt is moved into the past (every other awaiting parcel is due in the future), then
`Workflow.auto_receive_due()` runs in an app context, as `flask admin sweep` runs it; then
everything it changed is put back (parcels, orders, and the history and e-mail rows it
added), so the database is left as generated. The query that finds what is due is also
timed alone, with its plan, which must use the index `ix_shipments_status_due`.

E-mails: by default the workflow's signals are muted during the sweep, so the figures are the
workflow's own work (the E7 rows are written; sending them is measured by the e-mail
benchmark); `--emails on` lets the app deliver as it is configured (inline without REDIS_URL).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text, update

from uniqu3.models import Order, Shipment, ShipmentStatus
from uniqu3.workflow import counts, signals
from uniqu3.workflow.actions import SWEEP_BATCH

from .common import Timing, dialect_of, engine_url, print_block, shown_url, time_calls

MODULE = "bench.sweep"
INDEX = "ix_shipments_status_due"
TARGET_NONE_DUE_MS = 5.0


@dataclass
class Awaiting:
    id: int
    order_id: int
    requested: datetime
    due: datetime


def due_query(now: datetime) -> Any:
    """The statement `Workflow.auto_receive_due` runs to find what is due (same clauses)."""
    return (
        select(Shipment.id)
        .where(Shipment.status == ShipmentStatus.AWAITING_RECEIPT, Shipment.receipt_due_at <= now)
        .order_by(Shipment.receipt_due_at, Shipment.id)
        .limit(SWEEP_BATCH)
    )


class SweepBench:
    """Sets up sweep cases on a generated database and undoes everything each run changes.

    Parcels whose deadline falls within `KEEP_CLEAR` of the start are moved further away
    for the whole benchmark, so that none becomes due by itself while it runs.
    """

    KEEP_CLEAR = timedelta(hours=12)

    def __init__(self, session: Any, workflow_factory: Any, *, seed: int, emails: bool) -> None:
        self.session = session
        self.workflow_factory = workflow_factory
        self.emails = emails
        self.now = workflow_factory().clock()
        rows = session.execute(
            select(Shipment.id, Shipment.order_id, Shipment.receipt_requested_at, Shipment.receipt_due_at)
            .where(Shipment.status == ShipmentStatus.AWAITING_RECEIPT)
            .order_by(Shipment.id)
        ).all()
        self.awaiting = [Awaiting(*row) for row in rows]
        # What a run may change, to put it back: the orders of these parcels, and the ids
        # after which history and e-mail rows are the sweep's.
        order_ids = sorted({a.order_id for a in self.awaiting})
        self.orders: dict[int, tuple[Any, ...]] = {}
        for start in range(0, len(order_ids), 500):
            self.orders.update((row[0], tuple(row[1:])) for row in session.execute(
                select(Order.id, Order.status, Order.version, Order.updated_at)
                .where(Order.id.in_(order_ids[start:start + 500]))
            ))
        self.max_event = session.scalar(text("SELECT COALESCE(max(id), 0) FROM order_events"))
        self.max_email = session.scalar(text("SELECT COALESCE(max(id), 0) FROM outbox_emails"))
        session.rollback()
        self.order = list(self.awaiting)
        random.Random(seed).shuffle(self.order)
        self._moved: set[int] = set()  # parcels whose times differ from the generated ones

    # ---------------------------------------------------------------- set up and put back
    def make_due(self, n: int) -> list[Awaiting]:
        """Exactly `n` parcels due (requested 7 days and 1 hour ago, or more); every other
        parcel awaiting receipt due in the future (those generated overdue are moved too)."""
        if n > len(self.awaiting):
            raise SystemExit(f"Only {len(self.awaiting):,} parcels await receipt: cannot make {n:,} due.")
        chosen = self.order[:n]
        chosen_ids = {a.id for a in chosen}
        clear = self.now + self.KEEP_CLEAR
        moves = [
            {"sid": a.id, "req": self.now - timedelta(days=7, hours=1, seconds=i),
             "due": self.now - timedelta(hours=1, seconds=i)}
            for i, a in enumerate(chosen)
        ]
        for a in self.awaiting:
            if a.id in chosen_ids:
                continue
            if a.due <= clear:  # overdue, or soon: out of the way
                moves.append({"sid": a.id, "req": clear + timedelta(hours=1) - timedelta(days=7),
                              "due": clear + timedelta(hours=1)})
            elif a.id in self._moved:  # chosen for an earlier case: back to its own times
                moves.append({"sid": a.id, "req": a.requested, "due": a.due})
        self._set_times(moves)
        self._moved = chosen_ids | {a.id for a in self.awaiting if a.due <= clear}
        return chosen

    def undo(self, run_started: datetime) -> list[int]:
        """Put back what a sweep run changed: parcels, orders, added history and e-mails.

        Returns the ids of the parcels the run had received."""
        session = self.session
        conn = session.connection()  # Core executemany (not the ORM's bulk update by key)
        received = conn.execute(
            select(Shipment.id, Shipment.order_id).where(
                Shipment.status == ShipmentStatus.RECEIVED, Shipment.received_by == "auto",
                Shipment.received_at >= run_started)
        ).all()
        conn.execute(text("DELETE FROM order_events WHERE id > :m"), {"m": self.max_event})
        conn.execute(text("DELETE FROM outbox_emails WHERE id > :m"), {"m": self.max_email})
        if received:
            conn.execute(
                update(Shipment).where(Shipment.id == bindparam("sid")).values(
                    status=ShipmentStatus.AWAITING_RECEIPT, received_at=None, received_by=None),
                [{"sid": sid} for sid, _ in received],
            )
            order_ids = sorted({order_id for _, order_id in received})
            conn.execute(
                update(Order).where(Order.id == bindparam("oid")).values(
                    status=bindparam("st"), version=bindparam("ver"), updated_at=bindparam("upd")),
                [dict(zip(("oid", "st", "ver", "upd"), (oid, *self.orders[oid]), strict=True))
                 for oid in order_ids],
            )
            # The orders went back without the workflow: so must their sellers' tab counts.
            sellers = conn.execute(select(Order.seller_id).where(Order.id.in_(order_ids)).distinct())
            counts.recount(session, sorted(sellers.scalars()))
        session.commit()
        return [sid for sid, _ in received]

    def restore_times(self) -> None:
        """The generated request and due times of every parcel awaiting receipt."""
        self._set_times([{"sid": a.id, "req": a.requested, "due": a.due} for a in self.awaiting])
        self._moved = set()

    def _set_times(self, moves: list[dict[str, Any]]) -> None:
        if moves:
            self.session.connection().execute(
                update(Shipment).where(Shipment.id == bindparam("sid")).values(
                    receipt_requested_at=bindparam("req"), receipt_due_at=bindparam("due")),
                moves,
            )
        self.session.commit()

    # ---------------------------------------------------------------- measurements
    def run_case(self, n: int, repeat: int) -> tuple[Timing, Timing]:
        """Wall-clock and CPU time (of this process) of `repeat` sweeps with `n` parcels due.

        On a shared machine the CPU time is the steadier figure; on PostgreSQL it leaves out
        the server's work."""
        chosen = {a.id for a in self.make_due(n)}
        timing, cpu = Timing(), Timing()
        for _ in range(repeat):
            wf = self.workflow_factory()
            run_started = wf.clock()
            try:
                with ExitStack() as stack:
                    if not self.emails:
                        stack.enter_context(signals.emails_queued.muted())
                        stack.enter_context(signals.receipt_requested.muted())
                    started, cpu_started = time.perf_counter(), time.process_time()
                    result = wf.auto_receive_due()
                    timing.samples.append(time.perf_counter() - started)
                    cpu.samples.append(time.process_time() - cpu_started)
            finally:
                self.session.rollback()
                undone = self.undo(run_started)
            if set(result.received) != chosen or set(undone) != chosen:
                raise SystemExit(f"The sweep received {len(result.received)} parcels, {n} were due.")
        return timing, cpu

    def time_due_query(self, repeat: int) -> Timing:
        self.make_due(0)
        stmt = due_query(self.now)
        session = self.session

        def run() -> None:
            assert session.scalars(stmt).all() == []

        try:
            return time_calls(run, repeat=repeat, warmup=5)
        finally:
            session.rollback()

    def time_empty_sweep(self, repeat: int) -> Timing:
        self.make_due(0)

        def run() -> None:
            assert self.workflow_factory().auto_receive_due().received == []

        return time_calls(run, repeat=repeat, warmup=3)

    def plan(self) -> list[str]:
        """The database's plan for the due query (PostgreSQL: run, with its timings)."""
        compiled = due_query(self.now).compile()  # generic SQL with named, typed parameters
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        prefix = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN (ANALYZE, BUFFERS)"
        stmt = text(f"{prefix} {compiled}").bindparams(*[
            bindparam(name, value, type_=compiled.binds[name].type) for name, value in compiled.params.items()
        ])
        rows = self.session.execute(stmt).all()
        self.session.rollback()
        return [str(row[-1] if sqlite else row[0]).strip() for row in rows]


# ----------------------------------------------------------------------------- command
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="a database filled by bench.generate (default: $DATABASE_URL)")
    parser.add_argument("--cases", default="0,1000,10000", help="numbers of due parcels")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each case")
    parser.add_argument("--query-repeat", type=int, default=200,
                        help="runs of the due query and of the sweep with none due")
    parser.add_argument("--emails", choices=("muted", "on"), default="muted")
    parser.add_argument("--seed", type=int, default=42, help="which parcels are made due")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = engine_url(args.database_url)
    cases = [int(n) for n in args.cases.split(",") if n.strip()]

    from uniqu3 import create_app
    from uniqu3.extensions import db
    from uniqu3.services import workflow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, profile="development")
    with app.app_context():
        bench = SweepBench(db.session, workflow, seed=args.seed, emails=args.emails == "on")
        total = db.session.scalar(select(func.count()).select_from(Shipment))
        db.session.rollback()
        generated_overdue = sum(1 for a in bench.awaiting if a.due <= bench.now)
        try:
            query = bench.time_due_query(args.query_repeat)
            empty = bench.time_empty_sweep(max(10, args.query_repeat // 4))
            plan = bench.plan()
            results = [(n, bench.run_case(n, args.repeat)) for n in cases]
        finally:
            bench.restore_times()
        db.engine.dispose()

    index_used = any(INDEX in line for line in plan)
    met = query.median * 1000 <= TARGET_NONE_DUE_MS and index_used
    figures = [
        ("database", f"{dialect_of(url)} {shown_url(url)}"),
        ("shipments", f"{total:,} ({len(bench.awaiting):,} awaiting receipt, "
                      f"{generated_overdue:,} of them generated overdue)"),
        ("e-mails", "signals muted (E7 rows written, not sent)" if args.emails == "muted"
         else "delivered as the app is configured"),
        ("due query, none due", query.summary_ms(3)),
        ("sweep, none due", empty.summary_ms(3)),
        ("plan", " | ".join(plan)),
        (f"index {INDEX}", "used" if index_used else "NOT USED"),
        (f"target ≤ {TARGET_NONE_DUE_MS:g} ms, none due", "met" if met else "NOT MET"),
    ]
    for n, (timing, cpu) in results:
        extra = ""
        if n:
            extra = (f"; a parcel: {timing.median / n * 1000:.2f} ms wall, {cpu.median / n * 1000:.2f} ms CPU"
                     f" ({n / timing.median:,.0f} parcels/s)")
        figures.append((f"sweep, {n:,} due",
                        f"median {timing.median:.3f} s wall (max {max(timing.samples):.3f}), "
                        f"{cpu.median:.3f} s CPU, n={len(timing.samples)}{extra}"))
    due = {n: pair for n, pair in results if n}
    if len(due) >= 2:
        small, big = min(due), max(due)
        wall = due[big][0].median / due[small][0].median
        cpu_ratio = due[big][1].median / due[small][1].median
        figures.append(("growth", f"{big:,} due / {small:,} due (× {big / small:g} parcels): "
                                  f"wall time × {wall:.1f}, CPU time × {cpu_ratio:.1f}"))
    print_block("Automatic-receipt sweep", figures, module=MODULE, argv=argv)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
