"""Redis stopped (SIGKILL of a `redis-server` of the suite's own, not the machine's) during a
seller's working day and during a sweep, then started again, empty (no persistence).

The seller never gets a 5xx nor waits more than a few seconds; once Redis is back, the cron
scheduler's first sweep and a worker send every e-mail once and fire every automatic receipt
whose job Redis lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from jobs import tasks
from tests.conftest import PASSWORD
from tests.reliability.actors import Answer, ClientWeb, SellerAgent, buyer_confirms, order_body, post_order
from tests.reliability.conftest import (
    FLASK,
    Figures,
    NearClock,
    Process,
    RedisServer,
    Sink,
    engine_url,
    process_env,
    run_command,
    wait_until,
)
from tests.reliability.scenario import lines_of, outbox_rows, overdue_parcels, server_errors, shipment_ids
from tests.reliability.test_faults_worker import count_losses, lease_passes, outbox_state
from uniqu3.extensions import db
from uniqu3.models import OutboxStatus, ReceivedBy, Seller, Shipment
from uniqu3.tokens import receipt_token
from uniqu3.workflow import Workflow

pytestmark = [pytest.mark.reliability, pytest.mark.redis]

SLOW = 3.0  # seconds: the most a request may take while Redis is down


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_server: RedisServer, sink: Sink,
               near_clock: NearClock) -> dict[str, Any]:
    url = redis_server.url
    return {**app_config, **sink.config, "REDIS_URL": url, "RQ_CONNECTION": url, "RQ_ASYNC": True,
            # The login throttle counts in Redis too, as in production.
            "RATELIMIT_STORAGE_URI": url,
            "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "CLOCK": near_clock, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def env(app: Flask, redis_server: RedisServer, sink: Sink) -> dict[str, str]:
    return process_env(engine_url(app), REDIS_URL=redis_server.url, **sink.env)


class Timed:
    """Wraps a `Web` and keeps the duration of each request."""

    def __init__(self, web: Any) -> None:
        self.web = web
        self.durations: list[float] = []
        self.answers: list[Answer] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        started = time.monotonic()
        try:
            answer = self.web.request(method, path, **kwargs)
            self.answers.append(answer)
            return answer
        finally:
            self.durations.append(time.monotonic() - started)


def cron_sweep_then_worker(processes: Callable[..., Process], env: dict[str, str],
                           redis_server: RedisServer) -> None:
    """The cron scheduler restarted with Redis queues a sweep as it starts; a worker runs it."""
    import redis

    queue_key = "rq:queue:default"
    client = redis.Redis.from_url(redis_server.url)
    cron = processes([FLASK, "--app", "wsgi", "rq", "cron"], env, name="cron")
    wait_until(lambda: client.llen(queue_key) >= 1, 60, "the cron scheduler's first sweep")
    cron.stop()
    worker = processes([FLASK, "--app", "wsgi", "rq", "worker", "--burst"], env, name="worker")
    assert worker.wait(180) == 0, worker.output()
    assert client.llen(queue_key) == 0
    client.close()


def test_redis_killed_during_a_working_day_costs_the_seller_nothing_and_loses_nothing(
    app: Flask, client: FlaskClient, seller: Seller, sink: Sink, redis_server: RedisServer,
    env: dict[str, str], storefront_key: str, processes: Callable[..., Process], figures: Figures,
) -> None:
    web = Timed(ClientWeb(client))
    # Redis up: orders come in, the seller starts working; their jobs wait in Redis.
    refs = []
    for i in range(4):
        answer = post_order(web, storefront_key, order_body(f"MKT-REDIS-{i}", seller.email))
        assert answer.status == 201
        refs.append(answer.json()["reference"])
    morning = SellerAgent(Timed(ClientWeb(app.test_client())), seller.email, PASSWORD)
    assert morning.log_in().status == 303
    assert morning.pay(refs[0]).status == 303 and morning.pay(refs[1]).status == 303

    redis_server.kill()  # the queued jobs are gone with it
    before_kill = len(web.durations)

    seller_web = Timed(ClientWeb(app.test_client()))
    agent = SellerAgent(seller_web, seller.email, PASSWORD)
    assert agent.log_in().status == 303  # the throttle counts in memory meanwhile
    assert agent.pay(refs[2]).status == 303 and agent.pay(refs[3]).status == 303
    for ref in refs:
        assert agent.ship(ref, lines_of(db.session, ref)).status == 303
        assert agent.request_receipt(ref, 1).status == 303
        assert agent.get(f"/commandes/{ref}").status == 200
    assert agent.get("/commandes").status == 200
    for i in range(4, 6):
        answer = post_order(web, storefront_key, order_body(f"MKT-REDIS-{i}", seller.email))
        assert answer.status == 201
        refs.append(answer.json()["reference"])
    parcels = [shipment_ids(db.session, ref)[0] for ref in refs[:4]]
    buyer = Timed(ClientWeb(app.test_client()))
    assert buyer_confirms(buyer, receipt_token(parcels[0])).status == 200
    requests_while_down = len(web.durations) - before_kill + len(seller_web.durations) + len(buyer.durations)
    answers = web.answers + morning.web.answers + seller_web.answers + buyer.answers
    durations = web.durations + seller_web.durations + buyer.durations
    assert max(durations) < SLOW, sorted(durations)[-5:]
    assert {r.status for r in outbox_rows(db.session)} == {OutboxStatus.PENDING}

    # The cron's sweep cannot run without Redis: an operator runs it by hand, it works.
    output = run_command([FLASK, "--app", "wsgi", "admin", "sweep"], env)
    assert "25 envoyé" in output, output  # E1+E2 ×6, E3 ×4, E4 ×4, E5 ×4, E6
    # Seven days pass, still without Redis: no automatic receipt was ever scheduled.
    db.session.execute(update(Shipment).where(Shipment.id.in_(parcels[1:]))
                       .values(receipt_due_at=datetime.now(UTC) - timedelta(minutes=1)))
    db.session.commit()

    redis_server.start()  # back, and empty
    cron_sweep_then_worker(processes, env, redis_server)

    rows = outbox_rows(db.session)
    received = sink.message_ids()
    db.session.expire_all()
    got = {s.id: s.received_by for s in db.session.scalars(select(Shipment).where(Shipment.id.in_(parcels)))}
    figures.record_findings(
        "redis_killed_during_seller_actions",
        {"server_errors": server_errors(answers),
         "lost": [r.id for r in rows if received[str(r.message_id)] == 0],
         "duplicates": [m for m, n in received.items() for _ in range(n - 1)],
         "not_sent": [(r.id, r.status) for r in rows if r.status != OutboxStatus.SENT],
         "automatic_receipts_lost": [p for p in parcels[1:] if got.get(p) != ReceivedBy.AUTO]},
        requests_while_down=requests_while_down, slowest_request_s=round(max(durations), 3), emails=len(rows),
        delivered_once=sum(1 for r in rows if received[str(r.message_id)] == 1),
        automatic_receipts_after_restart=sum(1 for p in parcels[1:] if got.get(p) == ReceivedBy.AUTO))
    assert got[parcels[0]] == ReceivedBy.BUYER


def test_redis_killed_during_a_sweep_job_then_back_receives_and_sends_everything_once(
    app: Flask, wf: Workflow, seller: Seller, sink: Sink, redis_server: RedisServer, env: dict[str, str],
    processes: Callable[..., Process], figures: Figures,
) -> None:
    parcels = overdue_parcels(wf, seller.email, 10, "MKT-RSWEEP")
    before = set(outbox_state())
    tasks.sweep.enqueue()
    sink.delay = 0.15

    worker = processes([FLASK, "--app", "wsgi", "rq", "worker"], env, name="worker")
    wait_until(lambda: sink.count() >= 3, 60, "the sweep's e-mails to be under way")
    redis_server.kill()
    at_kill = {row: state for row, state in outbox_state().items() if row not in before}
    # Without Redis the worker stops (its supervisor would restart it); it may finish its job first.
    try:
        worker.wait(30)
    except Exception:
        worker.kill()
    worker_exit = worker.popen.returncode

    sink.delay = 0
    redis_server.start()
    lease_passes()  # e-mails claimed by a job that died wait for their lease to end
    cron_sweep_then_worker(processes, env, redis_server)

    final = {row: state for row, state in outbox_state().items() if row not in before}
    counts, findings = count_losses(sink, at_kill, final)
    db.session.expire_all()
    findings["parcels_not_received"] = [s.id for s in db.session.scalars(select(Shipment))
                                        if s.received_by != ReceivedBy.AUTO]
    figures.record_findings("redis_killed_during_sweep", findings, **counts, parcels=len(parcels),
                            worker_exit_code=worker_exit)
    assert len(final) == 2 * len(parcels)
