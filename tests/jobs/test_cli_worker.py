"""The production commands, for real: `flask --app wsgi db upgrade` builds the schema,
`flask --app wsgi jobs worker --burst --with-scheduler` (the jobs in the worker's process, or
each in a fork of it with `--fork`; the app configured from the environment alone) delivers
the e-mails and fires the automatic receipt. The app configured from the environment runs on
the real clock."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, update

from jobs import tasks
from tests.conftest import SmtpSink, cached_hash, order_input
from tests.jobs.conftest import FLASK, ROOT, cli_env, recipients
from uniqu3 import create_app
from uniqu3.extensions import db, rq
from uniqu3.models import OutboxEmail, ReceivedBy, Seller, Shipment
from uniqu3.services import workflow
from uniqu3.workflow import Actor

pytestmark = pytest.mark.redis


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.mark.parametrize("mode", [[], ["--fork"]], ids=["in-process", "fork"])
def test_the_worker_command_delivers_emails_and_fires_the_automatic_receipt(
    tmp_path: Path, redis_url: str, smtp_server: SmtpSink, mode: list[str]
) -> None:
    database_url = f"sqlite:///{tmp_path / 'prod.sqlite'}"
    env = cli_env(DATABASE_URL=database_url, REDIS_URL=redis_url,
                  MAIL_SERVER=smtp_server.host, MAIL_PORT=str(smtp_server.port))
    run([FLASK, "--app", "wsgi", "db", "upgrade"], env)

    # The web process's side: actions on the real clock; their jobs go to Redis.
    web: Flask = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
                             "RQ_CONNECTION": redis_url, "RQ_ASYNC": True, "TESTING": False})
    with web.app_context():
        db.session.add(Seller(email="atelier@example.fr", shop_name="L'Atelier de Lina",
                              password_hash=cached_hash("correct horse battery"),
                              payment_instructions="Virement"))
        db.session.commit()
        seller = Actor.seller("atelier@example.fr")
        order = workflow().place_order(order_input("atelier@example.fr"), actor=Actor.api("shop")).order
        workflow().confirm_payment(order.id, actor=seller)
        lines = {line.id: line.quantity for line in order.lines}
        shipment_id = workflow().ship(order.id, actor=seller, quantities=lines, carrier="colissimo",
                                      tracking_number="6A12345678901").shipment.id
        workflow().request_receipt(shipment_id, actor=seller)
        assert rq.queue.count == 4  # E1+E2, E3, E4, E5
        # Seven days later, as far as the database and the scheduler are concerned.
        past = datetime.now(UTC) - timedelta(minutes=1)
        db.session.execute(update(Shipment).where(Shipment.id == shipment_id)
                           .values(receipt_due_at=past))
        db.session.commit()
        registry = ScheduledJobRegistry(queue=rq.queue)
        registry.schedule(rq.queue.fetch_job(tasks.auto_receipt_job_id(shipment_id)), past)

    output = run([FLASK, "--app", "wsgi", "jobs", "worker", "--burst", "--with-scheduler", *mode], env)

    with web.app_context():
        # Left scheduled: only the reminder's job, which will find the parcel received.
        assert rq.queue.count == 0, output
        assert registry.get_job_ids() == [tasks.reminder_job_id(shipment_id)], output
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment is not None and shipment.received_by == ReceivedBy.AUTO, output
        sent = {(row.kind, row.recipient_role, row.status)
                for row in db.session.scalars(select(OutboxEmail))}
    assert sent == {("E1", "seller", "sent"), ("E2", "buyer", "sent"), ("E3", "buyer", "sent"),
                    ("E4", "buyer", "sent"), ("E5", "buyer", "sent"), ("E7", "seller", "sent"),
                    ("E7", "buyer", "sent")}, output
    assert recipients(smtp_server) == ["atelier@example.fr"] * 2 + ["camille@example.fr"] * 5


