"""The periodic sweep on RQ's cron scheduler: `jobs.cron` registers it; `flask rq cron` and
`rq cron jobs.cron` both enqueue it; a worker runs it inside the app."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue
from rq.cron import CronScheduler
from rq.registry import ScheduledJobRegistry

from jobs import tasks
from jobs.cron import SWEEP_INTERVAL_SECONDS
from tests.conftest import Clock, SmtpSink
from tests.jobs.conftest import FLASK, ROOT, cli_env, outbox, recipients, run_worker
from uniqu3.extensions import db
from uniqu3.models import ReceivedBy, Shipment
from uniqu3.workflow import Actor, Workflow

pytestmark = pytest.mark.redis


@pytest.fixture
def app_config(app_config: dict[str, Any], rq_config: dict[str, Any],
               smtp_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **rq_config, **smtp_config}


def load_cron(queue: Queue) -> CronScheduler:
    scheduler = CronScheduler(connection=queue.connection, logging_level="WARNING")
    scheduler.load_config_from_file("jobs.cron")
    return scheduler


def test_the_cron_config_registers_the_sweep_every_five_minutes(queue: Queue) -> None:
    (job,) = load_cron(queue).get_jobs()
    assert job.func_name == "jobs.tasks.sweep"
    assert job.interval == SWEEP_INTERVAL_SECONDS == 300
    assert job.queue_name == "default"


def test_the_cron_sweep_receives_a_parcel_whose_scheduled_job_redis_lost(
    wf: Workflow, shipped: Any, seller: Any, queue: Queue, clock: Clock, smtp_server: SmtpSink
) -> None:
    shipment_id = shipped().id
    wf.request_receipt(shipment_id, actor=Actor.seller(seller.email))
    run_worker()
    smtp_server.messages.clear()
    # Redis lost the scheduled job (restart without persistence, eviction, flush).
    job = queue.fetch_job(tasks.auto_receipt_job_id(shipment_id))
    ScheduledJobRegistry(queue=queue).remove(job, delete_job=True)
    clock.advance(days=7, minutes=3)

    # The cron scheduler enqueues the sweep at once when it starts, then every 5 minutes.
    assert len(load_cron(queue).enqueue_jobs()) == 1
    assert [j.func_name for j in queue.jobs] == ["jobs.tasks.sweep"]
    run_worker()

    db.session.expire_all()
    assert db.session.get(Shipment, shipment_id).received_by == ReceivedBy.AUTO
    assert [r.recipient_role for r in outbox("E7")] == ["seller", "buyer"]
    assert recipients(smtp_server) == sorted(["atelier@example.fr", "camille@example.fr"])


@pytest.mark.parametrize("command", [
    [FLASK, "--app", "wsgi", "rq", "cron"],
    [str(Path(FLASK).with_name("rq")), "cron", "jobs.cron", "--url", "{redis_url}"],
], ids=["flask-rq-cron", "rq-cron-jobs.cron"])
def test_the_cron_commands_enqueue_the_sweep(command: list[str], redis_url: str, tmp_path: Path) -> None:
    connection = redis.Redis.from_url(redis_url)
    queue = Queue("default", connection=connection)
    process = subprocess.Popen(
        [part.format(redis_url=redis_url) for part in command], cwd=ROOT,
        env=cli_env(REDIS_URL=redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'cron.sqlite'}"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while queue.count == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        running = CronScheduler.all(connection)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert [job.func_name for job in queue.jobs] == ["jobs.tasks.sweep"], output
    assert [[job.func_name for job in s.get_jobs()] for s in running] == [["jobs.tasks.sweep"]]
    assert process.returncode == 0, output


def test_flask_rq_offers_the_cron_but_not_its_slow_worker(app: Any) -> None:
    # `flask jobs worker` is the worker to run; Flask-RQ's starts a process per job.
    listed = app.test_cli_runner().invoke(args=["rq", "--help"]).output
    assert "cron" in listed
    assert "worker" not in listed.split("Commandes:")[1]
