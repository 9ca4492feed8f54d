"""`flask jobs worker` runs the jobs in its own process (jobs/worker.py): its jobs share one
SMTP connection, opened again when the server dropped it, a job past its timeout is
stopped even where the delivery goes on after an error, and the worker's listener for
remote commands ends with the worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from rq import Queue
from rq.job import JobStatus

from jobs import tasks
from jobs.worker import InProcessWorker, JobTimeout
from tests.jobs.conftest import outbox
from tests.mail.conftest import ScriptedSmtp, scripted_server
from uniqu3.mail.smtp import connections_kept
from uniqu3.models import OutboxStatus
from uniqu3.workflow import signals

pytestmark = pytest.mark.redis


@pytest.fixture
def mail_server() -> Iterator[ScriptedSmtp]:
    with scripted_server() as server:
        yield server


@pytest.fixture
def app_config(app_config: dict[str, Any], rq_config: dict[str, Any],
               mail_server: ScriptedSmtp) -> dict[str, Any]:
    return {**app_config, **rq_config, "MAIL_SERVER": mail_server.host, "MAIL_PORT": mail_server.port,
            "MAIL_TO_DEV_MAILBOX": False}


class QuietWorker(InProcessWorker):
    """The in-process worker without the listener for remote commands (a second per stop)."""

    def subscribe(self) -> None:
        self.pubsub_thread = None

    def unsubscribe(self) -> None:
        return None


def work(app: Flask, queue: Queue) -> None:
    worker = QuietWorker([queue], connection=queue.connection, job_class=queue.job_class, app=app)
    worker.work(burst=True, logging_level="WARNING")


def test_the_jobs_of_a_worker_share_one_smtp_connection_reopened_when_dropped(
    app: Flask, make_order: Any, queue: Queue, mail_server: ScriptedSmtp
) -> None:
    for _ in range(3):
        make_order()
    assert queue.count == 3
    with connections_kept():
        work(app, queue)
        assert len(mail_server.messages) == 6
        assert mail_server.handler.connections == 1

        mail_server.stop()  # the server restarts: the kept connection is dead
        mail_server.start()
        make_order()
        work(app, queue)
    assert len(mail_server.messages) == 8 and mail_server.handler.connections == 2
    # Nothing was sent over the dead connection: no e-mail counts a failed try for it.
    assert {(row.status, row.attempts) for row in outbox()} == {(OutboxStatus.SENT, 1)}


def test_a_job_past_its_timeout_is_stopped_and_the_worker_goes_on(
    app: Flask, make_order: Any, queue: Queue, mail_server: ScriptedSmtp
) -> None:
    """The server takes longer to answer a message than the job may run: RQ's alarm stops the
    job (JobTimeout is no Exception the delivery could take for that message's failure and go
    on with the next one)."""
    app.config["MAIL_TIMEOUT"] = 60
    with signals.emails_queued.muted():
        make_order()
    ids = [row.id for row in outbox()]
    mail_server.handler.data_script = [3.0]  # the first message is answered 3 s later
    stuck = tasks.deliver_emails.enqueue(ids, job_timeout=1)
    after = tasks.sweep.enqueue()

    work(app, queue)

    assert stuck.get_status(refresh=True) == JobStatus.FAILED
    result = stuck.latest_result()
    assert result is not None and JobTimeout.__name__ in str(result.exc_string)
    # Claimed, their outcome unknown: they wait for their lease, then the sweep sends them
    # again with the same Message-ID (at-least-once); nothing counted as a failed try.
    assert [(row.status, row.attempts) for row in outbox()] == [(OutboxStatus.SENDING, 0)] * 2
    assert after.get_status(refresh=True) == JobStatus.FINISHED


class _SlowToDelete:
    def __del__(self) -> None:
        time.sleep(2)  # the alarm rings in here: its exception is printed and dropped


def swallows_the_first_alarm() -> str:
    """A job whose timeout rings while Python runs a `__del__` (as it may run a garbage
    collector's callback at any moment), then works on."""
    _SlowToDelete()
    time.sleep(6)
    return "ran past its timeout"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped alarm
def test_a_job_whose_first_alarm_is_dropped_is_stopped_by_the_next(app: Flask, queue: Queue) -> None:
    """Seen once in CI: the timeout's exception raised inside a garbage collector's callback was
    dropped, and the job ran to its end. The alarm rings again until the job stops."""
    job = queue.enqueue(swallows_the_first_alarm, job_timeout=1)
    started = time.monotonic()
    work(app, queue)
    assert job.get_status(refresh=True) == JobStatus.FAILED
    result = job.latest_result()
    assert result is not None and JobTimeout.__name__ in str(result.exc_string)
    assert time.monotonic() - started < 5  # stopped by the second ring, not at the job's end


def test_the_listener_for_remote_commands_ends_with_the_worker_whatever_it_read_last(
    app: Flask, queue: Queue
) -> None:
    """At its stop RQ sends UNSUBSCRIBE, then ends its listener thread and waits for it. The
    listener can read the UNSUBSCRIBE answer before it is told to end: it then waits for a next
    message that never comes. With RQ's own listener that wait was 60 s, and a worker told to
    stop by a restart (SIGTERM) was still there when the grace period's SIGKILL came."""
    worker = InProcessWorker([queue], connection=queue.connection, job_class=queue.job_class, app=app)
    worker.subscribe()
    pubsub, listener = worker.pubsub, worker.pubsub_thread
    assert pubsub is not None and listener is not None and listener.is_alive()
    # That order of events, made certain: the answer is read while the listener still runs.
    pubsub.unsubscribe()
    deadline = time.monotonic() + 30
    while pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not pubsub.subscribed and listener.is_alive()

    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(20)  # a bound far from the 60 s wait, not a measure: the listener looks every second
    assert not stopping.is_alive() and not listener.is_alive()
