"""orders.shipping_cents, buyer_phone, pickup_point: shipping costs, the buyer's phone, a relay point

`total_cents` becomes what the buyer pays, the items and the shipping. Orders already there
have no shipping (0): their total is their items' total, unchanged.

Downgrade: the schema before this revision knows only the items, so each order's total goes
back to its items' total (the shipping subtracted); the phone and the pickup point are dropped.

Revision ID: d5a1f3c8e920
Revises: d9e1b7c2a4f6
Create Date: 2026-12-06 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5a1f3c8e920'
down_revision = 'd9e1b7c2a4f6'
branch_labels = None
depends_on = None

orders = sa.table('orders', sa.column('id', sa.Integer()), sa.column('total_cents', sa.Integer()),
                  sa.column('shipping_cents', sa.Integer()))


def upgrade():
    # Plain ADD COLUMN on both databases: no table rebuild on SQLite (a rebuild of `orders`
    # with foreign keys on would cascade-delete its lines).
    op.add_column('orders', sa.Column('shipping_cents', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('orders', sa.Column('buyer_phone', sa.String(length=20), nullable=True))
    op.add_column('orders', sa.Column('pickup_point', sa.JSON(), nullable=True))
    # The orders already there: no shipping, so the total stays the items' total (the
    # server default above wrote the 0; nothing else to fill).


def downgrade():
    # Back to a total of the items only, order by order, before the shipping is dropped.
    bind = op.get_bind()
    rows = bind.execute(sa.select(orders.c.id, orders.c.total_cents, orders.c.shipping_cents)
                        .where(orders.c.shipping_cents != 0)).all()
    for order_id, total, shipping in rows:
        bind.execute(orders.update().where(orders.c.id == order_id).values(total_cents=total - shipping))
    op.drop_column('orders', 'pickup_point')
    op.drop_column('orders', 'buyer_phone')
    op.drop_column('orders', 'shipping_cents')
