"""What entry points share, bound to the current app: its clock and its workflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app

from .extensions import db
from .timeutil import utcnow
from .workflow import Workflow
from .workflow.accounts import Accounts


def clock() -> Callable[[], datetime]:
    """The app's clock: the real one, or the one a test set in the `CLOCK` setting."""
    return current_app.config.get("CLOCK") or utcnow


def now() -> datetime:
    """The current time by the app's clock (aware, UTC)."""
    return clock()()


def workflow(*, keep_order: bool = False) -> Workflow:
    """The app's workflow (`keep_order`: see `Workflow`)."""
    return Workflow(db.session(), auto_receipt_days=current_app.config["AUTO_RECEIPT_DAYS"],
                    reminder_days=current_app.config["RECEIPT_REMINDER_DAYS"], clock=clock(),
                    keep_order=keep_order)


def accounts() -> Accounts:
    return Accounts(db.session(), clock=clock())
