"""Load on loopback, with the production processes: gunicorn (2 workers, production profile)
on a migrated database, the Procfile's RQ worker (`flask jobs worker --with-scheduler`), Redis
(the suite's own server), an SMTP sink.

For a bounded time (RELIABILITY_LOAD_SECONDS) or number of requests (RELIABILITY_LOAD_REQUESTS):
- the storefront pushes orders through the API (and sends some again, as retries do);
- each seller (RELIABILITY_LOAD_SELLERS) logs in, browses the tabs, searches, opens orders,
  confirms payments, ships from the order page's form, asks for the receipt confirmation;
- buyers open the receipt links of the e-mails that arrived and confirm.

Then the worker finishes the queue, and everything is reconciled: no server error, every
accepted order in the database, every e-mail in the SMTP sink once, every action counted
by the clients found once in the history.
"""

from __future__ import annotations

import contextlib
import random
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.conftest import PASSWORD, cached_hash
from tests.reliability.actors import Answer, HttpWeb, SellerAgent, buyer_confirms, order_body, post_order
from tests.reliability.conftest import (
    FLASK,
    GUNICORN,
    Figures,
    Process,
    RedisServer,
    Sink,
    free_port,
    knob,
    process_env,
    run_command,
    wait_until,
)
from uniqu3 import apikeys, tokens
from uniqu3.config import driver_url
from uniqu3.models import Order, OrderEvent, OutboxEmail, OutboxStatus, Seller, Shipment, ShipmentStatus

pytestmark = [pytest.mark.reliability, pytest.mark.redis]

SECONDS = knob("LOAD_SECONDS", 10)
MAX_REQUESTS = knob("LOAD_REQUESTS", 4000)
SELLERS = knob("LOAD_SELLERS", 4)
DRAIN = knob("LOAD_DRAIN_SECONDS", 5)  # how long the worker may work through its backlog
QTY_FIELD = re.compile(r'name="(qty_\d+)" type="number" min="0" max="(\d+)"')
TABS = ["", "a-encaisser", "a-expedier", "expediees", "recues", "toutes"]


class Budget:
    """Shared by the load threads: stop at the deadline or after the last request allowed."""

    def __init__(self, seconds: float, requests: int) -> None:
        self.deadline = time.monotonic() + seconds
        self.left = requests
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() > self.deadline:
                return False
            self.left -= 1
            return True


class Recorder:
    """Every request of every thread: its kind, status and duration."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[tuple[str, int, float]] = []
        self.failures: list[str] = []

    def wrap(self, web: HttpWeb, kind_of: Callable[[str, str], str]) -> Any:
        recorder = self

        class Recorded:
            def request(self, method: str, path: str, **kwargs: Any) -> Answer:
                started = time.monotonic()
                try:
                    answer = web.request(method, path, **kwargs)
                except Exception as exc:  # a connection the server dropped is a failure too
                    with recorder.lock:
                        recorder.failures.append(f"{method} {path}: {exc!r}")
                    raise
                with recorder.lock:
                    recorder.rows.append((kind_of(method, path), answer.status, time.monotonic() - started))
                return answer

        return Recorded()

    def statuses(self) -> Counter[int]:
        return Counter(status for _, status, _ in self.rows)


def kind_of(method: str, path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/r/"):
        return "buyer"
    if method == "POST":
        return "seller action" if path.startswith("/commandes/") else "login"
    return "seller page"


@pytest.fixture
def stack(tmp_path: Path, fresh_database: Callable[[str], str], redis_server: RedisServer, sink: Sink,
          processes: Callable[..., Process]) -> dict[str, Any]:
    """The production processes, on a database migrated with `flask db upgrade`."""
    url = fresh_database("load")
    port = free_port()
    env = process_env(url, REDIS_URL=redis_server.url, UNIQU3_ENV="production",
                      BASE_URL="https://shop.example", **sink.env)
    run_command([FLASK, "--app", "wsgi", "db", "upgrade"], env)
    engine = create_engine(driver_url(url))
    with Session(engine) as session:
        sellers = [Seller(email=f"vendeur{i}@example.fr", shop_name=f"Atelier {i}",
                          password_hash=cached_hash(PASSWORD), payment_instructions="Virement")
                   for i in range(SELLERS)]
        session.add_all(sellers)
        session.commit()
        _, key = apikeys.create_key(session, name="storefront", now=datetime.now(UTC))
    web = processes([GUNICORN, "-w", "2", "-b", f"127.0.0.1:{port}", "--access-logfile", "-", "wsgi:app"],
                    env, name="gunicorn")
    worker = processes([FLASK, "--app", "wsgi", "jobs", "worker", "--with-scheduler"], env, name="worker")

    def up() -> bool:
        try:
            return HttpWeb(f"http://127.0.0.1:{port}", timeout=2).request("GET", "/connexion").status == 200
        except OSError:
            return False

    wait_until(up, 60, "gunicorn to answer")
    signer = URLSafeTimedSerializer(env["SECRET_KEY"], salt=tokens.RECEIPT_SALT)
    return {"url": url, "engine": engine, "env": env, "base": f"http://127.0.0.1:{port}", "key": key,
            "sellers": [f"vendeur{i}@example.fr" for i in range(SELLERS)], "web": web, "worker": worker,
            "receipt_token": signer.dumps}


def test_concurrent_sellers_storefront_and_buyers_on_gunicorn_lose_nothing(
    stack: dict[str, Any], sink: Sink, redis_server: RedisServer, processes: Callable[..., Process],
    figures: Figures,
) -> None:
    base, key, emails = stack["base"], stack["key"], stack["sellers"]
    recorder = Recorder()
    budget = Budget(SECONDS, MAX_REQUESTS)
    lock = threading.Lock()
    accepted: dict[str, str] = {}  # reference -> seller
    to_pay: dict[str, list[str]] = {email: [] for email in emails}
    done: Counter[str] = Counter()  # actions the clients saw succeed
    used_links: set[int] = set()
    rng = random.Random(20261126)

    def count(action: str) -> None:
        with lock:
            done[action] += 1

    def storefront() -> None:
        web = recorder.wrap(HttpWeb(base), kind_of)
        n = 0
        sent: list[dict[str, Any]] = []
        while budget.take():
            if sent and n % 7 == 6:
                body = rng.choice(sent)  # a retry of an order already sent: the same order, no new e-mail
                answer = post_order(web, key, body)
                assert answer.status == 200, answer.body[:300]
                count("replays")
            else:
                seller = emails[n % len(emails)]
                body = order_body(f"MKT-LOAD-{n}", seller, lines=1 + n % 3)
                answer = post_order(web, key, body)
                if answer.status == 201:
                    reference = answer.json()["reference"]
                    with lock:
                        accepted[reference] = seller
                        to_pay[seller].append(reference)
                    sent.append(body)
            n += 1

    def seller_session(email: str) -> None:
        agent = SellerAgent(recorder.wrap(HttpWeb(base), kind_of), email, PASSWORD)
        if not budget.take():
            return
        assert agent.log_in().status == 303
        shipped: list[str] = []
        while budget.take():
            roll = rng.random()
            with lock:
                reference = to_pay[email].pop(0) if to_pay[email] and roll < 0.5 else None
            if reference is not None:
                if agent.pay(reference).status == 303:
                    count("payments")
                if not budget.take():
                    break
                page = agent.get(f"/commandes/{reference}")
                quantities = {int(name[4:]): int(left) for name, left in QTY_FIELD.findall(page.body)}
                if quantities and budget.take() and agent.ship(reference, quantities).status == 303:
                    count("shipments")
                    shipped.append(reference)
            elif shipped and roll < 0.7:
                if agent.request_receipt(shipped.pop(0), 1).status == 303:
                    count("receipt_requests")
            elif roll < 0.85:
                agent.get("/commandes?statut=" + rng.choice(TABS))
            else:
                agent.get("/commandes?q=" + rng.choice(["Camille", "UQ-2026", "SKU-2", "introuvable"]))

    def buyers() -> None:
        """Buyers press the button of the E5 e-mail (its link is made as the e-mail makes it:
        under load the e-mail itself may still be in the queue)."""
        web = recorder.wrap(HttpWeb(base), kind_of)
        while True:
            with Session(stack["engine"]) as session:
                awaiting = list(session.scalars(select(Shipment.id).where(
                    Shipment.status == ShipmentStatus.AWAITING_RECEIPT)))
            fresh = [parcel for parcel in awaiting if parcel not in used_links]
            if not fresh:
                if time.monotonic() > budget.deadline or budget.left <= 0:
                    return
                time.sleep(0.2)
                continue
            for parcel in fresh:
                used_links.add(parcel)
                if not budget.take():
                    return
                answer = buyer_confirms(web, stack["receipt_token"](parcel), user_agent="Mozilla/5.0 (load)")
                if answer.status == 200 and "est enregistrée" in answer.body:
                    count("buyer_confirmations")

    crashed: list[str] = []

    def guarded(work: Callable[..., None], *args: Any) -> Callable[[], None]:
        def run() -> None:
            try:
                work(*args)
            except BaseException as exc:  # an assertion in a load thread fails the test
                crashed.append(f"{work.__name__}{args}: {exc!r}")
        return run

    threads = [threading.Thread(target=guarded(storefront)), threading.Thread(target=guarded(buyers))]
    threads += [threading.Thread(target=guarded(seller_session, email)) for email in emails]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 120)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)
    assert crashed == []

    # The worker shares the CPU with gunicorn and the clients: a queue left when the load
    # stops is what the cron's sweep (every 5 minutes) catches up, in batches of 500.
    import redis

    queue = redis.Redis.from_url(redis_server.url)
    backlog = queue.llen("rq:queue:default")
    sweep = run_command([FLASK, "--app", "wsgi", "admin", "sweep"], stack["env"])
    # The jobs still queued then find their e-mails sent: they must send nothing again.
    drained = time.monotonic()
    with contextlib.suppress(AssertionError):  # bounded: the jobs left are no-ops like those that ran
        wait_until(lambda: queue.llen("rq:queue:default") == 0 and not _busy(queue), DRAIN,
                   "the worker to empty the queue")
    jobs_left = queue.llen("rq:queue:default")
    drained = time.monotonic() - drained
    assert stack["worker"].stop() == 0, stack["worker"].output()
    stack["web"].stop()

    statuses = recorder.statuses()
    with Session(stack["engine"]) as session:
        stored = dict(session.execute(select(Order.reference, Seller.email).join(Seller)).all())
        events = Counter(dict(session.execute(
            select(OrderEvent.kind, func.count()).group_by(OrderEvent.kind)).all()))
        rows = session.execute(select(OutboxEmail.kind, OutboxEmail.status, OutboxEmail.message_id)).all()
    received = sink.message_ids()
    # Each action the clients saw succeed is in the history once (an order: once per reference).
    seen_by_clients = {"order_placed": len(accepted), "payment_confirmed": done["payments"],
                       "shipped": done["shipments"], "receipt_requested": done["receipt_requests"],
                       "receipt_confirmed": done["buyer_confirmations"]}
    durations = [d for _, _, d in recorder.rows]
    by_kind = Counter(kind for kind, _, _ in recorder.rows)
    figures.record_findings(
        "load_gunicorn",
        {"server_errors": [s for s, n in statuses.items() if s >= 500 for _ in range(n)],
         "connection_failures": recorder.failures,
         "orders_lost": [ref for ref, seller in accepted.items() if stored.get(ref) != seller],
         "orders_unexpected": [ref for ref in stored if ref not in accepted],
         "history_mismatches": [f"{kind}: {events[kind]} in the history, {n} seen by the clients"
                                for kind, n in seen_by_clients.items() if events[kind] != n],
         "emails_lost": [m for _, _, m in rows if received[str(m)] == 0],
         "emails_duplicated": [m for m, n in received.items() for _ in range(n - 1)],
         "emails_not_sent": [(kind, status) for kind, status, _ in rows if status != OutboxStatus.SENT]},
        seconds=round(elapsed, 1), sellers=SELLERS, requests=len(recorder.rows),
        requests_per_second=round(len(recorder.rows) / elapsed, 1),
        client_errors=sum(n for s, n in statuses.items() if 400 <= s < 500),
        statuses={str(k): v for k, v in sorted(statuses.items())},
        by_kind=dict(by_kind), orders_accepted=len(accepted), order_replays=done["replays"],
        payments=done["payments"], shipments=done["shipments"], receipt_requests=done["receipt_requests"],
        buyer_confirmations=done["buyer_confirmations"], emails_sent=len(rows),
        emails_in_sink=sum(received.values()),
        latency_p50_ms=round(statistics.median(durations) * 1000, 1),
        latency_p95_ms=round(statistics.quantiles(durations, n=20)[-1] * 1000, 1),
        latency_max_ms=round(max(durations) * 1000, 1),
        jobs_queued_at_end=backlog, jobs_left_after_drain=jobs_left, drain_seconds=round(drained, 1),
        sweep_output=sweep.strip().replace("\n", " "),
    )
    outbox = Counter(kind for kind, _, _ in rows)
    assert outbox == +Counter({"E1": len(accepted), "E2": len(accepted), "E3": done["payments"],
                               "E4": done["shipments"], "E5": done["receipt_requests"],
                               "E6": done["buyer_confirmations"]})
    assert "E-mails :" in sweep, sweep


def _busy(connection: Any) -> bool:
    """A job still running (RQ's started-job registry is not empty)."""
    return bool(connection.zcard("rq:wip:default"))

