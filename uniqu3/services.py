"""The workflow bound to the current app's session and settings: what entry points call."""

from __future__ import annotations

from flask import current_app

from .extensions import db
from .timeutil import utcnow
from .workflow import Workflow
from .workflow.accounts import Accounts


def workflow() -> Workflow:
    clock = current_app.config.get("CLOCK") or utcnow
    return Workflow(db.session, auto_receipt_days=current_app.config["AUTO_RECEIPT_DAYS"], clock=clock)


def accounts() -> Accounts:
    clock = current_app.config.get("CLOCK") or utcnow
    return Accounts(db.session, clock=clock)
