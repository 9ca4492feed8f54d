"""The receivers under the plain testing profile, as every other feature's tests run them:
no Redis, no SMTP server (the dev mailbox). Inline delivery must be quick and never raise."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

from tests.jobs.conftest import outbox
from uniqu3.models import OutboxStatus
from uniqu3.workflow import Actor, Workflow


def test_actions_deliver_to_the_dev_mailbox_inline(
    app: Flask, wf: Workflow, make_order: Any, seller: Any
) -> None:
    assert app.config["MAIL_TO_DEV_MAILBOX"] and app.config["REDIS_URL"] is None
    started = time.monotonic()
    for _ in range(10):
        order = make_order()
        wf.confirm_payment(order.id, actor=Actor.seller(seller.email))
    # 20 actions, 30 e-mails: no network wait anywhere (a generous bound for a busy machine).
    assert time.monotonic() - started < 5
    rows = outbox()
    assert len(rows) == 30 and {r.status for r in rows} == {OutboxStatus.SENT}
