"""« Commandes » reads index ranges only, whatever other index the orders table gains.

The list's statements stop after a page or a capped count, so they cost the same for a seller
of 100 orders or 100,000 — as long as the database walks the index meant for each. SQLite keeps
no statistics here: when `ix_orders_seller_updated` appeared, it counted « Problèmes » and
« À rembourser » through it, reading every order of the seller on each view (40 ms for a shop
of 20,000 orders instead of 4). This checks the plan of every statement the list runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from uniqu3 import search_index
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus
from uniqu3.seller.queries import TABS, Cursor

from .conftest import SellerClient, rendered_lists_of

Make = Callable[..., Order]

#: Each tab's flag and the partial index its statements must walk.
FLAG_INDEXES = {"open_problems": "ix_orders_seller_problems",
                "refund_due_cents": "ix_orders_seller_refund_due"}


def _list_statements(sc: SellerClient, app: Any, urls: list[str]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "FROM orders" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        for url in urls:
            rendered_lists_of(app).clear()
            assert sc.get(url).status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def _plan(app: Any, statement: str, parameters: Any) -> str:
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            return "\n".join(row[3] for row in rows)
        # The plan of the statement prepared (psycopg prepares a statement run 5 times on a
        # connection) once the server plans it without the parameters' values (generic);
        # no table scan where an index can answer.
        names = list(dict.fromkeys(_PARAMETER.findall(statement)))
        numbered = _PARAMETER.sub(lambda m: f"${names.index(m.group(1)) + 1}", statement)
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql("PREPARE list_statement AS " + numbered)
        arguments = ", ".join(_literal(parameters[name]) for name in names)
        rows = conn.exec_driver_sql(f"EXPLAIN EXECUTE list_statement({arguments})").all()
        conn.exec_driver_sql("DEALLOCATE list_statement")
        return "\n".join(row[0] for row in rows)


_PARAMETER = re.compile(r"%\((\w+)\)s")


def _literal(value: Any) -> str:
    """A parameter written in SQL (EXPLAIN EXECUTE takes no parameters of its own)."""
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


def test_every_statement_of_the_list_walks_an_index_range_and_the_flagged_tabs_their_partial_index(
    sc: SellerClient, order_in: Make, app: Any, clock: Any
) -> None:
    for status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.SHIPPED,
                   OrderStatus.CANCELLED):
        order_in(status)
    cursor = Cursor(clock() + timedelta(days=1), 10**6).encode()
    urls = [f"/commandes?statut={tab.slug}{page}" for tab in TABS
            for page in ("", f"&apres={cursor}", f"&avant={cursor}")]
    statements = _list_statements(sc, app, urls)
    assert len(statements) == len(urls)  # one a view: the page with the tabs' counts

    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    waiting = 0
    for statement, parameters in statements:
        plan = _plan(app, statement, parameters)
        if "orders.status NOT IN (" in statement:
            # « À traiter »: its partial index, whose condition (models.WAITING_FOR_SELLER_SQL)
            # must be the tab's (workflow/counts.py WAITING_FOR_SELLER) for the database to use it.
            assert "ix_orders_seller_waiting" in plan, (statement, plan)
            waiting += 1
        else:
            for flag, index in FLAG_INDEXES.items():
                if f"orders.{flag} >" in statement:
                    assert index in plan, (statement, plan)
        if sqlite:
            # Index entries only, or an order's row by its id (the 25 rows shown).
            reads = [line for line in plan.splitlines() if " orders " in f"{line} "]
            assert reads and all("COVERING INDEX" in line or "INTEGER PRIMARY KEY" in line
                                 for line in reads), (statement, plan)
        else:
            assert "Seq Scan on orders" not in plan, (statement, plan)
    assert waiting == 3  # « À traiter »: its first page and a page each way



def test_a_search_prepared_on_postgresql_is_planned_for_its_own_text(
    sc: SellerClient, order_in: Make, app: Any
) -> None:
    """psycopg prepares a statement run 5 times, and PostgreSQL then plans it once for every
    value of its parameters: with the pattern as a parameter, a two-letter search got the
    trigram index's plan (which cannot filter on fewer than three letters: 100 ms for a big
    shop). The pattern is written into the statement, so its plan is that text's."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL only (prepared statements' plans); runs in the PostgreSQL pass")
    order_in(OrderStatus.PAID)
    statements = _list_statements(sc, app, ["/commandes?statut=toutes&q=ma"])
    assert len(statements) == 2  # the page, and the search's counts
    for statement, parameters in statements:
        assert "%ma%" in statement.replace("%%", "%")
        plan = _plan(app, statement, parameters)
        assert search_index.PG_INDEX not in plan, (statement, plan)
