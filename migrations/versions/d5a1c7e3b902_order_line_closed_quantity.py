"""order_lines.closed_quantity: quantities the seller will not ship (« Clore le reste »)

What is left to ship is quantity − shipped − closed. Lines already there close nothing.

Revision ID: d5a1c7e3b902
Revises: c4d8e2f1a6b3
Create Date: 2026-12-06 11:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5a1c7e3b902'
down_revision = 'c4d8e2f1a6b3'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases (no table rebuild on SQLite); 0 for every line.
    op.add_column('order_lines', sa.Column('closed_quantity', sa.Integer(), nullable=False,
                                           server_default='0'))


def downgrade():
    bind = op.get_bind()
    closed = bind.execute(sa.text("SELECT COUNT(*) FROM order_lines WHERE closed_quantity > 0")).scalar()
    if closed:
        raise RuntimeError(
            f"{closed} order line(s) have closed quantities: the schema before this revision cannot "
            "hold them (they would be to ship again). Downgrade refused.")
    op.drop_column('order_lines', 'closed_quantity')
