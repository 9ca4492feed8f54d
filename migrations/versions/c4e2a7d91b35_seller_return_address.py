"""sellers.return_address: the address printed on the preparation slip for returns

Part of the first-login checklist (payment instructions, notification e-mail, return address).

Revision ID: c4e2a7d91b35
Revises: a7c3e91f4b20
Create Date: 2026-12-06 09:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e2a7d91b35'
down_revision = 'a7c3e91f4b20'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases (no table rebuild on SQLite).
    op.add_column('sellers', sa.Column('return_address', sa.Text(), nullable=False, server_default=''))


def downgrade():
    op.drop_column('sellers', 'return_address')
