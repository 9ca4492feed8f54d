"""sellers.orders_<bucket>: how many of the seller's orders each tab of « Commandes » holds

Kept by the workflow in the UPDATE of the seller's row it already makes in every transaction
that changes one of the seller's orders (uniqu3/workflow/counts.py); « Commandes » reads them
with the seller instead of counting orders on every view. The data walk counts the orders
already there as the workflow's buckets do at this revision: one per status, then whatever
the status, those with a parcel in problem, those with money to give back, and those with a
parcel in problem in a status « À traiter » does not show (not awaiting payment or shippable).

Revision ID: c4e8a2f6b1d3
Revises: f2b6c9d4e1a7
Create Date: 2026-12-06 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2f6b1d3'
down_revision = 'f2b6c9d4e1a7'
branch_labels = None
depends_on = None

_STATUSES = ('awaiting_payment', 'paid', 'partially_shipped', 'shipped', 'received', 'cancelled')
_WHERE = {
    **{status: f"status = '{status}'" for status in _STATUSES},
    'open_problems': 'open_problems > 0',
    'refund_due': 'refund_due_cents > 0',
    'other_problems': "open_problems > 0 AND status NOT IN ('awaiting_payment', 'paid', 'partially_shipped')",
}


def upgrade():
    for bucket in _WHERE:
        op.add_column('sellers', sa.Column(f'orders_{bucket}', sa.Integer(), nullable=False,
                                           server_default='0'))
    op.execute("UPDATE sellers SET " + ", ".join(
        f"orders_{bucket} = (SELECT COUNT(*) FROM orders WHERE orders.seller_id = sellers.id AND {where})"
        for bucket, where in _WHERE.items()))


def downgrade():
    for bucket in reversed(list(_WHERE)):
        op.drop_column('sellers', f'orders_{bucket}')
