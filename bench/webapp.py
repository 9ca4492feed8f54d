"""The app as the benchmarks serve it: the production profile plus one bare endpoint.

`/bench/bare` returns a constant string from the same app, process and server, so the ratio
of the orders tab's throughput to it measures what the page costs beyond Flask itself.

    BENCH_DATABASE_URL=sqlite:///bench/out/bench1m.sqlite gunicorn -w 2 -k sync 'bench.webapp:app'
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from uniqu3 import create_app

# A fixed key: the benchmark logs in once and replays the session cookie in every process.
BENCH_SECRET_KEY = "bench-only-secret-key-" + "x" * 32
# Production requires a public https address for the links in e-mails; the benchmark sends none.
BENCH_BASE_URL = "https://commandes.bench.invalid"


def make_app(database_url: str, **overrides: Any) -> Flask:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": BENCH_SECRET_KEY,
                      "BASE_URL": BENCH_BASE_URL, "REDIS_URL": None, **overrides},
                     profile="production")

    @app.get("/bench/bare")
    def bench_bare() -> str:
        return "ok"

    return app


app = make_app(os.environ["BENCH_DATABASE_URL"]) if os.environ.get("BENCH_DATABASE_URL") else None
