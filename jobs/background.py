"""Work a web request leaves for after its answer, done by a thread of the web process.

Without Redis, a web request's e-mails and webhooks are sent by this thread: a slow or stalled
SMTP server or webhook receiver never holds a request (nor a gunicorn worker). In every mode,
« Mot de passe oublié » looks the address up here, after answering, so that the answer is the
same, and as quick, whether the address exists or not.

One daemon thread per app and process, started at the first e-mail (after gunicorn's fork),
runs the deliveries that requests hand it (jobs/dispatch.py), one after the other, in an app
context of its own. The rows are already committed: if the process stops before the thread is done, they are
still pending (or claimed, and taken again after their lease), and the next
`flask --app wsgi admin sweep` sends them.

Outside a request (the CLI, a job) delivery stays inline, as the command's own work.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask

log = logging.getLogger(__name__)

EXTENSION_KEY = "uniqu3.jobs.deliverer"


@dataclass
class Deliverer:
    app: Flask
    batches: queue.Queue[Callable[[], object]] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _pid: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, work: Callable[[], object]) -> None:
        """Run `work` (in an app context of its own) after the answer, and return at once."""
        self._ensure_running()
        self.batches.put(work)

    def idle(self) -> bool:
        """Everything handed over is done (for tests)."""
        return self.batches.unfinished_tasks == 0

    def _ensure_running(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            if self._pid != os.getpid():  # a forked child: the parent's queue and thread are not ours
                self.batches = queue.Queue()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="uniqu3-deliverer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self.batches.get()
            try:
                with self.app.app_context():
                    item()
            except Exception:  # never let the thread die: the sweep is the safety net anyway
                log.exception("Background work failed (%r); e-mails and webhooks wait in the outbox.", item)
            finally:
                self.batches.task_done()


def deliverer(app: Flask) -> Deliverer:
    found = app.extensions.get(EXTENSION_KEY)
    if found is None:
        found = app.extensions[EXTENSION_KEY] = Deliverer(app)
    return found
