"""CSV export of the current filter, for French Excel: `;`, UTF-8 with a BOM, decimal commas.

One row per order line, with the proof of receipt of the parcels that hold it. Streamed in
keyset batches, so 100,000 orders never sit in memory.
Cells a spreadsheet would run as a formula are defused with a leading quote.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import receipt_proof
from ..addresses import address_lines
from ..extensions import db
from ..i18n import format_moment
from ..labels import SHIPMENT_LABELS, STATUS_LABELS
from ..models import Order, OrderLine, ReceivedBy, Refund, Shipment
from ..receipt_proof import ReceiptProof
from ..workflow import refunds
from . import queries

BATCH = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell starting like a formula (=, +, -, @, tab, CR) is shown as text, not run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def euros(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def _address(address: dict[str, str]) -> str:
    return ", ".join(address_lines(address, _locale()))


def _pickup_point(point: dict[str, str] | None) -> str:
    if not point:
        return ""
    return f"{point.get('carrier', '')} {point.get('id', '')} : {_address(point)}"


def _header() -> list[str]:
    return [_("Référence"), _("Date"), _("Statut"), _("Client"), _("E-mail du client"),
            _("Téléphone du client"), _("Adresse de livraison"), _("Point relais"), _("SKU"), _("Article"),
            _("Quantité"), _("Expédiée"), _("Prix unitaire (€)"), _("Frais de port (€)"),
            # What the buyer pays: the items and the shipping.
            _("Total de la commande (€)"), _("Suivi"),
            # The proof of receipt of the parcels holding the line (several: joined by « | »).
            _("Colis"), _("Reçu par"), _("Reçu le"), _("IP du client"), _("Navigateur du client"),
            _("Confirmation demandée le"), _("Message-ID de la demande"), _("Échéance"),
            _("Relance envoyée le"), _("État des colis"),
            # « Clore le reste » and refunds (the order's amounts, workflow.refunds.money_of).
            _("Clos"), _("À rembourser en tout (€)"), _("Remboursé (€)"), _("Reste à rembourser (€)")]


def _moment(value: datetime | None) -> str:
    return format_moment(value, _locale(), seconds=True, joined=False)


def _locale() -> str:
    return str(get_locale() or "fr")


def _receipt_cells(proofs: list[ReceiptProof]) -> list[str]:
    by: dict[str, str] = {ReceivedBy.BUYER: _("client"), ReceivedBy.AUTO: _("automatique")}
    columns = (
        [str(p.number) for p in proofs],
        [by.get(p.received_by or "", "") if p.received else "" for p in proofs],
        [_moment(p.received_at) for p in proofs],
        [p.ip or "" for p in proofs],
        [p.user_agent or "" for p in proofs],
        [_moment(p.requested_at) for p in proofs],
        [p.request_email_message_id or "" for p in proofs],
        [_moment(p.due_at) for p in proofs],
        [_moment(p.reminded_at) for p in proofs],
    )
    # One value per parcel, or nothing at all when no parcel has one.
    return [" | ".join(values) if any(values) else "" for values in columns]


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
    shipments = list(db.session.scalars(
        select(Shipment).where(Shipment.order_id.in_(ids)).order_by(Shipment.order_id, Shipment.number)
        .options(selectinload(Shipment.lines))
    ))
    proofs = receipt_proof.proofs(db.session, shipments)
    order_refunds: dict[int, list[Refund]] = defaultdict(list)
    for refund in db.session.scalars(select(Refund).where(Refund.order_id.in_(ids))):
        order_refunds[refund.order_id].append(refund)
    order_shipments: dict[int, list[Shipment]] = defaultdict(list)
    tracking: dict[int, list[str]] = defaultdict(list)
    line_proofs: dict[int, list[ReceiptProof]] = defaultdict(list)
    line_states: dict[int, list[str]] = defaultdict(list)  # each parcel's status (problem, lost…)
    for shipment in shipments:
        order_shipments[shipment.order_id].append(shipment)
        tracking[shipment.order_id].append(f"{shipment.carrier_label} {shipment.tracking_number}".strip())
        for item in shipment.lines:
            line_proofs[item.order_line_id].append(proofs[shipment.id])
            line_states[item.order_line_id].append(str(SHIPMENT_LABELS.get(shipment.status, shipment.status)))
    for order in orders:
        common = [order.reference, format_moment(order.created_at, _locale(), joined=False),
                  str(STATUS_LABELS.get(order.status, order.status)), order.buyer_name, order.buyer_email,
                  order.buyer_phone or "", _address(order.shipping_address),
                  _pickup_point(order.pickup_point)]
        money = refunds.money_of(order, order_refunds[order.id], lines[order.id], order_shipments[order.id])
        amounts = (euros(money.owed_cents), euros(money.refunded_cents), euros(money.due_cents))
        for line in lines[order.id]:
            yield [safe_cell(cell) for cell in (
                *common, line.sku, line.title, line.quantity, line.shipped_quantity,
                euros(line.unit_price_cents), euros(order.shipping_cents), euros(order.total_cents),
                " | ".join(tracking[order.id]),
                *_receipt_cells(line_proofs[line.id]), " | ".join(line_states[line.id]),
                line.closed_quantity, *amounts,
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
