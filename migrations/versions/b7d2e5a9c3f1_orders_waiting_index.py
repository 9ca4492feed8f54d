"""« À traiter » over one partial index: the orders waiting for the seller

`ix_orders_seller_waiting` holds the orders awaiting payment or shipping, and those in another
status with a parcel in problem: the tab « Commandes » opens on reads its page as one range of
it, where it merged one range per status (and the problems') before reading the page's orders.

Revision ID: b7d2e5a9c3f1
Revises: c4e8a2f6b1d3
Create Date: 2026-12-07 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e5a9c3f1'
down_revision = 'c4e8a2f6b1d3'
branch_labels = None
depends_on = None

_STATUSES = "('awaiting_payment', 'paid', 'partially_shipped')"
_WAITING = sa.text(f"status IN {_STATUSES} OR (open_problems > 0 AND status NOT IN {_STATUSES})")


def upgrade():
    op.create_index('ix_orders_seller_waiting', 'orders',
                    ['seller_id', 'created_at', 'id', 'status', 'open_problems'],
                    sqlite_where=_WAITING, postgresql_where=_WAITING)


def downgrade():
    op.drop_index('ix_orders_seller_waiting', table_name='orders')
