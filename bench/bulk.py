"""Acting on many orders at once: the selection's payment confirmation of 100 orders, and a
1,000-row tracking import (preview, apply, the same file again). Time and SQL statements.

    python -m bench.bulk --database-url sqlite:///bench/out/bulk.sqlite
    python -m bench.bulk --database-url 'postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbulk'

The database is made for the run (tables dropped and created: use a file or a schema of its
own), with one seller and their orders placed through the workflow. Each figure is one run of
the whole action as its entry point runs it: `workflow.bulk.confirm_payments` on the 100
orders (what « Confirmer les paiements » calls), then the same POST through the web view
(summary and list rendered); `tracking_import.check` on the read file (the preview) and
`tracking_import.apply` (check again, then one `Workflow.ship` per parcel), then the same file
again (every row « déjà importé »). Rounds: `--rounds` fresh sets of orders, median shown.

E-mails: the workflow's signals are muted (the outbox rows are written, not sent): the
figures are the work of the action itself; sending is the e-mail benchmark's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy import event

from .common import dialect_of, engine_url, print_block, shown_url

MODULE = "bench.bulk"
SELLER = "bulk@bench.uniqu3.fr"


class Statements:
    """SQL statements run while counting (every connection of the engine)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0

    def _seen(self, *args: Any) -> None:
        self.count += 1

    @contextmanager
    def counting(self) -> Iterator[Statements]:
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._seen)


def timed(statements: Statements, fn: Callable[[], Any]) -> tuple[float, float, int, Any]:
    """Wall time, this process's CPU time (less sensitive to a busy machine), statements."""
    with statements.counting():
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    return elapsed, cpu_used, statements.count, result


def place(wf: Any, count: int, prefix: str) -> list[Any]:
    from uniqu3.workflow import Actor, Address, LineInput, OrderInput

    address = Address("Camille Martin", "12 rue des Lilas", "", "69003", "Lyon", "FR")
    orders = []
    for n in range(count):
        data = OrderInput(f"{prefix}-{n}", SELLER, f"Client {n}", f"client{n}@example.fr", address, address,
                          "EUR", (LineInput("BAG-RED-01", "Sac cabas rouge", 2, 3490),
                                  LineInput("CARD-01", "Carte brodée", 1, 550)))
        orders.append(wf.place_order(data, actor=Actor.api("bench")).order)
    return orders


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=MODULE, description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--orders", type=int, default=100, help="orders confirmed at once")
    parser.add_argument("--rows", type=int, default=1_000, help="rows of the tracking file")
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = engine_url(args.database_url)

    from uniqu3 import create_app
    from uniqu3.extensions import Base, db
    from uniqu3.models import Seller
    from uniqu3.passwords import hash_password
    from uniqu3.services import workflow
    from uniqu3.workflow import Actor, bulk, signals
    from uniqu3.workflow import tracking_import as imports

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "ORDERS_LIST_CACHE_SIZE": 0}, profile="development")
    figures: dict[str, list[tuple[float, float, int]]] = {}

    def keep(name: str, elapsed: float, cpu: float, statements: int) -> None:
        figures.setdefault(name, []).append((elapsed, cpu, statements))

    with app.app_context(), ExitStack() as muted:
        muted.enter_context(signals.emails_queued.muted())
        muted.enter_context(signals.receipt_requested.muted())
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        seller = Seller(email=SELLER, shop_name="Bench", password_hash=hash_password("bench-password-1"),
                        payment_instructions="Virement")
        db.session.add(seller)
        db.session.commit()
        seller_id = seller.id
        statements = Statements(db.engine)
        actor = Actor.seller(SELLER)
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = seller.get_id()
            session["_fresh"] = True
            session["seen"] = int(time.time())
        for round_ in range(args.rounds):
            wf = workflow()
            refs = [o.reference for o in place(wf, args.orders, f"pay{round_}")]
            elapsed, cpu, count, outcomes = timed(statements, lambda refs=refs: bulk.confirm_payments(
                workflow(), bulk.select_orders(db.session(), seller_id, refs), actor=actor))
            assert all(o.outcome == bulk.Outcome.DONE for o in outcomes), outcomes
            keep("confirm_payments", elapsed, cpu, count)
            elapsed, cpu, count, _ = timed(statements, lambda refs=refs: bulk.confirm_payments(
                workflow(), bulk.select_orders(db.session(), seller_id, refs), actor=actor))
            keep("confirm_payments again", elapsed, cpu, count)
            # The same through the web view, on fresh orders: the summary and the list rendered.
            refs = [o.reference for o in place(wf, args.orders, f"web{round_}")]
            elapsed, cpu, count, response = timed(statements, lambda refs=refs: client.post(
                "/commandes/selection", data={"action": "paiements", "ref": refs, "statut": "a-encaisser"}))
            assert response.status_code == 200, response.status_code
            keep("POST /commandes/selection", elapsed, cpu, count)

            orders = place(wf, args.rows, f"track{round_}")
            for order in orders:
                wf.confirm_payment(order.id, actor=actor)
            data = "référence;transporteur;numéro de suivi;date d'expédition\r\n" + "".join(
                f"{order.reference};Colissimo;6A{round_}{n:010d};\r\n" for n, order in enumerate(orders))
            raw = data.encode()
            elapsed, cpu, count, rows = timed(statements, lambda raw=raw: imports.read_file(raw))
            keep("read_file", elapsed, cpu, count)

            def preview(rows: Any = rows) -> Any:
                report, _ = imports.check(db.session(), seller_id, rows, now=workflow().clock)
                db.session.rollback()
                return report

            elapsed, cpu, count, report = timed(statements, preview)
            assert report.count(imports.State.READY) == args.rows
            keep("check (preview)", elapsed, cpu, count)
            elapsed, cpu, count, report = timed(statements, lambda rows=rows: imports.apply(
                workflow(), seller_id, rows, actor=actor))
            assert report.count(imports.State.DONE) == args.rows, report.refused
            keep("apply", elapsed, cpu, count)
            elapsed, cpu, count, report = timed(statements, lambda rows=rows: imports.apply(
                workflow(), seller_id, rows, actor=actor))
            assert report.count(imports.State.ALREADY) == args.rows
            keep("apply again (déjà importé)", elapsed, cpu, count)

    def median(name: str) -> tuple[float, float, float]:
        runs = figures[name]
        return (statistics.median(t for t, _, _ in runs), statistics.median(c for _, c, _ in runs),
                statistics.median(n for _, _, n in runs))

    lines: list[tuple[str, str]] = [("database", f"{dialect_of(url)} {shown_url(url)}"),
                                    ("e-mails", "signals muted (outbox rows written, not sent)")]
    for name, per, unit in (("confirm_payments", args.orders, "order"),
                            ("confirm_payments again", args.orders, "order"),
                            ("POST /commandes/selection", args.orders, "order"),
                            ("read_file", args.rows, "row"), ("check (preview)", args.rows, "row"),
                            ("apply", args.rows, "row"), ("apply again (déjà importé)", args.rows, "row")):
        seconds, cpu, count = median(name)
        lines.append((f"{name} ({per} {unit}s)",
                      f"{seconds * 1000:.0f} ms ({seconds * 1000 / per:.2f} ms/{unit}; CPU "
                      f"{cpu * 1000 / per:.2f} ms/{unit}), "
                      f"{count:.0f} SQL statements ({count / per:.1f}/{unit})"))
    lines.append(("rounds", f"{args.rounds} (median)"))
    print_block("Bulk actions and tracking import", lines, module=MODULE, argv=argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
