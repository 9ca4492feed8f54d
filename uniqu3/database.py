"""Database engine settings: SQLite in WAL mode with a busy timeout; what the outboxes share."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Table, bindparam, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.sql import Update

SQLITE_BUSY_TIMEOUT_MS = 10_000


def init_app(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        options["connect_args"] = connect_args
        # A file has no server to lose the connection: no test query on every checkout
        # (two per API request: before and after the workflow's commit).
        options["pool_pre_ping"] = False
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    # WAL: the web process and the worker read while the other writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def rows_matched(result: Result[Any]) -> int:
    """The rows an UPDATE matched. Session.execute types its answer as any Result; an
    UPDATE's is a CursorResult, which has the count."""
    assert isinstance(result, CursorResult)
    return result.rowcount


_OUTCOME_STATEMENTS: dict[tuple[str, tuple[str, ...]], Update] = {}


def outcome_statement(table: Table, names: tuple[str, ...]) -> Update:
    """An outbox row's outcome, written only by the run that holds its claim:
    `UPDATE <table> SET <names>, claim_token = NULL WHERE id = :row_id AND claim_token = :token`
    (values as `new_<name>`), built once per table and set of columns, run with executemany."""
    statement = _OUTCOME_STATEMENTS.get((table.name, names))
    if statement is None:
        statement = (
            table.update()
            .where(table.c.id == bindparam("row_id"), table.c.claim_token == bindparam("token"))
            .values(claim_token=None,
                    **{name: bindparam(f"new_{name}", type_=table.c[name].type) for name in names})
        )
        _OUTCOME_STATEMENTS[(table.name, names)] = statement
    return statement
