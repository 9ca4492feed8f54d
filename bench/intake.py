"""Order intake through the API: orders/s, one process, the app's test client.

    python -m bench.intake [--orders 300] [--rounds 3] [--postgresql URL]

Each case starts from empty tables with one seller and an API key, then POSTs --orders
distinct orders to /api/v1/orders (201 each), timing the whole series:
- "redis": REDIS_URL set (the production path): the order's e-mails are written to the
  outbox and one delivery job is enqueued on Redis (db 11, emptied first) for the worker;
- "inline": no Redis (the embedded default): the e-mails are delivered inside the request
  to a local SMTP server (aiosmtpd in its own process) once the order has committed.
Spec: ≥ 200 orders/s on SQLite.

Each case also gives orders per CPU second of this process (`time.process_time`: the app,
SQLite and the test client, not Redis nor the SMTP server): on a machine others keep busy,
the wall clock measures the wait for a core more than the code, and this figure much less.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import print_block
from .services import SELLER_EMAIL, add_seller, api_body, fresh_database, smtp_server

MODULE = "bench.intake"
REDIS_URL = "redis://127.0.0.1:6379/11"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dperf_intake"


def run_case(url: str, mode: str, orders: int, smtp: tuple[str, int], run: str,
             redis_url: str = REDIS_URL) -> tuple[float, float]:
    """Orders per second of wall clock, and per CPU second of this process."""
    from redis import Redis

    from uniqu3 import create_app
    from uniqu3.apikeys import create_key
    from uniqu3.extensions import db
    from uniqu3.models import Seller
    from uniqu3.timeutil import utcnow

    fresh_database(url)
    config: dict[str, Any] = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False,
                              "MAIL_SERVER": smtp[0], "MAIL_PORT": smtp[1],
                              "MAIL_TO_DEV_MAILBOX": False, "DEV_MAILBOX": False}
    if mode == "redis":
        Redis.from_url(redis_url).flushdb()
        config.update(REDIS_URL=redis_url, RQ_CONNECTION=redis_url, RQ_ASYNC=True)
    app = create_app(config)
    add_seller(app)
    with app.app_context():
        seller = db.session.query(Seller).filter_by(email=SELLER_EMAIL).one()
        _, key = create_key(db.session, name="bench", seller=seller, now=utcnow())
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    bodies = [api_body(n, run) for n in range(orders)]
    client.post("/api/v1/orders", json=api_body(0, "warm"), headers=headers)
    start, cpu_start = time.perf_counter(), time.process_time()
    for body in bodies:
        response = client.post("/api/v1/orders", json=body, headers=headers)
        assert response.status_code == 201, (response.status_code, response.get_data(as_text=True)[:300])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if mode == "inline":
        # The e-mails go out after each answer, from a thread: let it finish before the
        # database is dropped for the next round.
        from jobs.background import deliverer

        work = deliverer(app)
        while not work.idle():
            time.sleep(0.01)
    with app.app_context():
        db.engine.dispose()
    if mode == "redis":
        queued = Redis.from_url(redis_url).llen("rq:queue:default")
        assert queued == orders + 1, queued  # one delivery job per order
        Redis.from_url(redis_url).flushdb()
    return orders / elapsed, orders / cpu


def parse_cost(orders: int, rounds: int) -> float:
    """CPU microseconds per order of reading a body alone (`intake.parse_order`), best round."""
    from uniqu3 import create_app
    from uniqu3.intake import parse_order

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    bodies = [api_body(n, "parse-") for n in range(orders)]
    best = float("inf")
    with app.app_context():
        parse_order(bodies[0])
        for _ in range(rounds):
            start = time.process_time()
            for body in bodies:
                parse_order(body)
            best = min(best, (time.process_time() - start) / orders)
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgresql", default=PG_DEFAULT,
                        help="a PostgreSQL URL whose search_path schema is recreated ('' to skip)")
    parser.add_argument("--redis-url", default=REDIS_URL,
                        help="the Redis database the jobs are enqueued on (emptied first)")
    args = parser.parse_args(argv)
    figures = []
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as smtp:
        databases = [("SQLite", f"sqlite:///{Path(tmp) / 'intake.sqlite'}")]
        if args.postgresql:
            databases.append(("PostgreSQL", args.postgresql))
        for name, url in databases:
            for mode in ("redis", "inline"):
                results = [run_case(url, mode, args.orders, smtp, f"{i}-", args.redis_url)
                           for i in range(args.rounds)]
                rates = [wall for wall, _ in results]
                per_cpu = [cpu for _, cpu in results]
                label = {"redis": "REDIS_URL set (jobs enqueued)",
                         "inline": "no Redis (e-mails sent inline)"}[mode]
                verdict = "" if name != "SQLite" else ("; ok" if statistics.median(rates) >= 200
                                                       else "; UNDER 200/s")
                figures.append((f"{name}, {label}", f"median {statistics.median(rates):,.0f} orders/s "
                                                    f"(rounds: {', '.join(f'{r:,.0f}' for r in rates)})"
                                                    + verdict
                                                    + f"; {statistics.median(per_cpu):,.0f} per CPU second"))
    figures.insert(0, ("series", f"{args.orders} orders per round, API test client, one process"))
    figures.append(("reading a body alone", f"{parse_cost(2000, 5):,.0f} µs CPU per order "
                                            "(intake.parse_order, best of 5 rounds of 2,000)"))
    print_block("Order intake through the API", figures, module=MODULE, argv=argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
