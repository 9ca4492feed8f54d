"""orders.search_text and its trigram index (FTS5 on SQLite, pg_trgm GIN on PostgreSQL)

The « Commandes » search finds a substring of the reference, buyer name or e-mail, a SKU or a
tracking number; a LIKE '%x%' over those columns reads every order of the seller. The
workflow now keeps them in one column, indexed by trigrams (see uniqu3/search_index.py; the
SQL is repeated here so that this migration stays what it was when it shipped).

Revision ID: 5b1f0c3a9d2e
Revises: ee24ed7d2bc1
Create Date: 2026-11-26 13:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1f0c3a9d2e'
down_revision = 'ee24ed7d2bc1'
branch_labels = None
depends_on = None

_SQLITE_BACKFILL = """
UPDATE orders SET search_text = reference || char(10) || buyer_name || char(10) || buyer_email
  || coalesce((SELECT char(10) || group_concat(sku, char(10)) FROM
       (SELECT sku FROM order_lines WHERE order_id = orders.id ORDER BY position)), '')
  || coalesce((SELECT char(10) || group_concat(tracking_number, char(10)) FROM
       (SELECT tracking_number FROM shipments WHERE order_id = orders.id
          AND tracking_number <> '' ORDER BY number)), '')
"""
_PG_BACKFILL = """
UPDATE orders SET search_text = reference || chr(10) || buyer_name || chr(10) || buyer_email
  || coalesce((SELECT chr(10) || string_agg(sku, chr(10) ORDER BY position)
               FROM order_lines WHERE order_id = orders.id), '')
  || coalesce((SELECT chr(10) || string_agg(tracking_number, chr(10) ORDER BY number)
               FROM shipments WHERE order_id = orders.id AND tracking_number <> ''), '')
"""
_PG_CREATE_TRGM = """
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
_SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE order_search USING fts5("
    "search_text, content='orders', content_rowid='id', tokenize='trigram')",
    "INSERT INTO order_search(order_search) VALUES ('rebuild')",
    "CREATE TRIGGER order_search_ai AFTER INSERT ON orders BEGIN "
    "INSERT INTO order_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER order_search_ad AFTER DELETE ON orders BEGIN "
    "INSERT INTO order_search(order_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER order_search_au AFTER UPDATE OF search_text ON orders BEGIN "
    "INSERT INTO order_search(order_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO order_search(rowid, search_text) VALUES (new.id, new.search_text); END",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS order_search_ai",
    "DROP TRIGGER IF EXISTS order_search_ad",
    "DROP TRIGGER IF EXISTS order_search_au",
    "DROP TABLE IF EXISTS order_search",
)


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute(_SQLITE_BACKFILL)
        for statement in _SQLITE_CREATE:
            op.execute(statement)
    elif bind.dialect.name == 'postgresql':
        op.execute(_PG_BACKFILL)
        # In `public` when there is one, not in the app's schema: an extension is shared by the
        # whole database, and dropping the schema holding it would drop every trigram index.
        op.execute(_PG_CREATE_TRGM)
        # Named with its schema: the index is created whatever the search_path.
        schema = bind.execute(sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'")).scalar_one()
        op.execute(f'CREATE INDEX ix_orders_search_trgm ON orders '
                   f'USING gin (search_text "{schema}".gin_trgm_ops)')


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for statement in _SQLITE_DROP:
            op.execute(statement)
        # SQLite 3.35+ drops a plain column in place. A batch rebuild would recreate
        # `orders`, and with foreign keys on, the cascades would empty its lines and parcels.
        op.execute("ALTER TABLE orders DROP COLUMN search_text")
        return
    if bind.dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_orders_search_trgm")
    op.drop_column('orders', 'search_text')
