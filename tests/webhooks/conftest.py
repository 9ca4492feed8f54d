"""Webhook fixtures: a real receiver on loopback, endpoints registered with the operators'
command, the deliveries as the database holds them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from tests.webhook_receiver import Receiver, running_receiver
from uniqu3.extensions import db
from uniqu3.models import WebhookDelivery

TIMEOUT = 1


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "WEBHOOK_TIMEOUT": TIMEOUT}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def admin(runner: FlaskCliRunner, ctx: Flask) -> Callable[..., Result]:
    """`admin("create-webhook", url)` runs `flask admin create-webhook URL`."""

    def run(*args: str, **kwargs: Any) -> Result:
        return runner.invoke(args=["admin", *args], **kwargs)

    return run


@pytest.fixture
def register(admin: Callable[..., Result], receiver: Receiver) -> Callable[..., str]:
    """Register the receiver (or `url`) with `create-webhook`; the receiver learns the secret
    from the command's last line, as an operator would copy it."""

    def run(*options: str, url: str | None = None) -> str:
        result = admin("create-webhook", url or receiver.url, *options)
        assert result.exit_code == 0, result.output
        secret = result.output.strip().splitlines()[-1]
        if url is None:
            receiver.secret = secret
        return secret

    return run


def deliveries() -> list[WebhookDelivery]:
    db.session.rollback()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
