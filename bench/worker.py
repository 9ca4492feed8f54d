"""Background worker: delivery jobs per second, Flask-RQ's worker against `flask jobs worker`
(jobs in its process) and `flask jobs worker --fork` (each job in a fork).

    python -m bench.worker [--jobs 300] [--rq-jobs 20] [--rounds 2]

Each run starts from a fresh SQLite file and an empty Redis queue (db 11, or the
BENCH_REDIS_URL environment variable: the database is emptied), places orders
through the workflow with REDIS_URL set (each order enqueues one job delivering its E1 and
E2), then times `flask --app wsgi <worker> --burst` until the queue is empty, delivering to
a local SMTP server (aiosmtpd in its own process). Jobs/s include the worker's start-up
(a second or two); the per-job cost is also given without it, from a run with a single job.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import print_block
from .services import SELLER_EMAIL, add_seller, api_body, fresh_database, smtp_server

MODULE = "bench.worker"
ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
WORKERS = {"flask rq worker (Flask-RQ)": ["rq", "worker", "--burst"],
           "flask jobs worker --fork": ["jobs", "worker", "--burst", "--fork"],
           "flask jobs worker": ["jobs", "worker", "--burst"]}


def queue_jobs(url: str, jobs: int) -> None:
    from redis import Redis

    from uniqu3 import create_app
    from uniqu3.extensions import db, rq
    from uniqu3.services import workflow
    from uniqu3.workflow import Actor, Address, LineInput, OrderInput

    Redis.from_url(REDIS_URL).flushdb()
    fresh_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "REDIS_URL": REDIS_URL,
                      "RQ_CONNECTION": REDIS_URL, "RQ_ASYNC": True})
    add_seller(app)
    with app.app_context():
        for n in range(jobs):
            body = api_body(n)
            a = Address(**body["billing_address"])
            workflow().place_order(OrderInput(
                external_id=body["external_id"], seller_email=SELLER_EMAIL, buyer_name="Camille Martin",
                buyer_email=body["buyer"]["email"], billing_address=a, shipping_address=a, currency="EUR",
                lines=(LineInput("BAG-RED-01", "Sac cabas rouge", 2, 3490),),
            ), actor=Actor.api("bench"))
        assert rq.queue.count == jobs, rq.queue.count
        db.engine.dispose()


def run_worker(command: list[str], url: str, smtp: tuple[str, int]) -> tuple[float, float]:
    """Wall time of the burst, and the peak RSS (MB) of the worker and what it waited for."""
    env = {k: v for k, v in os.environ.items() if k not in {"FLASK_APP", "TEST_DATABASE_URL"}}
    env.update({"UNIQU3_ENV": "development", "DATABASE_URL": url, "REDIS_URL": REDIS_URL,
                "MAIL_SERVER": smtp[0], "MAIL_PORT": str(smtp[1]), "PYTHONPATH": str(ROOT)})
    flask = str(Path(sys.executable).with_name("flask"))
    # The worker logs a few lines per job: to a file, as a pipe nobody reads would fill and block it.
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen([flask, "--app", "wsgi", *command], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            raise SystemExit(log.read().decode()[-2000:])
    return elapsed, usage.ru_maxrss / 1024


def sent_count(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT count(*) FROM outbox_emails WHERE status = 'sent'"))
    engine.dispose()
    return int(count or 0)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=300, help="jobs for flask jobs worker")
    parser.add_argument("--rq-jobs", type=int, default=20, help="jobs for flask rq worker (1 s each)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    figures: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as smtp:
        url = f"sqlite:///{Path(tmp) / 'worker.sqlite'}"
        for name, command in WORKERS.items():
            jobs = args.rq_jobs if "rq" in command else args.jobs
            results: list[dict[str, Any]] = []
            for _ in range(args.rounds):
                queue_jobs(url, 1)
                startup, _ = run_worker(command, url, smtp)
                queue_jobs(url, jobs)
                elapsed, rss = run_worker(command, url, smtp)
                assert sent_count(url) == 2 * jobs
                results.append({"rate": jobs / elapsed, "per_job": (elapsed - startup) / max(jobs - 1, 1),
                                "startup": startup, "rss": rss})
            rate = statistics.median(r["rate"] for r in results)
            per_job = statistics.median(r["per_job"] for r in results) * 1000
            startup = statistics.median(r["startup"] for r in results)
            figures.append((name, f"{jobs} jobs: median {rate:,.1f} jobs/s with start-up (rounds: "
                                  f"{', '.join(format(r['rate'], ',.1f') for r in results)}); "
                                  f"{per_job:,.0f} ms per job without it; one-job run {startup:.1f} s; "
                                  f"peak RSS {max(r['rss'] for r in results):.0f} MB"))
    figures.append(("each job", "delivers the 2 e-mails of one order (E1 seller, E2 buyer) to aiosmtpd"))
    print_block("Background worker: delivery jobs/s", figures, module=MODULE, argv=argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
