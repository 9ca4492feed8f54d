"""refunds and orders.refund_due_cents: what a seller owes back and what was given back

A cancelled paid order, or closed quantities of a paid order, leave an amount to refund;
« Remboursement effectué » records each refund (table `refunds`). `orders.refund_due_cents`
is kept by the workflow for the « À rembourser » tab (a partial index holds only those).
The data walk: orders already there owe what they owe (nothing was recorded as refunded).

Revision ID: e7b3d9f2a416
Revises: d5a1f3c8e920
Create Date: 2026-12-06 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b3d9f2a416'
down_revision = 'd5a1f3c8e920'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN and CREATE TABLE on both databases: no table rebuild on SQLite (a
    # rebuild of `orders` with foreign keys on would cascade-delete rows).
    op.create_table(
        'refunds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('reference', sa.String(length=100), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('request_key', sa.String(length=64), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=20), nullable=False),
        sa.Column('actor_label', sa.String(length=254), nullable=False),
        sa.CheckConstraint('amount_cents > 0', name='refund_positive'),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('order_id', 'request_key'),
    )
    op.create_index('ix_refunds_order', 'refunds', ['order_id', 'id'])
    op.add_column('orders', sa.Column('refund_due_cents', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_orders_seller_refund_due', 'orders', ['seller_id', 'created_at', 'id'],
                    sqlite_where=sa.text('refund_due_cents > 0'),
                    postgresql_where=sa.text('refund_due_cents > 0'))
    # What the workflow's amounts say (uniqu3.workflow.refunds.owed_back_cents), none refunded:
    # a cancelled paid order owes all it was paid; a paid order, its closed quantities.
    op.execute("UPDATE orders SET refund_due_cents = total_cents "
               "WHERE paid_at IS NOT NULL AND cancelled_at IS NOT NULL")
    op.execute("UPDATE orders SET refund_due_cents = (SELECT COALESCE(SUM(closed_quantity * unit_price_cents), 0) "
               "FROM order_lines WHERE order_lines.order_id = orders.id) "
               "WHERE paid_at IS NOT NULL AND cancelled_at IS NULL")


def downgrade():
    bind = op.get_bind()
    recorded = bind.execute(sa.text("SELECT COUNT(*) FROM refunds")).scalar()
    if recorded:
        raise RuntimeError(
            f"{recorded} refund(s) are recorded: the schema before this revision cannot hold them. "
            "Downgrade refused.")
    op.drop_index('ix_orders_seller_refund_due', table_name='orders')
    op.drop_column('orders', 'refund_due_cents')
    op.drop_index('ix_refunds_order', table_name='refunds')
    op.drop_table('refunds')
