"""lost parcels owe their items: orders.refund_due_cents counts them

No schema change. A parcel declared lost now leaves its items' amount to refund until they
are shipped again (uniqu3.workflow.refunds.owed_of): of each line, as many of the units still
to ship as were lost. The data walk: the paid, not cancelled orders with a lost parcel get
their amount due again, less what was refunded; down, the closed quantities alone.

Revision ID: f3a8c1d5e7b9
Revises: d5a1f3c7e9b2
Create Date: 2026-12-06 15:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f3a8c1d5e7b9'
down_revision = 'd5a1f3c7e9b2'
branch_labels = None
depends_on = None

_LOST = ("(SELECT COALESCE(SUM(sl.quantity), 0) FROM shipment_lines sl JOIN shipments s "
         "ON s.id = sl.shipment_id WHERE s.status = 'lost' AND sl.order_line_id = ol.id)")
_LEFT = "(ol.quantity - ol.shipped_quantity - ol.closed_quantity)"
_REFUNDED = "(SELECT COALESCE(SUM(r.amount_cents), 0) FROM refunds r WHERE r.order_id = orders.id)"
_WITH_LOST = ("paid_at IS NOT NULL AND cancelled_at IS NULL AND EXISTS "
              "(SELECT 1 FROM shipments s WHERE s.order_id = orders.id AND s.status = 'lost')")


def _set_due(owed_units: str) -> None:
    # Portable: CASE rather than LEAST/GREATEST (PostgreSQL) or min/max (SQLite).
    owed = (f"(SELECT COALESCE(SUM(ol.unit_price_cents * ({owed_units})), 0) FROM order_lines ol "
            "WHERE ol.order_id = orders.id)")
    op.execute(f"UPDATE orders SET refund_due_cents = CASE WHEN {owed} > {_REFUNDED} "
               f"THEN {owed} - {_REFUNDED} ELSE 0 END WHERE {_WITH_LOST}")


def upgrade():
    _set_due(f"ol.closed_quantity + CASE WHEN {_LOST} < {_LEFT} THEN {_LOST} ELSE {_LEFT} END")


def downgrade():
    _set_due("ol.closed_quantity")
