"""Tracking numbers from a seller's label software: a CSV file read, checked row by row, then
shipped through `Workflow.ship` (the same action as the order page's form).

- `read_file`: the file's bytes to rows (UTF-8 with or without BOM, or Windows-1252; `;`, `,`
  or tab; headers as label software writes them, any case, with or without accents). A file
  that cannot be read at all is refused whole (`InvalidInput`).
- `check`: each row's problems against the seller's orders now. Rows of one order with one
  tracking number are one parcel: with SKUs, the parcel holds those lines; without, all that
  is left to ship. A parcel whose tracking number the order already has is « déjà importé »:
  uploading the same file again ships nothing twice.
- `apply`: checks again (the orders may have changed since the preview), then ships each
  parcel in its own transaction; one refusal leaves the others alone.

The refusals are the workflow's (`rules`, `carriers`), so the preview says what the order
page would say.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from .. import carriers
from ..models import Order
from ..timeutil import paris_today
from . import rules
from .actions import Workflow
from .errors import InvalidInput, NotFound, WorkflowError
from .inputs import Actor
from .loading import select_orders

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
#: Orders read per query (IN lists stay small for every database).
_CHUNK = 500

#: The columns, each under the names label software gives it (compared without accents, case,
#: spaces nor punctuation). The first name is the template's.
COLUMNS: dict[str, tuple[str, ...]] = {
    "reference": ("référence", "reference", "ref", "référence commande", "n° de commande",
                  "numéro de commande", "numero commande", "commande", "order", "order reference",
                  "order id"),
    "carrier": ("transporteur", "carrier", "transporteurs", "service de livraison"),
    "tracking": ("numéro de suivi", "numero suivi", "n° de suivi", "n° suivi", "suivi",
                 "tracking", "tracking number", "numéro de colis", "numero colis", "n° colis"),
    "shipped_on": ("date d'expédition", "date expedition", "date d'envoi", "date envoi",
                   "date", "ship date", "shipping date"),
    "sku": ("sku", "référence article", "ref article", "référence produit", "article"),
    "quantity": ("quantité", "quantite", "qté", "qte", "qty", "quantity"),
}
REQUIRED = ("reference", "carrier", "tracking")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


_HEADERS = {_key(name): column for column, names in COLUMNS.items() for name in names}


@dataclass(frozen=True)
class Row:
    """One row as written (`line`: its line in the file, the header being line 1)."""

    line: int
    reference: str
    carrier: str
    tracking: str
    shipped_on: str = ""
    sku: str = ""
    quantity: str = ""


class State(StrEnum):
    READY = "ready"  # will ship at apply
    DONE = "done"  # shipped by this apply
    ALREADY = "already"  # this order has this tracking number already: « déjà importé »
    REFUSED = "refused"


@dataclass
class RowReport:
    row: Row
    state: State = State.READY
    problems: list[WorkflowError] = field(default_factory=list)
    carrier_name: str = ""
    tracking_number: str = ""
    parcel_number: int | None = None  # the parcel shipped or found


@dataclass
class Report:
    rows: list[RowReport]

    def count(self, state: State) -> int:
        return sum(1 for r in self.rows if r.state == state)

    @property
    def refused(self) -> int:
        return self.count(State.REFUSED)


# ----------------------------------------------------------------------------- reading
def template_csv() -> bytes:
    """The file to fill in: the headers and one example row, UTF-8 with a BOM (for Excel)."""
    header = ";".join(names[0] for names in COLUMNS.values())
    return ("\ufeff" + header + "\r\nUQ-2026-000123;Colissimo;6A12345678901;06/12/2026;;\r\n").encode()


def too_large() -> InvalidInput:
    return InvalidInput("Le fichier dépasse %(max)s Mo : découpez-le en plusieurs fichiers.",
                        max=MAX_BYTES // (1024 * 1024))


def read_file(data: bytes) -> list[Row]:
    if len(data) > MAX_BYTES:
        raise too_large()
    text = _decode(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise InvalidInput("Le fichier est vide.")
    delimiter = max(";,\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(_numbered(reader))
    except csv.Error as error:
        raise InvalidInput("Le fichier n'est pas un CSV lisible (ligne %(line)s).",
                          line=reader.line_num) from error
    # The first row with text names the columns.
    start = next(i for i, (_, cells) in enumerate(records) if any(cell.strip() for cell in cells))
    header = records[start][1]
    columns = {_HEADERS[_key(name)]: i for i, name in reversed(list(enumerate(header)))
               if _key(name) in _HEADERS}
    missing = [COLUMNS[name][0] for name in REQUIRED if name not in columns]
    if missing:
        raise InvalidInput(
            "Colonnes manquantes : %(columns)s. La première ligne nomme les colonnes : référence, "
            "transporteur, numéro de suivi, et si besoin date d'expédition, SKU et quantité.",
            columns=", ".join(missing))
    rows: list[Row] = []
    for line, cells in records[start + 1:]:
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) == MAX_ROWS:
            raise InvalidInput("Le fichier a plus de %(max)s lignes : découpez-le en plusieurs fichiers.",
                              max=MAX_ROWS)

        def cell(name: str, cells: list[str] = cells) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        rows.append(Row(line, cell("reference"), cell("carrier"), cell("tracking"), cell("shipped_on"),
                        cell("sku"), cell("quantity")))
    if not rows:
        raise InvalidInput("Le fichier n'a aucune ligne après celle des colonnes.")
    return rows


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise InvalidInput("Le fichier n'est ni en UTF-8 ni en Windows-1252 : enregistrez-le en CSV "
                          "UTF-8.") from None


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted cell may hold line breaks)."""
    line = 1
    for record in reader:
        yield line, record
        line = reader.line_num + 1  # type: ignore[attr-defined]  # csv.reader's iterator


# ----------------------------------------------------------------------------- checking
@dataclass(eq=False)
class _Parcel:
    order: Order  # read by `check`, expired once it ends its transaction
    order_id: int
    carrier: carriers.Carrier
    number: str
    day: date
    reports: list[RowReport]
    quantities: dict[int, int] = field(default_factory=dict)  # order line id -> quantity


def check(session: Session, seller_id: int, rows: Sequence[Row], *,
          now: Callable[[], datetime]) -> tuple[Report, list[_Parcel]]:
    """Every row's problems, and the parcels that would ship now."""
    orders = _orders(session, seller_id, {row.reference for row in rows if row.reference})
    today = paris_today(now())
    reports = [RowReport(row) for row in rows]
    parcels: dict[tuple[int, str], _Parcel] = {}
    for report in reports:
        parcel = _check_row(report, orders, today)
        if parcel is None:
            continue
        key = (parcel.order.id, parcel.number)
        if key in parcels:
            same = parcels[key]
            if (same.carrier, same.day) != (parcel.carrier, parcel.day):
                report.problems.append(InvalidInput(
                    "Le colis %(number)s apparaît sur plusieurs lignes avec un autre transporteur ou une "
                    "autre date.", number=parcel.number))
                continue
            same.reports.append(report)
        else:
            parcels[key] = parcel
    remaining = {line.id: line.remaining for order in orders.values() for line in order.lines}
    ready: list[_Parcel] = []
    for parcel in parcels.values():
        if any(s.tracking_number == parcel.number for s in parcel.order.shipments):
            for report in parcel.reports:
                report.state = State.ALREADY
                report.parcel_number = next(s.number for s in parcel.order.shipments
                                            if s.tracking_number == parcel.number)
            continue
        if _check_contents(parcel, remaining):
            ready.append(parcel)
    for report in reports:
        if report.problems:
            report.state = State.REFUSED
    # A parcel is whole or not at all: a refused row refuses its parcel's other rows.
    for parcel in parcels.values():
        if any(r.state == State.REFUSED for r in parcel.reports):
            for report in parcel.reports:
                if report.state == State.READY:
                    report.state = State.REFUSED
                    report.problems.append(InvalidInput(
                        "Une autre ligne de ce colis est refusée : corrigez-la pour expédier le colis."))
    return Report(reports), [p for p in ready if all(r.state == State.READY for r in p.reports)]


def _orders(session: Session, seller_id: int, references: set[str]) -> dict[str, Order]:
    found: dict[str, Order] = {}
    wanted = sorted(references)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        stmt = select_orders().where(Order.seller_id == seller_id, Order.reference.in_(chunk))
        found.update((order.reference, order) for order in session.scalars(stmt))
    return found


def _check_row(report: RowReport, orders: dict[str, Order], today: date) -> _Parcel | None:
    row, problems = report.row, report.problems
    order = orders.get(row.reference)
    if not row.reference:
        problems.append(InvalidInput("La référence de la commande manque."))
    elif order is None:  # unknown, or another seller's: the same answer
        problems.append(NotFound("Commande inconnue : %(reference)s.", reference=row.reference[:40]))
    carrier: carriers.Carrier | None = None
    number = ""
    try:
        carrier = carriers.carrier_from_name(row.carrier)
        report.carrier_name = carrier.name
        number = carriers.check_tracking_number(carrier, row.tracking)
        report.tracking_number = number
    except carriers.CarrierError as error:
        problems.append(InvalidInput(error.template, **error.params))
    day = _day(row.shipped_on, today, problems)
    if order is not None and day is not None:
        refusal = rules.ship_date_refusal(day, today, paris_today(order.created_at))
        if refusal is not None:
            problems.append(refusal)
    if row.quantity and _quantity(row.quantity) is None:
        problems.append(InvalidInput("Quantité invalide : « %(value)s ».", value=row.quantity[:20]))
    if problems or order is None or carrier is None or day is None:
        return None
    return _Parcel(order, order.id, carrier, number, day, [report])


def _day(text: str, today: date, problems: list[WorkflowError]) -> date | None:
    if not text:
        return today
    value = text.split()[0]  # « 06/12/2026 14:05 »: the day
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    problems.append(InvalidInput("Date d'expédition illisible : « %(value)s » (attendu : JJ/MM/AAAA).",
                                 value=text[:20]))
    return None


def _quantity(text: str) -> int | None:
    return int(text) if text.isdecimal() and 0 < int(text) <= rules.MAX_QUANTITY else None


def _check_contents(parcel: _Parcel, remaining: dict[int, int]) -> bool:
    """Fill the parcel's quantities (counting what earlier parcels of the file take), or give its
    rows their problems."""
    order = parcel.order
    if not rules.can_ship(order):
        for report in parcel.reports:
            report.problems.append(rules.ship_refusal(order))
        return False
    by_sku = {line.sku: line for line in order.lines}
    with_sku = [r for r in parcel.reports if r.row.sku]
    if len(with_sku) < len(parcel.reports):
        if len(parcel.reports) > 1:
            for report in parcel.reports:
                report.problems.append(InvalidInput(
                    "Ce colis est sur plusieurs lignes : indiquez le SKU de chacune."))
            return False
        report = parcel.reports[0]
        if report.row.quantity:  # a quantity needs its line, unless the order has only one
            if len(order.lines) > 1:
                report.problems.append(InvalidInput(
                    "Indiquez le SKU : la commande a plusieurs articles."))
                return False
            wanted = {order.lines[0].id: _quantity(report.row.quantity) or 0}
        else:  # everything left on the order
            wanted = {line.id: remaining[line.id] for line in order.lines if remaining[line.id] > 0}
    else:
        wanted = {}
        for report in with_sku:
            line = by_sku.get(report.row.sku)
            if line is None:
                report.problems.append(InvalidInput(
                    "Le SKU %(sku)s n'est pas dans cette commande.", sku=report.row.sku[:64]))
                continue
            if line.id in wanted:
                report.problems.append(InvalidInput("Le SKU %(sku)s apparaît deux fois pour ce colis.",
                                                    sku=line.sku))
                continue
            # Without a quantity, what is left of the line; at least 1, so that a line already
            # shipped is refused as such rather than left out.
            wanted[line.id] = (_quantity(report.row.quantity) or 0 if report.row.quantity
                               else max(remaining[line.id], 1))
    if any(r.problems for r in parcel.reports):
        return False
    lines = {line.id: line for line in order.lines}
    refused = False
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        # The line as earlier parcels of this file leave it.
        refusal = rules.parcel_quantity_refusal(line.sku, remaining[line_id], quantity, "quantity",
                                                closed=bool(line.closed_quantity))
        if refusal is not None:
            target = next((r for r in parcel.reports if r.row.sku == line.sku), parcel.reports[0])
            target.problems.append(refusal)
            refused = True
    wanted = {line_id: qty for line_id, qty in wanted.items() if qty > 0}
    if refused or not wanted:
        if not refused:
            parcel.reports[0].problems.append(rules.ship_refusal(order))
        return False
    for line_id, quantity in wanted.items():
        remaining[line_id] -= quantity
    parcel.quantities = wanted
    return True


# ----------------------------------------------------------------------------- applying
def apply(workflow: Workflow, seller_id: int, rows: Sequence[Row], *, actor: Actor) -> Report:
    """Check the rows against the orders as they are now, then ship every parcel ready."""
    report, parcels = check(workflow.session, seller_id, rows, now=workflow.clock)
    workflow.session.rollback()  # a read only: each parcel then has its own transaction
    for parcel in parcels:
        try:
            result = workflow.ship(
                parcel.order_id, actor=actor, quantities=parcel.quantities, carrier=parcel.carrier.code,
                tracking_number=parcel.number, shipped_on=parcel.day,
                # The same file again finds this parcel, even from two requests at once.
                request_key=f"import:{parcel.number}",
            )
        except WorkflowError as error:
            for row_report in parcel.reports:
                row_report.state = State.REFUSED
                row_report.problems.append(error)
            continue
        assert result.shipment is not None
        for row_report in parcel.reports:
            row_report.state = State.DONE if result.changed else State.ALREADY
            row_report.parcel_number = result.shipment.number
    return report
