"""The RQ cron configuration: the sweep every five minutes.

Loaded by `flask --app wsgi rq cron` (imported when the app starts with Redis) and by plain
RQ: `rq cron --url "$REDIS_URL" jobs.cron`. Run ONE cron scheduler: RQ's does not take a
lock, so two would each enqueue the sweep (harmless, see README « Production », but useless).
"""

from __future__ import annotations

from rq import cron

from .tasks import sweep

SWEEP_INTERVAL_SECONDS = 5 * 60
SWEEP_JOB_NAME = "uniqu3-sweep"

cron.register(
    sweep.func,  # the plain function: the job stores its import path, jobs.tasks.sweep
    queue_name="default",
    interval=SWEEP_INTERVAL_SECONDS,
    name=SWEEP_JOB_NAME,
    job_timeout=10 * 60,
    # A sweep still waiting after two periods (no worker running) is dropped: a newer one follows.
    ttl=2 * SWEEP_INTERVAL_SECONDS,
    result_ttl=SWEEP_INTERVAL_SECONDS * 3,
)
