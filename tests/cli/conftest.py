"""CLI fixtures: run `flask admin …` through Flask's CLI runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner


@pytest.fixture
def admin(runner: FlaskCliRunner, ctx: Flask) -> Callable[..., Result]:
    """`admin("create-seller", "a@b.fr", input="…")` runs `flask admin create-seller a@b.fr`."""

    def run(*args: str, input: str | bytes | None = None, **kwargs: Any) -> Result:
        return runner.invoke(args=["admin", *args], input=input, **kwargs)

    return run
