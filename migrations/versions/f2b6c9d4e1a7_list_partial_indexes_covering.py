"""The partial indexes of « Problèmes » and « À rembourser » cover the list's statements

`ix_orders_seller_problems` and `ix_orders_seller_refund_due` also hold the columns the
list's counts and pages read over them (status, open_problems; refund_due_cents). Once
`ix_orders_seller_updated` (d5a1f3c7e9b2) existed, SQLite, which keeps no statistics of a
partial index's size, counted both tabs by walking every order of the seller through it: a
covering index is chosen over any other that starts with seller_id.

Revision ID: f2b6c9d4e1a7
Revises: f3a8c1d5e7b9
Create Date: 2026-12-06 14:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b6c9d4e1a7'
down_revision = 'f3a8c1d5e7b9'
branch_labels = None
depends_on = None

_PROBLEMS = sa.text('open_problems > 0')
_REFUND_DUE = sa.text('refund_due_cents > 0')


def _replace(problems: list[str], refund_due: list[str]) -> None:
    op.drop_index('ix_orders_seller_problems', table_name='orders')
    op.create_index('ix_orders_seller_problems', 'orders', problems,
                    sqlite_where=_PROBLEMS, postgresql_where=_PROBLEMS)
    op.drop_index('ix_orders_seller_refund_due', table_name='orders')
    op.create_index('ix_orders_seller_refund_due', 'orders', refund_due,
                    sqlite_where=_REFUND_DUE, postgresql_where=_REFUND_DUE)


def upgrade():
    _replace(['seller_id', 'created_at', 'id', 'status', 'open_problems'],
             ['seller_id', 'created_at', 'id', 'refund_due_cents'])


def downgrade():
    _replace(['seller_id', 'created_at', 'id'], ['seller_id', 'created_at', 'id'])
