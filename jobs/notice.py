"""What running without Redis means, said once per process where it matters: when the first
job runs inline (an action's e-mails, a receipt request's deadline), not on every start of a
command (`--help`, `db upgrade`, each process of `flask run --debug`)."""

from __future__ import annotations

import logging

log = logging.getLogger("jobs")

INLINE_NOTICE = (
    "REDIS_URL is not set: e-mails are sent right after each action (by a thread of the web "
    "process for web requests), and the automatic receipt after the deadline, like any e-mail "
    "left waiting, needs `flask --app wsgi admin sweep` run periodically (e.g. every 5 minutes "
    "from cron). Login throttle counters are kept per process."
)
_logged = False


def log_inline_notice() -> None:
    """Once per process, not once per app or per job (tests create many apps)."""
    global _logged
    if not _logged:
        _logged = True
        log.warning(INLINE_NOTICE)
