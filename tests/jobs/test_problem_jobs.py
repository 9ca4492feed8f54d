"""With Redis: a parcel in problem is left alone by its scheduled automatic receipt, by the cron
sweep and by `flask admin sweep`; the reminder before the deadline is scheduled like the automatic
receipt and sent once per deadline, whoever runs it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from rq import Queue
from rq.cron import CronScheduler
from rq.registry import ScheduledJobRegistry

from jobs import tasks
from tests.conftest import Clock, SmtpSink
from tests.jobs.conftest import move_into_the_past, outbox, parcel, recipients, run_worker
from uniqu3.sweep import run_sweep
from uniqu3.workflow import Actor, Workflow

pytestmark = pytest.mark.redis

SELLER, BUYER = "atelier@example.fr", "camille@example.fr"


@pytest.fixture
def app_config(app_config: dict[str, Any], rq_config: dict[str, Any],
               smtp_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **rq_config, **smtp_config}


@pytest.fixture
def awaiting(awaiting: Callable[[], int]) -> int:
    """One parcel whose receipt confirmation was just activated, its E5 delivered."""
    return awaiting()


def test_activation_schedules_the_reminder_two_days_before_the_deadline(
        awaiting: int, queue: Queue, clock: Clock) -> None:
    registry = ScheduledJobRegistry(queue=queue)
    job_id = tasks.reminder_job_id(awaiting)
    assert set(registry.get_job_ids()) == {job_id, tasks.auto_receipt_job_id(awaiting)}
    at = parcel(awaiting).reminder_due_at
    assert at == clock.now + timedelta(days=5)
    assert registry.get_scheduled_time(job_id) == at.replace(microsecond=0)
    assert queue.fetch_job(job_id).func_name == "jobs.tasks.send_reminder"


def test_the_reminder_job_sends_one_reminder_even_run_twice(
        awaiting: int, queue: Queue, clock: Clock, smtp_server: SmtpSink) -> None:
    clock.advance(days=5, minutes=1)
    move_into_the_past(queue, tasks.reminder_job_id(awaiting))
    queue.enqueue(tasks.send_reminder.func, awaiting)
    run_worker(with_scheduler=True)
    assert [(r.kind, r.status) for r in outbox("E5R")] == [("E5R", "sent")]
    assert recipients(smtp_server) == [BUYER]
    assert run_sweep().reminders_sent == 0
    assert parcel(awaiting).reminded_at == clock.now


def test_a_reminder_job_that_fires_early_is_scheduled_again(
        awaiting: int, queue: Queue, clock: Clock, smtp_server: SmtpSink) -> None:
    clock.advance(days=4)  # one day before the reminder, by the database's clock
    registry = ScheduledJobRegistry(queue=queue)
    registry.remove(queue.fetch_job(tasks.auto_receipt_job_id(awaiting)), delete_job=True)
    move_into_the_past(queue, tasks.reminder_job_id(awaiting))
    run_worker(with_scheduler=True)
    assert outbox("E5R") == [] and smtp_server.messages == []
    (again,) = registry.get_job_ids()
    left = registry.get_scheduled_time(again) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < left <= timedelta(days=1, seconds=2)


def test_a_parcel_in_problem_is_left_alone_by_its_jobs_and_the_cron_sweep(
        awaiting: int, wf: Workflow, queue: Queue, clock: Clock, smtp_server: SmtpSink) -> None:
    clock.advance(days=1)
    wf.report_problem(awaiting, reason="not_received", message="Rien reçu.")
    run_worker()
    assert sorted(recipients(smtp_server)) == sorted([SELLER, BUYER])  # P1 and P2
    smtp_server.messages.clear()
    clock.advance(days=10)  # long past the deadline
    move_into_the_past(queue, tasks.auto_receipt_job_id(awaiting))
    move_into_the_past(queue, tasks.reminder_job_id(awaiting))
    cron = CronScheduler(connection=queue.connection)
    cron.load_config_from_file("jobs.cron")
    assert len(cron.enqueue_jobs()) == 1  # the sweep
    run_worker(with_scheduler=True)
    assert parcel(awaiting).status == "problem"
    assert outbox("E7") == [] and outbox("E5R") == [] and smtp_server.messages == []
    assert ScheduledJobRegistry(queue=queue).count == 0  # nothing left to try again


def test_admin_sweep_leaves_a_parcel_in_problem_alone(
        app: Flask, awaiting: int, wf: Workflow, clock: Clock) -> None:
    wf.report_problem(awaiting, reason="damaged", message="Cassé.")
    clock.advance(days=30)
    result = app.test_cli_runner().invoke(args=["admin", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Réception automatique : 0 colis" in result.output
    assert "Rappels avant l'échéance : 0" in result.output
    assert parcel(awaiting).status == "problem" and outbox("E7") == []


def test_relaunch_schedules_the_new_deadline_and_its_own_reminder(
        awaiting: int, wf: Workflow, seller: Any, queue: Queue, clock: Clock, smtp_server: SmtpSink) -> None:
    clock.advance(days=6)
    assert run_sweep().reminders_sent == 1  # the first deadline's reminder
    wf.report_problem(awaiting, reason="not_received")
    clock.advance(days=1)
    wf.relaunch_receipt(awaiting, actor=Actor.seller(seller.email))
    registry = ScheduledJobRegistry(queue=queue)
    due = parcel(awaiting).receipt_due_at
    assert due == clock.now + timedelta(days=7)
    assert registry.get_scheduled_time(tasks.auto_receipt_job_id(awaiting)) == due.replace(microsecond=0)
    assert registry.get_scheduled_time(tasks.reminder_job_id(awaiting)) == (
        due - timedelta(days=2)).replace(microsecond=0)
    clock.advance(days=5, minutes=1)
    move_into_the_past(queue, tasks.reminder_job_id(awaiting))
    run_worker(with_scheduler=True)
    assert len(outbox("E5R")) == 2 and len(outbox("E5")) == 2
