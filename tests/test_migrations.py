"""`flask db upgrade` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from tests.conftest import TEST_DATABASE_URL
from uniqu3 import create_app
from uniqu3.extensions import Base, db


@pytest.fixture
def empty_database_url(tmp_path: Path, database_url: str) -> Iterator[str]:
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    base = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"uq_mig_{os.getpid()}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def test_upgrade_gives_the_models_schema_and_downgrade_removes_it(empty_database_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"sellers", "orders", "order_lines", "shipments", "shipment_lines",
                "order_events", "outbox_emails", "api_keys"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
