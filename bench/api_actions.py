"""The workflow's actions through the API: actions/s, one process, the app's test client.

    python -m bench.api_actions [--orders 150] [--rounds 3] [--postgresql URL]

Each round starts from empty tables with one seller, an API key and --orders orders placed
(not timed), then, order after order, POSTs the payment, one parcel of every line, and the
receipt request of that parcel: three actions an order, each answered with the whole order
as `GET` shows it. Timed: the whole series. REDIS_URL is set (the production path: e-mails
and the automatic receipt enqueued on Redis db 11 or --redis-url, emptied first; the rate per
key counted there too). Two cases: every POST with its own `Idempotency-Key` (stored with the answer:
one more row written before and after each action), and without, alternated round by round.
Spec (section 11): ≥ 150 actions/s on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import print_block
from .services import SELLER_EMAIL, add_seller, api_body, fresh_database

MODULE = "bench.api_actions"
REDIS_URL = "redis://127.0.0.1:6379/11"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dperf_actions"
TARGET = 150


def run_case(url: str, orders: int, keys: bool, run: str, redis_url: str = REDIS_URL) -> tuple[float, float]:
    """Actions per second of wall-clock time, and per second of this process's CPU time (the
    figure a shared machine distorts least: SQLite runs in the process, Redis outside)."""
    from redis import Redis

    from uniqu3 import create_app
    from uniqu3.apikeys import create_key
    from uniqu3.extensions import db
    from uniqu3.intake import read_order
    from uniqu3.models import Seller
    from uniqu3.services import workflow
    from uniqu3.timeutil import utcnow
    from uniqu3.workflow import Actor

    fresh_database(url)
    Redis.from_url(redis_url).flushdb()
    config: dict[str, Any] = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                              "MAIL_TO_DEV_MAILBOX": False, "DEV_MAILBOX": False,
                              "REDIS_URL": redis_url, "RQ_CONNECTION": redis_url, "RQ_ASYNC": True,
                              "RATELIMIT_STORAGE_URI": redis_url, "API_RATE_LIMIT": "1000000/minute"}
    app = create_app(config)
    add_seller(app)
    with app.app_context():
        seller = db.session.query(Seller).filter_by(email=SELLER_EMAIL).one()
        _, key = create_key(db.session, name="bench", seller=seller, now=utcnow())
        references = []
        for n in range(orders + 1):
            data = read_order(api_body(n, run), session=db.session())
            order = workflow().place_order(data, actor=Actor.api("bench")).order
            references.append(order.reference)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    parcel = {"lines": [{"sku": "BAG-RED-01", "quantity": 2}, {"sku": "CARD-01", "quantity": 1}],
              "carrier": "colissimo"}

    def act(path: str, body: Any, name: str) -> None:
        headers = {**auth, "Idempotency-Key": name} if keys else auth
        response = client.post(f"/api/v1/orders/{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), (response.status_code, response.get_data(as_text=True))

    def one_order(n: int, reference: str) -> None:
        act(f"{reference}/payment", {"note": "Virement"}, f"{reference}-pay")
        act(f"{reference}/shipments", {**parcel, "tracking_number": f"6A{n:011d}"}, f"{reference}-ship")
        act(f"{reference}/shipments/1/receipt-request", None, f"{reference}-receipt")

    one_order(0, references[0])  # warm up
    start, cpu = time.perf_counter(), time.process_time()
    for n, reference in enumerate(references[1:], start=1):
        one_order(n, reference)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    with app.app_context():
        db.engine.dispose()
    Redis.from_url(redis_url).flushdb()
    return 3 * orders / elapsed, 3 * orders / cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgresql", default=PG_DEFAULT,
                        help="a PostgreSQL URL whose search_path schema is recreated ('' to skip)")
    parser.add_argument("--redis-url", default=REDIS_URL, help="a Redis database to empty and use")
    args = parser.parse_args(argv)
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        databases = [("SQLite", f"sqlite:///{Path(tmp) / 'actions.sqlite'}")]
        if args.postgresql:
            databases.append(("PostgreSQL", args.postgresql))
        for name, url in databases:
            # The two cases alternate round by round: a machine whose speed drifts (a shared
            # one does, by a third within a minute) then weighs on both alike.
            by_case: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
            for i in range(args.rounds):
                for keys in (True, False):
                    by_case[keys].append(run_case(url, args.orders, keys, f"{i}-{keys:d}-", args.redis_url))
            for keys in (True, False):
                results = by_case[keys]
                rates, by_cpu = [r for r, _ in results], [c for _, c in results]
                label = "with Idempotency-Key" if keys else "without Idempotency-Key"
                verdict = "" if name != "SQLite" else ("; ok" if statistics.median(rates) >= TARGET
                                                       else f"; UNDER {TARGET}/s")
                figures.append((f"{name}, {label}", f"median {statistics.median(rates):,.0f} actions/s "
                                                    f"(rounds: {', '.join(f'{r:,.0f}' for r in rates)})"
                                                    + verdict))
                figures.append((f"{name}, {label}, by CPU time",
                                f"median {statistics.median(by_cpu):,.0f} actions/s, "
                                f"{1000 / statistics.median(by_cpu):.1f} ms an action"))
    figures.insert(0, ("series", f"{args.orders} orders per round × (payment, parcel, receipt request), "
                                 "REDIS_URL set, API test client, one process"))
    print_block("Workflow actions through the API", figures, module=MODULE, argv=argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
