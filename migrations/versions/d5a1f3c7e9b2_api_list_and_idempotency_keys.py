"""The API's list of orders and its Idempotency-Key

- `orders` indexes on (updated_at, id) and (seller_id, updated_at, id): `GET /api/v1/orders`,
  most recently updated first, keyset-paginated, for every order or one seller's;
- `idempotency_keys`: each POST sent with an `Idempotency-Key`, with its answer (kept 24 h).

Revision ID: d5a1f3c7e9b2
Revises: e7b3d9f2a416
Create Date: 2026-12-06 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5a1f3c7e9b2'
down_revision = 'e7b3d9f2a416'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_orders_updated', 'orders', ['updated_at', 'id'])
    op.create_index('ix_orders_seller_updated', 'orders', ['seller_id', 'updated_at', 'id'])
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('response_body', sa.Text(), nullable=True),
        sa.Column('response_headers', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('api_key_id', 'key'),
    )
    op.create_index('ix_idempotency_keys_created', 'idempotency_keys', ['created_at'])


def downgrade():
    op.drop_index('ix_idempotency_keys_created', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index('ix_orders_seller_updated', table_name='orders')
    op.drop_index('ix_orders_updated', table_name='orders')
