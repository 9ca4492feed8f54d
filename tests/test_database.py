"""The database connections: a server's pooled connection that was dropped is replaced before use."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text

from tests.conftest import TEST_DATABASE_URL
from uniqu3 import database
from uniqu3.config import driver_url
from uniqu3.extensions import db
from uniqu3.models import Seller


def test_a_pooled_connection_the_server_dropped_is_replaced_after_it_was_idle(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL only (a server that drops connections); runs in the PostgreSQL pass")
    with app.app_context():
        dropped = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool
        admin = create_engine(db.engine.url)
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        admin.dispose()
        # Tested on checkout, as it was idle longer than this.
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert db.session.scalar(select(Seller.id).limit(1)) is None  # no error: a new connection
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != dropped


@pytest.mark.parametrize(("given", "used"), [
    ("postgres://u:p@db:5432/shop", "postgresql+psycopg://u:p@db:5432/shop"),
    ("postgresql://u@db/shop?options=-csearch_path%3Dx", "postgresql+psycopg://u@db/shop?options=-csearch_path%3Dx"),
    ("postgresql+psycopg://u@db/shop", "postgresql+psycopg://u@db/shop"),
    ("sqlite:////srv/uniqu3/instance/uniqu3.sqlite", "sqlite:////srv/uniqu3/instance/uniqu3.sqlite"),
])
def test_a_postgresql_url_goes_through_psycopg_3(given: str, used: str) -> None:
    assert driver_url(given) == used
