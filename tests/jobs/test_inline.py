"""Without Redis (the embedded default): the same jobs run inline right after the commit.
The user sees the same thing: the e-mail leaves when the action is done; the automatic
receipt is done by `flask admin sweep` (run periodically), which calls the same sweep."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from jobs import INLINE_NOTICE
from tests.conftest import Clock, SmtpSink, order_input
from tests.jobs.conftest import ROOT, cli_env, outbox, pay_and_ship, recipients
from uniqu3 import create_app
from uniqu3.extensions import db
from uniqu3.models import OutboxStatus, ReceivedBy, Shipment
from uniqu3.services import workflow
from uniqu3.sweep import run_sweep
from uniqu3.workflow import Actor, Workflow


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **smtp_config}


def test_without_redis_flask_rq_is_not_set_up(app: Flask) -> None:
    assert app.config["REDIS_URL"] is None
    assert "rq" not in app.extensions


def test_each_action_delivers_its_emails_right_after_the_commit(
    wf: Workflow, make_order: Any, seller: Any, smtp_server: SmtpSink
) -> None:
    order = make_order()
    assert recipients(smtp_server) == ["atelier@example.fr", "camille@example.fr"]

    wf.confirm_payment(order.id, actor=Actor.seller(seller.email))
    assert recipients(smtp_server) == ["atelier@example.fr", "camille@example.fr", "camille@example.fr"]
    assert [(r.kind, r.status) for r in outbox()] == [
        ("E1", OutboxStatus.SENT), ("E2", OutboxStatus.SENT), ("E3", OutboxStatus.SENT)]


def test_the_automatic_receipt_waits_for_the_sweep(
    wf: Workflow, make_order: Any, seller: Any, clock: Clock, smtp_server: SmtpSink
) -> None:
    shipment_id = pay_and_ship(wf, make_order(), seller).id
    wf.request_receipt(shipment_id, actor=Actor.seller(seller.email))
    assert outbox("E5")[0].status == OutboxStatus.SENT
    smtp_server.messages.clear()

    clock.advance(days=6, hours=23)
    first = run_sweep()
    # Not received yet; the reminder, due two days before the deadline, goes with this sweep.
    assert (first.auto_received, first.reminders_sent) == (0, 1)
    assert recipients(smtp_server) == ["camille@example.fr"]
    smtp_server.messages.clear()
    clock.advance(hours=1)
    report = run_sweep()

    assert report.auto_received == 1
    db.session.expire_all()
    assert db.session.get(Shipment, shipment_id).received_by == ReceivedBy.AUTO
    assert recipients(smtp_server) == ["atelier@example.fr", "camille@example.fr"]
    assert run_sweep().auto_received == 0
    assert len(smtp_server.messages) == 2


def test_an_unreachable_smtp_server_never_fails_the_action(
    app: Flask, app_config: dict[str, Any], unused_port: int, make_seller: Any,
    smtp_server: SmtpSink, clock: Clock,
) -> None:
    seller = make_seller("lina@example.fr")
    down = create_app({**app_config, "MAIL_PORT": unused_port})
    with down.app_context():
        result = workflow().place_order(order_input(seller.email), actor=Actor.api("shop"))
        assert result.changed
        assert [r.status for r in outbox()] == [OutboxStatus.PENDING, OutboxStatus.PENDING]
    assert smtp_server.messages == []

    # The SMTP server is back: the next sweep (after the rows' next try) sends them, once.
    clock.advance(hours=1)
    assert run_sweep().emails_sent == 2
    assert recipients(smtp_server) == ["camille@example.fr", "lina@example.fr"]


_NOTICE_SCRIPT = """
import sys
from tests.conftest import order_input
from uniqu3 import create_app
from uniqu3.extensions import db
from uniqu3.models import Seller
from uniqu3.workflow import Actor, Workflow
apps = [create_app() for _ in range(3)]
print("-- before the first job --", file=sys.stderr, flush=True)
with apps[0].app_context():
    db.create_all()
    db.session.add(Seller(email="lina@example.fr", shop_name="Lina", password_hash="x"))
    db.session.commit()
    for n in range(2):
        Workflow(db.session).place_order(order_input("lina@example.fr", f"N-{n}"),
                                         actor=Actor.api("shop"))
"""


def test_the_notice_is_logged_once_when_a_job_runs_inline(tmp_path: Path) -> None:
    env = cli_env(DATABASE_URL=f"sqlite:///{tmp_path / 'n.sqlite'}")
    inline = subprocess.run([sys.executable, "-c", _NOTICE_SCRIPT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert inline.returncode == 0, inline.stderr
    starting, working = inline.stderr.split("-- before the first job --")
    assert INLINE_NOTICE not in starting  # making apps (each CLI call, each `flask run`) says nothing
    assert working.count(INLINE_NOTICE) == 1  # two orders, four e-mails: said once

    with_redis = subprocess.run([sys.executable, "-c", _NOTICE_SCRIPT], cwd=ROOT, timeout=60,
                                env={**env, "REDIS_URL": "redis://127.0.0.1:6379/15",
                                     "DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}"},
                                capture_output=True, text=True)
    assert with_redis.returncode == 0, with_redis.stderr
    assert INLINE_NOTICE not in with_redis.stderr


def test_the_cli_help_says_nothing_of_redis(tmp_path: Path) -> None:
    env = cli_env(DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite'}")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "admin", "--help"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "REDIS_URL" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["rq", "worker", "--with-scheduler"],
                                     ["jobs", "worker", "--with-scheduler"]])
def test_the_worker_commands_say_redis_is_needed(app: Flask, command: list[str]) -> None:
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output and "admin sweep" in result.output


def test_without_redis_the_rq_commands_offered_are_the_cron_only(app: Flask) -> None:
    listed = app.test_cli_runner().invoke(args=["rq", "--help"]).output
    assert "cron" in listed and "worker" not in listed.split("Commandes:")[1]
