"""Order intake through the API: orders/s, one process, the app's test client.

    python -m bench.intake [--orders 300] [--rounds 3] [--postgresql URL]

Each case starts from empty tables with one seller and an API key, then POSTs --orders
distinct orders to /api/v1/orders (201 each), timing the whole series:
- "redis": REDIS_URL set (the production path): the order's e-mails are written to the
  outbox and one delivery job is enqueued on Redis (db 11, emptied first) for the worker;
- "inline": no Redis (the embedded default): the e-mails are delivered inside the request
  to a local SMTP server (aiosmtpd in its own process) once the order has committed.
Spec: ≥ 200 orders/s on SQLite.
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


def run_case(url: str, mode: str, orders: int, smtp: tuple[str, int], run: str) -> float:
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
        Redis.from_url(REDIS_URL).flushdb()
        config.update(REDIS_URL=REDIS_URL, RQ_CONNECTION=REDIS_URL, RQ_ASYNC=True)
    app = create_app(config)
    add_seller(app)
    with app.app_context():
        seller = db.session.query(Seller).filter_by(email=SELLER_EMAIL).one()
        _, key = create_key(db.session, name="bench", seller=seller, now=utcnow())
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    bodies = [api_body(n, run) for n in range(orders)]
    client.post("/api/v1/orders", json=api_body(0, "warm"), headers=headers)
    start = time.perf_counter()
    for body in bodies:
        response = client.post("/api/v1/orders", json=body, headers=headers)
        assert response.status_code == 201, (response.status_code, response.get_data(as_text=True)[:300])
    elapsed = time.perf_counter() - start
    with app.app_context():
        db.engine.dispose()
    if mode == "redis":
        queued = Redis.from_url(REDIS_URL).llen("rq:queue:default")
        assert queued == orders + 1, queued  # one delivery job per order
        Redis.from_url(REDIS_URL).flushdb()
    return orders / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgresql", default=PG_DEFAULT,
                        help="a PostgreSQL URL whose search_path schema is recreated ('' to skip)")
    args = parser.parse_args(argv)
    figures = []
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as smtp:
        databases = [("SQLite", f"sqlite:///{Path(tmp) / 'intake.sqlite'}")]
        if args.postgresql:
            databases.append(("PostgreSQL", args.postgresql))
        for name, url in databases:
            for mode in ("redis", "inline"):
                rates = [run_case(url, mode, args.orders, smtp, f"{i}-") for i in range(args.rounds)]
                label = {"redis": "REDIS_URL set (jobs enqueued)",
                         "inline": "no Redis (e-mails sent inline)"}[mode]
                verdict = "" if name != "SQLite" else ("; ok" if statistics.median(rates) >= 200
                                                       else "; UNDER 200/s")
                figures.append((f"{name}, {label}", f"median {statistics.median(rates):,.0f} orders/s "
                                                    f"(rounds: {', '.join(f'{r:,.0f}' for r in rates)})"
                                                    + verdict))
    figures.insert(0, ("series", f"{args.orders} orders per round, API test client, one process"))
    print_block("Order intake through the API", figures, module=MODULE, argv=argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
