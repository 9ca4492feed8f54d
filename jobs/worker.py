"""`flask --app wsgi jobs worker`: the RQ worker, running each job inside the loaded app.

Flask-RQ's `flask rq worker` starts a new Python process (`flask rq work-horse`) for every
job, which imports and configures the app again: about a second per job. This worker loads
the app once, compiles the e-mail templates in every language (`warm_up`), and runs the jobs
in one of two ways:

- by default, in its own process, one after the other (RQ's `SimpleWorker`): each job gets a
  fresh app context, so its own database session, closed when it ends; the SMTP connection a
  delivery ends with is kept for the next job's (checked with RSET first, see
  uniqu3/mail/smtp.py). A job costs its own work and RQ's bookkeeping, a few milliseconds.
- with `--fork`, each job in a fork of the worker (RQ's `Worker`), as before: it adds the fork
  and RQ's watch over the child (about 0.1 s per job in bench.worker) and a new SMTP
  connection per job.

What the fork protected, and what stands in for it in the default mode:
- A job that runs past its timeout: RQ's alarm (SIGALRM) raises in the job in both modes. Here
  it raises `JobTimeout`, not an `Exception`, so no `except Exception` of the job's code can
  swallow it; deliver() writes the outcomes of what it sent, RQ fails the job and retries it
  (tasks.RETRY). What only the fork covers: a job stuck where a signal cannot interrupt it
  (inside C code); the forking worker kills its child a minute after the timeout. Our jobs
  wait only on sockets, which have timeouts (SMTP: MAIL_TIMEOUT, Redis: 1 s, the database's).
- A job that crashes the process (segfault, killed for its memory): here the worker dies with
  it and the process manager restarts it; RQ later finds the job abandoned and retries it; its
  e-mails, claimed, are sent again once their lease is over (10 minutes), by the retry or the
  sweep, with the same Message-ID. With `--fork` only the child dies and the worker goes on.
- Memory a job leaks stays in the process: `--max-jobs N` ends the worker after N jobs (the
  process manager starts a new one); with `--fork` it is freed after each job.
"""

from __future__ import annotations

import contextlib
import signal
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import SimpleWorker, Worker
from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue
from rq.timeouts import UnixSignalDeathPenalty
from rq.worker.base import BaseWorker

from uniqu3.extensions import db, rq
from uniqu3.language_templates import warm_up as warm_up_emails
from uniqu3.mail.smtp import connections_kept


class JobTimeout(BaseException):
    """A job ran past its timeout. Not an `Exception`: the job's own `except Exception` (a
    delivery that goes on after one message's failure) must not take it for a failure of its
    own and carry on."""


#: Once rung, the alarm rings again this often until the job has stopped: an exception raised
#: while Python runs a garbage collector's callback or a `__del__` is printed and dropped
#: (« Exception ignored in »), and the job would otherwise run on past its timeout.
RING_AGAIN_SECONDS = 1


class _TimeoutAlarm(UnixSignalDeathPenalty):
    """RQ's alarm, raising JobTimeout (again every RING_AGAIN_SECONDS until the job ends)."""

    def handle_death_penalty(self, signum: int, frame: Any) -> None:
        signal.alarm(RING_AGAIN_SECONDS)  # cancelled with the alarm when the job ends
        raise JobTimeout(f"Task exceeded maximum timeout value ({self._timeout} seconds)")

    def cancel_death_penalty(self) -> None:
        with contextlib.suppress(JobTimeout):  # the alarm rang as the job ended: it is done
            super().cancel_death_penalty()  # type: ignore[no-untyped-call]  # unannotated in RQ


#: How long RQ's listener for remote commands (stop, kill a job) waits for a message before it
#: looks again whether it is to end (RQ asks for 60 s). See _PromptListener.
LISTENER_POLL_SECONDS = 1.0


class _PromptListener(BaseWorker):
    """RQ's listener for remote commands (a thread reading the worker's Redis channel), made to
    end within LISTENER_POLL_SECONDS of the worker's stop.

    At its stop (SIGTERM, end of a burst) RQ sends UNSUBSCRIBE, then tells the thread to end
    and waits for it, without a bound in redis-py's PubSubWorkerThread.stop(). When the thread
    reads the UNSUBSCRIBE answer before it is told to end, it goes back to waiting for the next
    message, which never comes: with RQ's 60 s the worker then outlived a restart's grace period
    and was killed (the load test's 30 s SIGKILL). Waiting one second at a time bounds that."""

    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]  # None in RQ's typing
            sleep_time=LISTENER_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler)


class InProcessWorker(_PromptListener, SimpleWorker):
    """Runs each job in this process, inside a fresh app context of `app`."""

    death_penalty_class = _TimeoutAlarm

    def __init__(self, *args: Any, app: Flask, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        with self.app.app_context():  # its end removes the job's database session
            return super().perform_job(job, queue, execution)


class ForkingWorker(_PromptListener, Worker):
    """Forks per job, like RQ's Worker; the job runs inside an app context of `app`."""

    def __init__(self, *args: Any, app: Flask, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # The pooled connections belong to the parent: dropped in the child, not closed.
        with self.app.app_context():
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        with self.app.app_context():
            return super().perform_job(job, queue, execution)


def warm_up(app: Flask) -> None:
    """Compile the e-mail templates and load the catalogues once, before the first job (a
    forked job inherits them instead of compiling them again: about 100 ms per job)."""
    from flask_babel import force_locale, get_translations

    warm_up_emails(app)
    with app.test_request_context():
        for locale in app.config.get("LANGUAGES") or ("fr",):
            with force_locale(locale):
                get_translations()


def make_worker(app: Flask, queues: tuple[str, ...] = (), *, fork: bool = False,
                **kwargs: Any) -> InProcessWorker | ForkingWorker:
    known = rq.queues
    chosen = tuple(known[name] for name in queues) if queues else tuple(known.values())
    worker_class = ForkingWorker if fork else InProcessWorker
    return worker_class(chosen, job_class=chosen[0].job_class, connection=chosen[0].connection,
                        app=app, **kwargs)


@click.group("jobs", help="The background worker (needs REDIS_URL).")
def jobs_cli() -> None:
    pass


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@click.option("--with-scheduler", is_flag=True,
              help="Also move the scheduled jobs (the automatic receipts) to the queue on time.")
@click.option("--max-jobs", type=int, default=None, help="Stop after this many jobs.")
@click.option("--fork", is_flag=True,
              help="Run each job in a fork of the worker (slower; a crashing job spares the worker).")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker_command(burst: bool, with_scheduler: bool, max_jobs: int | None, fork: bool,
                   queues: tuple[str, ...]) -> None:
    """Run the jobs: e-mail delivery, automatic receipts (in this process, or forks with --fork)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask
    if "rq" not in app.extensions:
        from .notice import INLINE_NOTICE

        raise click.ClickException("REDIS_URL is not set: there is no queue to work on. " + INLINE_NOTICE)
    unknown = [name for name in queues if name not in rq.queues]
    if unknown:
        raise click.BadParameter(f"unknown queue(s): {', '.join(unknown)}", param_hint="QUEUES")
    warm_up(app)
    worker = make_worker(app, queues, fork=fork)
    # The loop itself needs no app context; each job gets its own (see the worker classes).
    # A fork's SMTP connection ends with it: only the in-process worker keeps one.
    with contextlib.nullcontext() if fork else connections_kept():
        worker.work(burst=burst, with_scheduler=with_scheduler, max_jobs=max_jobs)
