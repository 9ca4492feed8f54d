"""A buyer's problem reports, parcels lost, the reminder before the automatic receipt

- `shipment_problems`: each « Signaler un problème », kept as evidence;
- `shipments.reminder_due_at` / `reminded_at` / `lost_at`, and an index for the sweep's reminders;
- `orders.open_problems` and the partial index of the « Problèmes » tab.

Parcels awaiting receipt when this runs get their reminder, two days (the default of
RECEIPT_REMINDER_DAYS) before their deadline.

Downgrade: a parcel in problem goes back to awaiting receipt (or shipped if its receipt was
never requested); a lost parcel has no equivalent before this revision, so the downgrade
refuses while there is one.

Revision ID: c4d8e2f1a6b3
Revises: c4e2a7d91b35
Create Date: 2026-12-06 08:40:00

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2f1a6b3'
down_revision = 'c4e2a7d91b35'
branch_labels = None
depends_on = None

REMINDER_DAYS = 2


def upgrade():
    # Plain ADD COLUMN and CREATE TABLE on both databases: no table rebuild on SQLite (a
    # rebuild of `orders` or `shipments` with foreign keys on would cascade-delete rows).
    op.create_table(
        'shipment_problems',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shipment_id', sa.Integer(), nullable=False),
        sa.Column('reported_at', sa.DateTime(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.String(length=500), nullable=False),
        sa.Column('seller_notified', sa.Boolean(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolution', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_shipment_problems_shipment', 'shipment_problems', ['shipment_id', 'id'])
    op.add_column('shipments', sa.Column('reminder_due_at', sa.DateTime(), nullable=True))
    op.add_column('shipments', sa.Column('reminded_at', sa.DateTime(), nullable=True))
    op.add_column('shipments', sa.Column('lost_at', sa.DateTime(), nullable=True))
    op.create_index('ix_shipments_status_reminder', 'shipments', ['status', 'reminder_due_at'])
    op.add_column('orders', sa.Column('open_problems', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_orders_seller_problems', 'orders', ['seller_id', 'created_at', 'id'],
                    sqlite_where=sa.text('open_problems > 0'),
                    postgresql_where=sa.text('open_problems > 0'))

    # The parcels already awaiting receipt get their reminder too (naive UTC, like the column).
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    shipments = sa.table('shipments', sa.column('id', sa.Integer()), sa.column('status', sa.String()),
                         sa.column('receipt_due_at', sa.DateTime()),
                         sa.column('reminder_due_at', sa.DateTime()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(shipments.c.id, shipments.c.receipt_due_at).where(
        shipments.c.status == 'awaiting_receipt', shipments.c.receipt_due_at > now)).all()
    for shipment_id, due in rows:
        bind.execute(shipments.update().where(shipments.c.id == shipment_id).values(
            reminder_due_at=due - timedelta(days=REMINDER_DAYS)))


def downgrade():
    bind = op.get_bind()
    lost = bind.execute(sa.text("SELECT count(*) FROM shipments WHERE status = 'lost'")).scalar()
    if lost:
        raise RuntimeError(
            f"{lost} parcel(s) are marked lost: the schema before this revision cannot hold them "
            "(their quantities are back in what is left to ship). Ship or cancel them first.")
    op.execute("UPDATE shipments SET status = 'awaiting_receipt' "
               "WHERE status = 'problem' AND receipt_due_at IS NOT NULL")
    op.execute("UPDATE shipments SET status = 'shipped' WHERE status = 'problem'")
    op.drop_index('ix_orders_seller_problems', table_name='orders')
    op.drop_index('ix_shipments_status_reminder', table_name='shipments')
    op.drop_index('ix_shipment_problems_shipment', table_name='shipment_problems')
    op.drop_table('shipment_problems')
    # SQLite 3.35+ drops a plain column in place (see the search migration: no batch rebuild).
    op.execute("ALTER TABLE orders DROP COLUMN open_problems")
    for column in ('lost_at', 'reminded_at', 'reminder_due_at'):
        op.execute(f"ALTER TABLE shipments DROP COLUMN {column}")
