"""The engine's PostgreSQL cursors describe a result's columns when read, exactly as psycopg does."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text

from tests.conftest import TEST_DATABASE_URL
from uniqu3.extensions import db
from uniqu3.pg_cursor import DescribedWhenReadCursor

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL,
                                reason="PostgreSQL only (psycopg's cursors); runs in the PostgreSQL pass")


@pytest.fixture
def connection(app: Flask) -> Iterator[psycopg.Connection]:
    with app.app_context():
        dbapi = db.session.connection().connection.dbapi_connection
        assert isinstance(dbapi, psycopg.Connection)
        yield dbapi
        db.session.remove()


def _shown(description: Sequence[Any] | None) -> list[tuple[Any, ...]] | None:
    return None if description is None else [tuple(column) for column in description]


@pytest.mark.parametrize("statement", [
    "SELECT 1 AS n, 'é'::text AS word, now() AS at, NULL::numeric(10, 2) AS amount",
    "SELECT id, email FROM sellers WHERE false",  # no rows, still columns
    "SELECT",  # rows without columns
    "SET TIME ZONE 'UTC'",  # no result at all
])
def test_a_result_is_described_as_psycopg_describes_it(connection: psycopg.Connection,
                                                       statement: str) -> None:
    mine = connection.cursor()
    assert isinstance(mine, DescribedWhenReadCursor)  # the engine's cursors
    theirs = psycopg.Cursor(connection)
    mine.execute(statement)
    theirs.execute(statement)
    assert _shown(mine.description) == _shown(theirs.description)
    if theirs.description is not None:
        assert len(mine.description or ()) == len(theirs.description)
        assert [c.name for c in mine.description or ()] == [c.name for c in theirs.description]


def test_a_description_read_after_the_next_statement_is_refused(connection: psycopg.Connection) -> None:
    cursor = connection.cursor()
    cursor.execute("SELECT 1 AS first")
    kept = cursor.description
    assert kept is not None and len(kept) == 1
    cursor.execute("SELECT 2 AS second, 3 AS third")
    with pytest.raises(psycopg.InterfaceError):
        kept[0]  # it would describe « second »
    cursor.execute("SELECT 4 AS fourth")
    read = cursor.description
    assert read is not None and read[0].name == "fourth"
    cursor.execute("SELECT 5 AS fifth")
    assert read[0].name == "fourth"  # read while it was current: kept as it was


def test_the_app_reads_results_through_it(app: Flask) -> None:
    with app.app_context():
        result = db.session.execute(text("SELECT 1 AS a, 'b' AS b"))
        assert list(result.keys()) == ["a", "b"]
        assert result.all() == [(1, "b")]
