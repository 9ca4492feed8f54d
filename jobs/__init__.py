"""Background work: e-mail delivery, the 7-day automatic receipt, the periodic sweep.

With Redis (`REDIS_URL`), Flask-RQ queues the jobs and `flask jobs worker --with-scheduler`
(jobs/worker.py) runs the jobs inside the app (same configuration as the web process) and
fires the automatic receipts at their due time; `flask rq cron` enqueues the sweep every five minutes.
Without Redis, the same job functions run right after each commit (in a thread of the web
process for a web request: jobs/background.py), and the automatic receipt needs `flask admin
sweep` run periodically.
"""

from __future__ import annotations

import click
from flask import Flask

from uniqu3.extensions import rq

from . import dispatch
from .connection import with_short_timeouts
from .notice import INLINE_NOTICE


def init_app(app: Flask) -> None:
    connection = app.config.get("RQ_CONNECTION") or app.config.get("REDIS_URL")
    if connection:
        app.config["RQ_CONNECTION"] = with_short_timeouts(connection)
        rq.init_app(app)
        _hide_rq_worker(app)
        from . import cron  # noqa: F401  (registers the sweep for `flask rq cron`)

        app.extensions[dispatch.EXTENSION_KEY] = dispatch.RQ
    else:
        app.cli.add_command(_no_redis_cli)
        app.extensions[dispatch.EXTENSION_KEY] = dispatch.INLINE
    dispatch.connect()
    from .worker import jobs_cli

    app.cli.add_command(jobs_cli)


def _hide_rq_worker(app: Flask) -> None:
    """Flask-RQ's `flask rq worker` starts a Python process per job (about a second each,
    bench/RESULTS.md): `flask jobs worker` is this app's worker, so `flask rq --help` offers
    only `cron`. The command still runs, for the benchmark that compares the two."""
    group = app.cli.commands.get("rq")
    if isinstance(group, click.Group) and (worker := group.commands.get("worker")) is not None:
        worker.hidden = True


@click.group("rq", help="RQ worker and cron scheduler (they need REDIS_URL).")
def _no_redis_cli() -> None:
    pass


_ANY_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}


@_no_redis_cli.command("worker", context_settings=_ANY_ARGS, hidden=True)
def _worker_without_redis() -> None:
    """Run the RQ worker (needs REDIS_URL)."""
    raise click.ClickException("REDIS_URL is not set: there is no queue to work on. " + INLINE_NOTICE)


@_no_redis_cli.command("cron", context_settings=_ANY_ARGS)
def _cron_without_redis() -> None:
    """Run the RQ cron scheduler (needs REDIS_URL)."""
    raise click.ClickException("REDIS_URL is not set: there is no queue to schedule on. " + INLINE_NOTICE)
