"""The orders' search text and the index that finds a substring of it.

The « Commandes » search matches a substring, in any case, of the reference, the buyer's name
or e-mail, a SKU or a tracking number. A LIKE '%x%' over those columns reads every order of
the seller (about 200 ms for 100,000 orders), so the workflow keeps one denormalised
`orders.search_text` (those values, one per line) and the database indexes it by trigrams:

- SQLite: an FTS5 table `order_search` with the trigram tokenizer (case-insensitive), whose
  content is `orders.search_text` (external content: no second copy of the text), kept in step
  by triggers on `orders`;
- PostgreSQL: a GIN pg_trgm index on `search_text`, which answers ILIKE '%x%'.

Neither is in the models (SQLAlchemy knows no FTS5 table nor operator class): `create_all`
builds them through the DDL events below, the migration 5b1f0c3a9d2e builds them in a real
database, and `include_object` keeps them out of the schema comparison.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.engine import Connection

#: Shorter queries have no trigram: they fall back to a LIKE over the seller's orders.
MIN_INDEXED = 3
FTS_TABLE = "order_search"
PG_INDEX = "ix_orders_search_trgm"
# FTS5 keeps its index in shadow tables named after the virtual table.
_FTS_TABLES = {FTS_TABLE, *(f"{FTS_TABLE}_{s}" for s in ("data", "idx", "content", "docsize", "config"))}

SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "search_text, content='orders', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON orders BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON orders BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF search_text ON orders BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
)
SQLITE_DROP = (
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ai",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ad",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)


def search_text(reference: str, buyer_name: str, buyer_email: str, skus: Iterable[str],
                tracking_numbers: Iterable[str] = ()) -> str:
    """One value per line: a search cannot match across two of them (it has no newline)."""
    return "\n".join([reference, buyer_name, buyer_email, *skus, *(t for t in tracking_numbers if t)])


def with_tracking_number(current: str, number: str) -> str:
    return f"{current}\n{number}" if number else current


# An extension belongs to the database but lives in one schema: created in the app's own
# schema, it would go (with every trigram index of the database) if that schema were dropped.
CREATE_TRGM = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_trgm') THEN
    IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'public') THEN
      CREATE EXTENSION pg_trgm WITH SCHEMA public;
    ELSE
      CREATE EXTENSION pg_trgm;
    END IF;
  END IF;
END $$
"""


def trgm_schema(conn: Connection) -> str:
    """The schema pg_trgm lives in, created if missing (in `public` when there is one): its
    operator class is named with it, so the index is found whatever the search_path."""
    conn.execute(text(CREATE_TRGM))
    return conn.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    )).scalar_one()


def create(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_DDL:
            conn.execute(text(statement))
    elif conn.dialect.name == "postgresql":
        schema = trgm_schema(conn)
        conn.execute(text(
            f'CREATE INDEX IF NOT EXISTS {PG_INDEX} ON orders '
            f'USING gin (search_text "{schema}".gin_trgm_ops)'
        ))


def drop(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            conn.execute(text(statement))
    elif conn.dialect.name == "postgresql":
        conn.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))


def attach(orders: Table) -> None:
    """`metadata.create_all` / `drop_all` build and remove the index with the orders table."""
    event.listen(orders, "after_create", lambda target, conn, **kw: create(conn))
    event.listen(orders, "before_drop", lambda target, conn, **kw: drop(conn))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """For Alembic's comparison: the search index is not in the models, by design."""
    if type_ == "table" and name in _FTS_TABLES:
        return False
    return not (type_ == "index" and name == PG_INDEX)
