"""What happens after a workflow action has committed: the receivers of its signals.

E-mails and webhook deliveries are handled alike (outbox rows, delivered after the commit).

With Redis they enqueue jobs (delivery now, automatic receipt at the due time); an enqueue
that fails (Redis down or hung) is logged and forgotten, because the work is safe in the
database: the e-mails wait in the outbox and the due time on the parcel, and the next sweep
does both. Without Redis a web request hands its e-mails to the process's deliverer thread
(jobs/background.py: the answer never waits on SMTP), the CLI and jobs deliver inline, and the
sweep does the automatic receipt.

Blinker receivers are global: they are connected once per process and find the app through
`current_app` (tests create many apps).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context, has_request_context
from redis.client import Pipeline
from rq import get_current_job

from uniqu3.workflow import signals

from . import background, tasks
from .notice import log_inline_notice

log = logging.getLogger(__name__)

#: app.extensions key: "rq" (jobs on Redis) or "inline" (no Redis configured)
EXTENSION_KEY = "uniqu3.jobs"
RQ, INLINE = "rq", "inline"

_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    signals.emails_queued.connect(on_emails_queued, weak=False)
    signals.webhooks_queued.connect(on_webhooks_queued, weak=False)
    signals.receipt_requested.connect(on_receipt_requested, weak=False)
    signals.reminder_scheduled.connect(on_reminder_scheduled, weak=False)
    signals.commit_announcing.connect(on_commit_announcing, weak=False)
    signals.commit_announced.connect(on_commit_announced, weak=False)
    _connected = True


def current_mode() -> str | None:
    """How the current app runs its jobs; None outside an app (nothing to do then)."""
    if not has_app_context():
        return None
    return current_app.extensions.get(EXTENSION_KEY)


@dataclass(frozen=True)
class _Job:
    """A job for Redis: what puts it on a pipeline, and the warning should Redis refuse it."""

    put: Callable[[Pipeline], object]
    failure: str
    about: tuple[object, ...]


#: The jobs of the commits whose signals are being sent (`signals.one_commit`), innermost last:
#: queued in one round trip when the commit's signals are all sent.
_batches: ContextVar[tuple[list[_Job], ...]] = ContextVar("uniqu3_jobs_batches", default=())


def on_commit_announcing(sender: Any, **_: Any) -> None:
    if current_mode() == RQ:
        _batches.set((*_batches.get(), []))


def on_commit_announced(sender: Any, **_: Any) -> None:
    batches = _batches.get()
    if current_mode() != RQ or not batches:
        return
    _batches.set(batches[:-1])
    _queue(batches[-1])


def _on_redis(job: _Job) -> None:
    """Queue the job now, or with the other jobs of its commit if its signals are being sent."""
    batches = _batches.get()
    if batches:
        batches[-1].append(job)
    else:
        _queue([job])


def _queue(jobs: list[_Job]) -> None:
    if not jobs:
        return
    try:
        tasks.in_one_round_trip(job.put for job in jobs)
    except Exception as exc:  # none was queued: each says where its work waits
        for job in jobs:
            log.warning(job.failure, *job.about, f"{type(exc).__name__}: {exc}")


def on_emails_queued(sender: Any, *, ids: list[int], **_: Any) -> None:
    # The dev mailbox only stores them: no SMTP server to wait on, done within the request.
    _deliver_after_commit(ids, "e-mails", tasks.enqueue_delivery, tasks.deliver_now,
                          thread_in_request=not current_app.config.get("MAIL_TO_DEV_MAILBOX"))


def on_webhooks_queued(sender: Any, *, ids: list[int], **_: Any) -> None:
    _deliver_after_commit(ids, "webhooks", tasks.enqueue_webhooks, tasks.deliver_webhooks_now,
                          thread_in_request=True)


def _deliver_after_commit(ids: list[int], what: str, enqueue: Callable[[list[int], Pipeline], None],
                          deliver_now: Callable[[list[int]], object], *, thread_in_request: bool) -> None:
    """Outbox rows just committed (e-mails or webhook deliveries): a job with Redis; without,
    the web process's thread after the answer (a request never waits on a server), or inline
    for the CLI and jobs."""
    mode = current_mode()
    if mode is None or not ids:
        return
    ids = [int(i) for i in ids]
    # Already in the background (a job, e.g. the automatic receipt): deliver right away.
    if mode == RQ and get_current_job() is None:
        _on_redis(_Job(functools.partial(enqueue, ids),
                       "Could not enqueue the delivery of %s %s (%s); they wait in the outbox for "
                       "the next sweep.", (what, ids)))
        return
    if mode == INLINE:
        log_inline_notice()
    if mode == INLINE and has_request_context() and thread_in_request:
        background.deliverer(current_app._get_current_object()).call(  # type: ignore[attr-defined]
            functools.partial(deliver_now, ids))
        return
    deliver_now(ids)


def on_receipt_requested(sender: Any, *, shipment_id: int, due_at: datetime, **_: Any) -> None:
    _schedule(tasks.schedule_auto_receipt, "the automatic receipt", int(shipment_id), due_at)


def on_reminder_scheduled(sender: Any, *, shipment_id: int, at: datetime, **_: Any) -> None:
    _schedule(tasks.schedule_reminder, "the receipt reminder", int(shipment_id), at)


def _schedule(schedule: Callable[..., None], what: str, shipment_id: int, at: datetime) -> None:
    """With RQ, a job at the parcel's time; inline, or with Redis down, `flask admin sweep`
    does it once due (the time is stored on the parcel)."""
    mode = current_mode()
    if mode == INLINE:
        log_inline_notice()  # the deadline waits for `flask admin sweep`
    if mode != RQ:
        return
    _on_redis(_Job(lambda pipe: schedule(shipment_id, at, pipeline=pipe),
                   "Could not schedule %s of shipment %s at %s (%s); the sweep will do it once due.",
                   (what, shipment_id, at.isoformat())))
