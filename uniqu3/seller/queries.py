"""What the seller pages read: one seller's orders, always filtered by seller_id first.

The list uses keyset pagination on (created_at, id) so page 2,000 costs what page 1
costs, walking the indexes ix_orders_seller_created / ix_orders_seller_status_created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    union_all,
)

from .. import search_index
from ..carriers import normalize_tracking_number
from ..extensions import db
from ..models import Order, OrderEvent, OrderStatus, Seller
from ..security import storable_id
from ..workflow import counts, rules
from ..workflow.loading import load_order, order_id_of, shipment_id_of

PER_PAGE = 25
SEARCH_MAX = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Tab:
    slug: str
    label: Any  # a lazy translated string
    statuses: tuple[OrderStatus, ...]  # empty: every status
    # A count column of the order (> 0: in the tab), whatever the status, over its own partial
    # index: « Problèmes » (a parcel in problem), « À rembourser » (money to give back).
    flag: str = ""
    # « À traiter »: the statuses' orders and, whatever their status, those with a problem.
    with_problems: bool = False


TABS: tuple[Tab, ...] = (
    # The list opens on what needs the seller: payments to confirm, parcels to send, problems.
    Tab("a-traiter", _l("À traiter"), counts.WAITING_FOR_SELLER, with_problems=True),
    Tab("problemes", _l("Problèmes"), (), flag="open_problems"),
    Tab("a-encaisser", _l("À encaisser"), (OrderStatus.AWAITING_PAYMENT,)),
    Tab("a-expedier", _l("À expédier"), rules.SHIPPABLE),
    Tab("expediees", _l("Expédiées"), (OrderStatus.SHIPPED,)),
    Tab("recues", _l("Reçues"), (OrderStatus.RECEIVED,)),
    Tab("annulees", _l("Annulées"), (OrderStatus.CANCELLED,)),
    Tab("a-rembourser", _l("À rembourser"), (), flag="refund_due_cents"),
    Tab("toutes", _l("Toutes"), ()),
)
TABS_BY_SLUG = {tab.slug: tab for tab in TABS}
ALL_TAB = TABS_BY_SLUG["toutes"]
DEFAULT_TAB = TABS_BY_SLUG["a-traiter"]


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
    def of(cls, order: Order | Row[Any]) -> Cursor:
        return cls(order.created_at, order.id)


# The table's columns: a statement of them alone runs without the ORM's work per execution
# and per row (the list's rows are plain rows, not Order objects).
_ORDERS = Order.__table__.c

#: What a row of the list shows (and its cursor): not the addresses, notes and search text.
LIST_COLUMNS = (_ORDERS.id, _ORDERS.reference, _ORDERS.status, _ORDERS.buyer_name, _ORDERS.total_cents,
                _ORDERS.currency, _ORDERS.created_at, _ORDERS.open_problems, _ORDERS.item_count)


def flagged(flag: str) -> ColumnElement[bool]:
    """`flag > 0` with the 0 written in the statement: exactly the condition of the flag's
    partial index (ix_orders_seller_problems, …_refund_due). With a parameter there,
    PostgreSQL's generic plan of a prepared statement cannot use the index."""
    return _ORDERS[flag] > literal_column("0")


@dataclass
class Page:
    orders: Sequence[Row[Any]]  # LIST_COLUMNS
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
    stops at one page (see seller_filters for the indexed way).

    The pattern is written into the statement, not sent as a parameter: PostgreSQL plans a
    statement prepared with a parameter once for any pattern, and that plan (the trigram
    index, then sort) costs 100 ms for a short common text that the seller's newest orders
    answer in 1 ms (bench/RESULTS.md)."""
    return or_(*[Order.search_text.ilike(_written(f"%{_escape_like(n)}%"), escape="\\")
                 for n in _needles(query)])


def _written(pattern: str) -> BindParameter[str]:
    """A value SQLAlchemy writes into the statement (quoted for the database) when it runs."""
    return bindparam(None, pattern, type_=Order.search_text.type, literal_execute=True)


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


def seller_filters(seller_id: int | BindParameter[Any], query: str) -> list[ColumnElement[bool]]:
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
    return tuple_(_ORDERS.created_at, _ORDERS.id)


# The values a window statement takes as parameters: the statement of a shape (what is shown,
# tab, cursor or not, direction) is then built once, not on each view (building it with
# SQLAlchemy cost more than running it). Searches embed their text and are built each time.
_SELLER: BindParameter[int] = bindparam("seller_id", type_=Integer)
_LIMIT: BindParameter[int] = bindparam("limit", type_=Integer)
_CURSOR = tuple_(bindparam("cursor_at", type_=_ORDERS.created_at.type), bindparam("cursor_id"))
AnySelect = Select[*tuple[Any, ...]]


def _window(filters: Sequence[ColumnElement[bool]], has_cursor: bool, newest_first: bool,
            shown: AnySelect | None = None) -> AnySelect:
    """One ordered range of the seller's orders, up to `limit`: their keys, or `shown`."""
    stmt = (select(_ORDERS.id, _ORDERS.created_at) if shown is None else shown).where(*filters)
    if has_cursor:
        stmt = stmt.where(_key() < _CURSOR if newest_first else _key() > _CURSOR)
    order = (_ORDERS.created_at.desc(), _ORDERS.id.desc()) if newest_first else (
        _ORDERS.created_at.asc(), _ORDERS.id.asc())
    return stmt.order_by(*order).limit(_LIMIT)


def fetch_window(seller_id: int, tab: Tab, query: str, cursor: Cursor | None, limit: int,
                 *, newest_first: bool = True) -> list[Order]:
    """Up to `limit` orders past `cursor`, newest first (or oldest first)."""
    stmt, params = _window_statement(False, seller_id, tab, query, cursor, limit, newest_first)
    return list(db.session.scalars(stmt, params))


def fetch_rows(seller_id: int, tab: Tab, query: str, cursor: Cursor | None, limit: int,
               *, newest_first: bool = True) -> Sequence[Row[Any]]:
    """fetch_window's orders as rows of LIST_COLUMNS: what the list shows, and its cursors."""
    stmt, params = _window_statement(True, seller_id, tab, query, cursor, limit, newest_first)
    return db.session.execute(stmt, params).all()


_STATEMENTS: dict[tuple[str, bool, str, bool, bool], AnySelect] = {}


def _window_statement(as_rows: bool, seller_id: int, tab: Tab, query: str, cursor: Cursor | None,
                      limit: int, newest_first: bool) -> tuple[AnySelect, dict[str, Any]]:
    params: dict[str, Any] = {"seller_id": seller_id, "limit": limit}
    if cursor is not None:
        params.update(cursor_at=cursor.created_at, cursor_id=cursor.id)
    dialect = db.session.get_bind().dialect.name
    if query.strip():
        stmt = _build_window(as_rows, seller_filters(_SELLER, query), tab, True, cursor is not None,
                             newest_first, dialect)
        return stmt, params
    shape = (dialect, as_rows, tab.slug, cursor is not None, newest_first)
    kept = _STATEMENTS.get(shape)
    if kept is None:
        kept = _STATEMENTS[shape] = _build_window(as_rows, [_ORDERS.seller_id == _SELLER], tab, False,
                                                  cursor is not None, newest_first, dialect)
    return kept, params


def _build_window(as_rows: bool, base: list[ColumnElement[bool]], tab: Tab, search: bool,
                  has_cursor: bool, newest_first: bool, dialect: str) -> AnySelect:
    if tab.flag:
        base = [*base, flagged(tab.flag)]
    if search:
        # The search's orders are few: one range, the tab's condition tested on each.
        if tab.statuses:
            wanted = _ORDERS.status.in_(tab.statuses)
            base.append(or_(wanted, flagged("open_problems")) if tab.with_problems else wanted)
        ranges = [base]
    elif tab.with_problems:
        # « À traiter »: one range of its partial index (ix_orders_seller_waiting).
        ranges = [[*base, waiting(tab.statuses)]]
    elif len(tab.statuses) <= 1:
        # One index range: the database walks it in order and stops at `limit`.
        if tab.statuses:
            base.append(_ORDERS.status == tab.statuses[0])
        ranges = [base]
    else:
        # Several statuses: one ordered range each, merged (each stops at `limit`).
        ranges = [[*base, _ORDERS.status == status] for status in tab.statuses]
    shown: AnySelect = select(*LIST_COLUMNS) if as_rows else select(Order)
    if len(ranges) == 1 and dialect == "postgresql":
        # PostgreSQL reads each row as it walks the range and stops after `limit` (25 lookups
        # by id fewer). SQLite, without statistics, walks a partial index only for a statement
        # that reads nothing else (ix_orders_seller_waiting's columns): the range first, below.
        return _window(ranges[0], has_cursor, newest_first, shown)
    windows = [_window(filters, has_cursor, newest_first) for filters in ranges]
    if len(windows) == 1:
        ids = windows[0].subquery()
    else:
        merged = union_all(*(select(*w.subquery().c) for w in windows))
        # The page is cut from the merged ranges before their orders are read: `limit` rows
        # read whole, not `limit` per range.
        key = merged.selected_columns
        ids = merged.order_by(*(key.created_at.desc(), key.id.desc()) if newest_first else (
            key.created_at.asc(), key.id.asc())).limit(_LIMIT).subquery()
    direction = (ids.c.created_at.desc(), ids.c.id.desc()) if newest_first else (
        ids.c.created_at.asc(), ids.c.id.asc())
    return shown.join(ids, _ORDERS.id == ids.c.id).order_by(*direction).limit(_LIMIT)


def waiting(statuses: Sequence[OrderStatus]) -> ColumnElement[bool]:
    """In one of `statuses`, or in another with a parcel in problem; the values written in the
    statement: ix_orders_seller_waiting's condition (models.WAITING_FOR_SELLER_SQL), which a
    database matches only when the statement holds the same values."""
    written: list[ColumnElement[Any]] = [literal_column(f"'{status.value}'") for status in statuses]
    return or_(_ORDERS.status.in_(written),
               and_(flagged("open_problems"), _ORDERS.status.not_in(written)))


def list_page(seller: Seller, tab: Tab, query: str = "", *, after: Cursor | None = None,
              before: Cursor | None = None, per_page: int = PER_PAGE) -> tuple[Page, Mapping[str, Count]]:
    """One page, newest first (`after`: older than this order; `before`: newer than it), and
    the orders per tab (with a search: the search's orders per tab; without, the counts the
    workflow keeps on the seller's row)."""
    cursor, newest_first = (before, False) if before is not None else (after, True)
    rows = fetch_rows(seller.id, tab, query, cursor, per_page + 1, newest_first=newest_first)
    tab_counts = _search_counts(seller.id, query) if query.strip() else stored_counts(seller)
    if before is not None:
        has_newer = len(rows) > per_page
        shown = rows[per_page - 1::-1]  # the page, newest first
        older = Cursor.of(shown[-1]) if shown else None
        # Coming back from older pages: there is always an older page (the one we came from).
        return Page(shown, Cursor.of(shown[0]) if has_newer else None, older), tab_counts
    shown = rows[:per_page]
    older = Cursor.of(shown[-1]) if len(rows) > per_page else None
    newer = Cursor.of(shown[0]) if after is not None and shown else None
    return Page(shown, newer, older), tab_counts


class Count(NamedTuple):  # a tuple: some twenty are made for each view of the list
    """A tab's count; `capped`: a lower bound (« 1 000+ », a big search's)."""

    value: int
    capped: bool = False

    def __str__(self) -> str:
        return self.shown(str(get_locale() or "fr"))

    def shown(self, locale: str) -> str:
        return _grouped(self.value, locale) + ("+" if self.capped else "")


@lru_cache(maxsize=1024)
def _grouped(value: int, locale: str) -> str:
    """Babel's digit grouping (flask_babel.format_number's), kept: counts repeat on every view."""
    return format_decimal(value, locale=locale)


_STATUSES = tuple(OrderStatus)
_FLAG_TABS = tuple(tab for tab in TABS if tab.flag)
#: The bucket of workflow/counts.py that counts a flag's tab.
_FLAG_BUCKETS = {"open_problems": counts.OPEN_PROBLEMS, "refund_due_cents": counts.REFUND_DUE}


def stored_counts(seller: Seller) -> Mapping[str, Count]:
    """Each tab's count from the counts kept on the seller's row (exact, read with the seller);
    worked out once for each set of counts (a page of the list is viewed far more often than
    its seller's orders change)."""
    return _per_tab_of_kept(tuple(counts.of(seller).items()))


@lru_cache(maxsize=1024)
def _per_tab_of_kept(kept_counts: tuple[tuple[str, int], ...]) -> Mapping[str, Count]:
    kept = dict(kept_counts)
    return MappingProxyType(_per_tab({status: Count(kept[status]) for status in _STATUSES},
                                     {tab.flag: Count(kept[_FLAG_BUCKETS[tab.flag]]) for tab in _FLAG_TABS},
                                     Count(kept[counts.OTHER_PROBLEMS])))


#: A search's tabs count up to this many of its orders (then « 1 000+ »): the count reads
#: the orders the search finds, like the list.
SEARCH_COUNT_CAP = 1_000


def _search_counts(seller_id: int, query: str) -> dict[str, Count]:
    flags = [tab.flag for tab in _FLAG_TABS]
    found = (select(_ORDERS.status, *[_ORDERS[flag] for flag in flags])
             .where(*seller_filters(seller_id, query))
             .limit(SEARCH_COUNT_CAP + 1).subquery())
    rows = db.session.execute(
        select(found.c.status, func.count(), *[func.count().filter(found.c[flag] > 0) for flag in flags])
        .group_by(found.c.status)).all()
    capped = sum(row[1] for row in rows) > SEARCH_COUNT_CAP  # then each count is a lower bound
    per_status = {status: Count(0, capped) for status in _STATUSES}
    per_status.update({OrderStatus(row[0]): Count(row[1], capped) for row in rows})
    by_flag = {flag: Count(sum(row[2 + i] for row in rows), capped) for i, flag in enumerate(flags)}
    problems = 2 + flags.index("open_problems")
    other_problems = sum(row[problems] for row in rows if row[0] not in counts.WAITING_FOR_SELLER)
    return _per_tab(per_status, by_flag, Count(other_problems, capped))


def _per_tab(per_status: dict[OrderStatus, Count], flags: dict[str, Count],
             other_problems: Count) -> dict[str, Count]:
    """Each tab's count from the counts per status, per flag, and of the orders with a problem
    in a status « À traiter » does not count (`other_problems`)."""

    def total(parts: list[Count]) -> Count:
        return Count(sum(c.value for c in parts), any(c.capped for c in parts))

    by_tab = {}
    for tab in TABS:
        if tab.flag:
            by_tab[tab.slug] = flags[tab.flag]
        elif tab.with_problems:
            by_tab[tab.slug] = total([*(per_status[s] for s in tab.statuses), other_problems])
        else:
            by_tab[tab.slug] = total([per_status[s] for s in tab.statuses or _STATUSES])
    return by_tab


def order_id(seller_id: int, reference: str) -> int | None:
    return order_id_of(db.session, reference, seller_id=seller_id)


def order_page(seller_id: int, reference: str, *, refunds: bool = True) -> Order | None:
    """The seller's order with everything its page shows, in a fixed number of queries
    (`refunds`: not for a page that shows no money, such as a parcel's proof)."""
    return load_order(db.session, reference=reference, seller_id=seller_id, events=True, problems=True,
                      refunds=refunds)


def shipment_id(seller_id: int, reference: str, number: int) -> int | None:
    found = shipment_id_of(db.session, reference, number, seller_id=seller_id)
    return found[1] if found is not None else None


class OrderMark(NamedTuple):
    """An order as an action finds it, for its answer to tell what the action changed: the last
    entry of its history, its status, its parcels in problem."""

    last_event_id: int
    status: str
    open_problems: int


def order_mark(order_id: int) -> OrderMark:
    last = select(func.max(OrderEvent.id)).where(OrderEvent.order_id == order_id).scalar_subquery()
    status, problems, event_id = db.session.execute(
        select(Order.status, Order.open_problems, last).where(Order.id == order_id)).one()
    return OrderMark(event_id or 0, status, problems)
