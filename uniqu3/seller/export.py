"""CSV export of the current filter, for French Excel: `;`, UTF-8 with a BOM, decimal commas.

One row per order line. Streamed in keyset batches, so 100,000 orders never sit in memory.
Cells a spreadsheet would run as a formula are defused with a leading quote.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Order, OrderLine, Shipment
from ..timeutil import to_paris
from . import queries
from .labels import SHIPMENT_LABELS, STATUS_LABELS

BATCH = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell starting like a formula (=, +, -, @, tab, CR) is shown as text, not run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def euros(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def _address(address: dict[str, str]) -> str:
    parts = [address.get("name", ""), address.get("line1", ""), address.get("line2", ""),
             f"{address.get('postal_code', '')} {address.get('city', '')}".strip(),
             address.get("country", "")]
    return ", ".join(part for part in parts if part)


def _header() -> list[str]:
    return [_("Référence"), _("Date"), _("Statut"), _("Client"), _("E-mail du client"),
            _("Adresse de livraison"), _("SKU"), _("Article"), _("Quantité"), _("Expédiée"),
            _("Prix unitaire (€)"), _("Total de la commande (€)"), _("Suivi"), _("État des colis")]


def _batches(seller_id: int, tab: queries.Tab, query: str) -> Iterator[list[Order]]:
    cursor = None
    while True:
        orders = queries.fetch_window(seller_id, tab, query, cursor, BATCH)
        if orders:
            yield orders
        if len(orders) < BATCH:
            return
        cursor = queries.Cursor.of(orders[-1])


def _rows(orders: list[Order]) -> Iterator[list[str]]:
    ids = [order.id for order in orders]
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in db.session.scalars(
        select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.order_id, OrderLine.position)
    ):
        lines[line.order_id].append(line)
    tracking: dict[int, list[str]] = defaultdict(list)
    parcels: dict[int, list[str]] = defaultdict(list)
    for order_id, label, number, parcel, status in db.session.execute(
        select(Shipment.order_id, Shipment.carrier_label, Shipment.tracking_number, Shipment.number,
               Shipment.status)
        .where(Shipment.order_id.in_(ids)).order_by(Shipment.order_id, Shipment.number)
    ):
        tracking[order_id].append(f"{label} {number}".strip())
        parcels[order_id].append(_("n° %(number)s : %(status)s", number=parcel,
                                   status=SHIPMENT_LABELS.get(status, status)))
    for order in orders:
        common = [order.reference, to_paris(order.created_at).strftime("%d/%m/%Y %H:%M"),
                  str(STATUS_LABELS.get(order.status, order.status)), order.buyer_name, order.buyer_email,
                  _address(order.shipping_address)]
        for line in lines[order.id]:
            yield [safe_cell(cell) for cell in (
                *common, line.sku, line.title, line.quantity, line.shipped_quantity,
                euros(line.unit_price_cents), euros(order.total_cents), " | ".join(tracking[order.id]),
                " | ".join(parcels[order.id]),
            )]


def csv_chunks(seller_id: int, tab: queries.Tab, query: str) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")  # the BOM: Excel then reads UTF-8 accents correctly
    writer.writerow(_header())
    for orders in _batches(seller_id, tab, query):
        writer.writerows(_rows(orders))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
