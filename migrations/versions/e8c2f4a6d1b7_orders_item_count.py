"""orders.item_count: the items ordered, written at intake

« Commandes » showed each row's number of items by adding up the order's lines on every view
(one look-up of the lines per row). The lines' quantities never change after intake, so the
count is written with the order; the orders already there get the sum of their lines.

Revision ID: e8c2f4a6d1b7
Revises: b7d2e5a9c3f1
Create Date: 2026-12-07 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8c2f4a6d1b7'
down_revision = 'b7d2e5a9c3f1'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases (no table rebuild on SQLite: see the search migration).
    op.add_column('orders', sa.Column('item_count', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE orders SET item_count = COALESCE("
               "(SELECT SUM(quantity) FROM order_lines WHERE order_lines.order_id = orders.id), 0)")


def downgrade():
    op.drop_column('orders', 'item_count')
