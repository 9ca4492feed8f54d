"""Database engine settings: SQLite in WAL mode with a busy timeout; a database server's
pooled connections tested before use when they were left idle; what the outboxes share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, request
from sqlalchemy import Table, bindparam, event
from sqlalchemy.engine import CursorResult, Engine, Result, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.sql import Update

from .pg_cursor import DescribedWhenReadCursor

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: A server's pooled connection left unused longer than this is tested (`SELECT 1`) before it
#: is handed out, and replaced if the server dropped it. One used more recently is not:
#: SQLAlchemy's pool_pre_ping tests every checkout, a round trip to the server on each
#: request of a busy worker, where a dropped connection is rare and recent use shows it alive.
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "uniqu3.idle_since"
_READS_ONLY = "uniqu3_reads_only"
View = TypeVar("View", bound=Callable[..., Any])


def reads_only(view: View) -> View:
    """Mark a view that only reads: its request's statements run without a transaction
    (autocommit), which spares a database server the BEGIN and ROLLBACK round trips around
    them. What they read is the same: PostgreSQL's READ COMMITTED takes a snapshot per
    statement inside a transaction too. SQLite's driver opens no transaction for a SELECT:
    there the connection is left as it is."""
    setattr(view, _READS_ONLY, True)
    return view


def _autocommit_for_reads_only(app: Flask) -> Callable[[], None]:
    from .extensions import db

    def hook() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if request.method in ("GET", "HEAD") and getattr(view, _READS_ONLY, False):
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return hook


def init_app(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        options["connect_args"] = connect_args
        # A file has no server to lose the connection: no test query on checkout.
        options["pool_pre_ping"] = False
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    else:
        if make_url(uri).get_driver_name() == "psycopg":
            options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
            options["connect_args"] = {"cursor_factory": DescribedWhenReadCursor,
                                       **(options.get("connect_args") or {})}
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
        # Before any other hook reads the database (the seller's session does). Not on
        # SQLite: its driver opens no transaction for a SELECT already, and switching the
        # connection to autocommit and back on each request cost about a fifth of a
        # rendered « Commandes » (bench/RESULTS.md, fourth pass).
        app.before_request(_autocommit_for_reads_only(app))
        if (app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}).get("pool_pre_ping"):
            # Tested when idle instead (ping_idle_connections, once the engine exists).
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"],
                                                       "pool_pre_ping": False}
            app.config["UNIQU3_PING_IDLE_CONNECTIONS"] = True


def ping_idle_connections(app: Flask, engine: Engine) -> None:
    """Test a connection on checkout when it was idle over PING_AFTER_IDLE_SECONDS (the pool
    then replaces a dropped one and tries again, as it does with pool_pre_ping)."""
    if not app.config.get("UNIQU3_PING_IDLE_CONNECTIONS"):
        return
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError() from error
            raise
        if not alive:
            raise DisconnectionError()


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
