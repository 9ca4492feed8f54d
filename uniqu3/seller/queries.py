"""What the seller pages read: one seller's orders, always filtered by seller_id first.

The list uses keyset pagination on (created_at, id) so page 2,000 costs what page 1
costs, walking the indexes ix_orders_seller_created / ix_orders_seller_status_created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    func,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    union_all,
)
from sqlalchemy.orm import selectinload

from .. import search_index
from ..carriers import normalize_tracking_number
from ..extensions import db
from ..models import Order, OrderEvent, OrderStatus, Shipment
from ..security import storable_id

PER_PAGE = 25
COUNT_CAP = 1_000
SEARCH_MAX = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Tab:
    slug: str
    label: Any  # a lazy translated string
    statuses: tuple[OrderStatus, ...]  # empty: every status
    # « Problèmes »: orders with a parcel in problem, whatever their status (they need action).
    open_problems: bool = False


TABS: tuple[Tab, ...] = (
    Tab("problemes", _l("Problèmes"), (), open_problems=True),
    Tab("a-encaisser", _l("À encaisser"), (OrderStatus.AWAITING_PAYMENT,)),
    Tab("a-expedier", _l("À expédier"), (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)),
    Tab("expediees", _l("Expédiées"), (OrderStatus.SHIPPED,)),
    Tab("recues", _l("Reçues"), (OrderStatus.RECEIVED,)),
    Tab("annulees", _l("Annulées"), (OrderStatus.CANCELLED,)),
    Tab("toutes", _l("Toutes"), ()),
)
TABS_BY_SLUG = {tab.slug: tab for tab in TABS}
DEFAULT_TAB = TABS_BY_SLUG["toutes"]


def tab_for(slug: str | None) -> Tab:
    return TABS_BY_SLUG.get(slug or "", DEFAULT_TAB)


@dataclass(frozen=True)
class Cursor:
    """A position in the list: the (created_at, id) of an order."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """None for anything that is not a cursor we made: the list starts over."""
        if not raw or len(raw) > 40:
            return None
        micros, sep, ident = raw.partition("-")
        if not sep or not micros.isdecimal() or not ident.isdecimal():
            return None
        if not storable_id(int(ident)):
            return None  # no order has it (and the database would refuse the number)
        try:
            return cls(_EPOCH + timedelta(microseconds=int(micros)), int(ident))
        except OverflowError:
            return None

    @classmethod
    def of(cls, order: Order) -> Cursor:
        return cls(order.created_at, order.id)


@dataclass
class Page:
    orders: list[Order]
    newer: Cursor | None  # show "plus récentes" with avant=newer
    older: Cursor | None  # show "plus anciennes" with apres=older


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: Up to this many orders holding the text (every seller's), SQLite starts from them.
FTS_DRIVE_LIMIT = 2_000


def _needles(query: str) -> list[str]:
    """The text as typed, and as a tracking number (spaces removed, upper case) if it may be one."""
    text = query.strip()[:SEARCH_MAX]
    number = normalize_tracking_number(text)
    if number != text.upper() and any(ch.isdigit() for ch in number):
        return [text, number]
    return [text]


def search_clause(query: str) -> ColumnElement[bool]:
    """Reference, buyer name or e-mail, SKU (substring, any case) or tracking number: all are
    in `orders.search_text`, one per line (uniqu3.search_index). On PostgreSQL its GIN trigram
    index answers the ILIKE; on SQLite this LIKE reads the seller's orders newest first and
    stops at one page (see seller_filters for the indexed way)."""
    return or_(*[Order.search_text.ilike(f"%{_escape_like(n)}%", escape="\\") for n in _needles(query)])


def _fts_hits(needles: list[str]) -> list[int] | None:
    """SQLite: the ids of the orders (every seller's) holding one of the needles, from the FTS5
    trigram index; None when it cannot answer (a needle under 3 characters) or when the text
    is common (over FTS_DRIVE_LIMIT orders: the seller's own list then finds a page soon)."""
    if any(len(n) < search_index.MIN_INDEXED for n in needles):
        return None
    fts = table(search_index.FTS_TABLE)
    hits: set[int] = set()
    for needle in needles:
        phrase = '"' + needle.replace('"', '""') + '"'  # FTS5 phrase: the substring, any case
        stmt = (select(literal_column("rowid", Integer)).select_from(fts)
                .where(literal_column(search_index.FTS_TABLE).op("MATCH")(phrase))
                .limit(FTS_DRIVE_LIMIT + 1))
        hits.update(db.session.scalars(stmt))
        if len(hits) > FTS_DRIVE_LIMIT:
            return None
    return sorted(hits)


def seller_filters(seller_id: int, query: str) -> list[ColumnElement[bool]]:
    """The seller's orders, matching the search if there is one."""
    if not query.strip():
        return [Order.seller_id == seller_id]
    needles = _needles(query)
    if db.session.get_bind().dialect.name == "sqlite":
        hits = _fts_hits(needles)
        if hits is not None:
            # Few orders hold the text: start from them (primary key lookups), then keep the
            # seller's. `seller_id + 0` keeps SQLite from walking the seller's whole list and
            # testing each order against the hits, which costs 100,000 steps for a big shop.
            return [Order.id.in_(hits), (Order.seller_id + 0) == seller_id]
    return [Order.seller_id == seller_id, search_clause(query)]


def _key() -> Any:
    return tuple_(Order.created_at, Order.id)


def _window(filters: Sequence[ColumnElement[bool]], cursor: Cursor | None, newest_first: bool,
            limit: int) -> Select[int, datetime]:
    stmt = select(Order.id, Order.created_at).where(*filters)
    if cursor is not None:
        bound = tuple_(cursor.created_at, cursor.id)
        stmt = stmt.where(_key() < bound if newest_first else _key() > bound)
    order = (Order.created_at.desc(), Order.id.desc()) if newest_first else (
        Order.created_at.asc(), Order.id.asc())
    return stmt.order_by(*order).limit(limit)


def fetch_window(seller_id: int, tab: Tab, query: str, cursor: Cursor | None, limit: int,
                 *, newest_first: bool = True) -> list[Order]:
    """Up to `limit` orders past `cursor`, newest first (or oldest first)."""
    base = seller_filters(seller_id, query)
    if tab.open_problems:
        # Exactly the partial index's condition (ix_orders_seller_problems), so it is used.
        base.append(Order.open_problems > 0)
    if len(tab.statuses) <= 1 or query.strip():
        # One index range: the database walks it in order and stops at `limit`.
        if tab.statuses:
            base.append(Order.status.in_(tab.statuses))
        windows = [_window(base, cursor, newest_first, limit)]
    else:
        # Several statuses: one ordered range per status, merged (each stops at `limit`).
        windows = [_window([*base, Order.status == status], cursor, newest_first, limit)
                   for status in tab.statuses]
    if len(windows) == 1:
        ids = windows[0].subquery()
    else:
        parts = [w.subquery() for w in windows]
        ids = union_all(*[select(p.c.id, p.c.created_at) for p in parts]).subquery()
    direction = (ids.c.created_at.desc(), ids.c.id.desc()) if newest_first else (
        ids.c.created_at.asc(), ids.c.id.asc())
    stmt = select(Order).join(ids, Order.id == ids.c.id).order_by(*direction).limit(limit)
    return list(db.session.scalars(stmt))


def list_orders(seller_id: int, tab: Tab, query: str = "", *, after: Cursor | None = None,
                before: Cursor | None = None, per_page: int = PER_PAGE) -> Page:
    """One page, newest first. `after`: older than this order; `before`: newer than it."""
    if before is not None:
        rows = fetch_window(seller_id, tab, query, before, per_page + 1, newest_first=False)
        has_newer = len(rows) > per_page
        orders = list(reversed(rows[:per_page]))
        older = Cursor.of(orders[-1]) if orders else None
        # Coming back from older pages: there is always an older page (the one we came from).
        return Page(orders, Cursor.of(orders[0]) if has_newer else None, older)
    rows = fetch_window(seller_id, tab, query, after, per_page + 1)
    orders = rows[:per_page]
    older = Cursor.of(orders[-1]) if len(rows) > per_page else None
    newer = Cursor.of(orders[0]) if after is not None and orders else None
    return Page(orders, newer, older)


@dataclass(frozen=True)
class Count:
    """A tab's count: exact up to COUNT_CAP, then shown as a lower bound (« 1 000+ »)."""

    value: int
    capped: bool = False

    def __str__(self) -> str:
        return format_number(self.value) + ("+" if self.capped else "")


def status_counts(seller_id: int) -> dict[str, Count]:
    """Orders per tab, in one query: one count per status over its own range of
    ix_orders_seller_status_created, each stopping after COUNT_CAP rows. The cost is then
    bounded however many orders a seller has (the archive tabs of a big shop would otherwise
    cost a scan of 100,000 index entries per page view), and exact where it matters: the
    tabs of orders waiting for the seller."""
    statuses = list(OrderStatus)
    row = db.session.execute(select(*[
        select(func.count()).select_from(
            select(Order.id).where(Order.seller_id == seller_id, Order.status == status)
            .limit(COUNT_CAP + 1).subquery()
        ).scalar_subquery()
        for status in statuses
    ], select(func.count()).select_from(
        # The « Problèmes » tab, over its partial index.
        select(Order.id).where(Order.seller_id == seller_id, Order.open_problems > 0)
        .limit(COUNT_CAP + 1).subquery()
    ).scalar_subquery())).one()
    *by_status, problems = row
    per_status = {status: Count(min(n, COUNT_CAP), n > COUNT_CAP) for status, n in zip(statuses, by_status,
                                                                                       strict=True)}

    def total(wanted: tuple[OrderStatus, ...]) -> Count:
        parts = [per_status[s] for s in wanted]
        return Count(sum(c.value for c in parts), any(c.capped for c in parts))

    counts = {tab.slug: total(tab.statuses) for tab in TABS if tab.statuses}
    counts[DEFAULT_TAB.slug] = total(tuple(statuses))
    counts.update({tab.slug: Count(min(problems, COUNT_CAP), problems > COUNT_CAP)
                   for tab in TABS if tab.open_problems})
    return counts


def order_id(seller_id: int, reference: str) -> int | None:
    return db.session.scalar(
        select(Order.id).where(Order.seller_id == seller_id, Order.reference == reference)
    )


def order_page(seller_id: int, reference: str) -> Order | None:
    """The order with everything its page shows, in a fixed number of queries."""
    return db.session.scalar(
        select(Order)
        .where(Order.seller_id == seller_id, Order.reference == reference)
        .options(
            selectinload(Order.lines),
            selectinload(Order.shipments).selectinload(Shipment.lines),
            selectinload(Order.shipments).selectinload(Shipment.problems),
            selectinload(Order.events),
        )
        .execution_options(populate_existing=True)
    )


def shipment_id(seller_id: int, reference: str, number: int) -> int | None:
    return db.session.scalar(
        select(Shipment.id)
        .join(Order, Order.id == Shipment.order_id)
        .where(Order.seller_id == seller_id, Order.reference == reference, Shipment.number == number)
    )


def last_event_id(order_id: int) -> int:
    return db.session.scalar(select(func.max(OrderEvent.id)).where(OrderEvent.order_id == order_id)) or 0
