"""`flask --app wsgi jobs worker`: the RQ worker that runs each job in a fork of the loaded app.

Flask-RQ's `flask rq worker` starts a new Python process (`flask rq work-horse`) for every
job, which imports and configures the app again: about a second per job, so a worker
delivered about one action's e-mails per second while intake creates hundreds of orders per
second. This worker is RQ's standard forking `Worker`: the child is a copy of a process that
has the app loaded, its e-mail templates compiled and its catalogues read (`warm_up`), so a
job still runs in its own process (a crash or a leak ends with it) but costs its own work
plus a fork (a few milliseconds).

In the child, the pooled database connections inherited from the parent are dropped without
being closed (they belong to the parent: `dispose(close=False)`), and each job runs in a
fresh app context, so it gets its own session and connection.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Worker
from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue

from uniqu3.extensions import db, rq


class AppWorker(Worker):
    """Forks per job, like RQ's Worker; the job runs inside an app context of `app`."""

    def __init__(self, *args: Any, app: Flask, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        with self.app.app_context():
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        with self.app.app_context():
            return super().perform_job(job, queue, execution)


def warm_up(app: Flask) -> None:
    """Compile the e-mail templates and load the catalogues once, in the parent: every forked
    job inherits them instead of compiling them again (about 100 ms per job)."""
    from flask_babel import force_locale, get_translations

    with app.test_request_context():
        for name in app.jinja_env.list_templates(filter_func=lambda n: n.startswith("email/")):
            app.jinja_env.get_template(name)
        for locale in ("fr", "en"):
            with force_locale(locale):
                get_translations()


def make_worker(app: Flask, queues: tuple[str, ...] = (), **kwargs: Any) -> AppWorker:
    known = rq.queues
    chosen = tuple(known[name] for name in queues) if queues else tuple(known.values())
    return AppWorker(chosen, job_class=chosen[0].job_class, connection=chosen[0].connection,
                     app=app, **kwargs)


@click.group("jobs", help="The background worker (needs REDIS_URL).")
def jobs_cli() -> None:
    pass


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@click.option("--with-scheduler", is_flag=True,
              help="Also move the scheduled jobs (the automatic receipts) to the queue on time.")
@click.option("--max-jobs", type=int, default=None, help="Stop after this many jobs.")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker_command(burst: bool, with_scheduler: bool, max_jobs: int | None, queues: tuple[str, ...]) -> None:
    """Run the jobs: e-mail delivery, automatic receipts (each job in a fork of this process)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "rq" not in app.extensions:
        from . import INLINE_NOTICE

        raise click.ClickException("REDIS_URL is not set: there is no queue to work on. " + INLINE_NOTICE)
    unknown = [name for name in queues if name not in rq.queues]
    if unknown:
        raise click.BadParameter(f"unknown queue(s): {', '.join(unknown)}", param_hint="QUEUES")
    warm_up(app)
    worker = make_worker(app, queues)
    # The loop itself needs no app context; each job gets its own (see AppWorker).
    worker.work(burst=burst, with_scheduler=with_scheduler, max_jobs=max_jobs)
