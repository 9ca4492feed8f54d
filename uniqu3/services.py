"""The workflow bound to the current app's session and settings: what entry points call."""

from __future__ import annotations

from flask import current_app

from .extensions import db
from .timeutil import utcnow
from .workflow import Workflow


def workflow() -> Workflow:
    clock = current_app.config.get("CLOCK") or utcnow
    return Workflow(db.session, auto_receipt_days=current_app.config["AUTO_RECEIPT_DAYS"],
                    reminder_days=current_app.config["RECEIPT_REMINDER_DAYS"], clock=clock)
