"""sellers.orders_version: a counter the workflow bumps whenever one of the seller's orders changes

The « Commandes » list is rendered once per (seller, orders_version, filter) and reused until
the counter moves (uniqu3/seller/list_cache.py).

Revision ID: a7c3e91f4b20
Revises: 5b1f0c3a9d2e
Create Date: 2026-11-26 15:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e91f4b20'
down_revision = '5b1f0c3a9d2e'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases (no table rebuild on SQLite: see the search migration).
    op.add_column('sellers', sa.Column('orders_version', sa.Integer(), nullable=False,
                                       server_default='0'))


def downgrade():
    op.drop_column('sellers', 'orders_version')
