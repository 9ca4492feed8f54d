"""How many of a seller's orders each tab of « Commandes » holds, kept on the seller's row.

« Commandes » shows these counts on every view. Counting the orders there cost the database a
step per order counted on each view (capped, and still most of the page's statement); kept
here, they cost nothing to read (the seller's row is read for the session anyway) and
nothing to keep: the workflow already updates the seller's row in every transaction that
changes one of its orders (`orders_version`), and the counts' changes ride on that UPDATE.

An order is counted in its status's bucket and, whatever its status, in the buckets of what it
carries: a parcel in problem, money to give back. `recount` sets the counts from the orders
themselves: for data written without the workflow (a bulk load), and to check them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from ..models import Order, OrderStatus, Seller
from . import rules

#: The statuses of orders waiting for the seller: « À traiter » counts them by status, and the
#: other orders with a parcel in problem in OTHER_PROBLEMS.
WAITING_FOR_SELLER: tuple[OrderStatus, ...] = (OrderStatus.AWAITING_PAYMENT, *rules.SHIPPABLE)
OPEN_PROBLEMS, REFUND_DUE, OTHER_PROBLEMS = "open_problems", "refund_due", "other_problems"
BUCKETS: tuple[str, ...] = (*(status.value for status in OrderStatus), OPEN_PROBLEMS, REFUND_DUE,
                            OTHER_PROBLEMS)
#: The seller's column of each bucket.
COLUMNS: dict[str, str] = {bucket: f"orders_{bucket}" for bucket in BUCKETS}

Changes = dict[int, Counter[str]]  # seller id → what each bucket gains (or loses)


def buckets_of(status: str, open_problems: int, refund_due_cents: int) -> tuple[str, ...]:
    """The buckets an order in this state is counted in."""
    found = [str(status)]
    if open_problems > 0:
        found.append(OPEN_PROBLEMS)
        if status not in WAITING_FOR_SELLER:
            found.append(OTHER_PROBLEMS)
    if refund_due_cents > 0:
        found.append(REFUND_DUE)
    return tuple(found)


def state_of(order: Order) -> tuple[str, ...]:
    return buckets_of(order.status, order.open_problems or 0, order.refund_due_cents or 0)


def move(changes: Changes, seller_id: int, before: Iterable[str], after: Iterable[str]) -> None:
    """An order of the seller went from the buckets `before` to `after` (nothing before: new)."""
    counter = changes.setdefault(seller_id, Counter())
    counter.subtract(before)
    counter.update(after)


def of(seller: Seller) -> dict[str, int]:
    """The seller's counts, by bucket."""
    return {bucket: getattr(seller, column) for bucket, column in COLUMNS.items()}


def orders_of(seller: Seller) -> int:
    """How many orders the seller has (each is in one status's bucket)."""
    return sum(getattr(seller, COLUMNS[status]) for status in OrderStatus)


_SELLERS = Seller.__table__
#: The seller's orders changed: its list's version moves and each count by its change.
#: Parameters `seller_id` and one `d_<bucket>` per bucket.
BUMP = (update(_SELLERS).where(_SELLERS.c.id == bindparam("seller_id"))
        .values(orders_version=_SELLERS.c.orders_version + 1,
                **{column: _SELLERS.c[column] + bindparam(f"d_{bucket}")
                   for bucket, column in COLUMNS.items()})
        .execution_options(synchronize_session=False))


def bump_parameters(changes: Changes) -> list[dict[str, int]]:
    """BUMP's parameters, sellers in id order (two transactions take their rows in one order)."""
    return [{"seller_id": seller_id, **{f"d_{bucket}": counter[bucket] for bucket in BUCKETS}}
            for seller_id, counter in sorted(changes.items())]


def counted(session: Session, seller_ids: Sequence[int] | None = None) -> dict[int, dict[str, int]]:
    """Each seller's counts, from the orders themselves (every seller asked, with or without
    orders): the orders grouped by what `buckets_of` reads, each group counted in its buckets."""
    orders = Order.__table__
    problem, due = orders.c.open_problems > 0, orders.c.refund_due_cents > 0
    statement = (select(orders.c.seller_id, orders.c.status, problem, due, func.count())
                 .group_by(orders.c.seller_id, orders.c.status, problem, due))
    sellers = select(_SELLERS.c.id)
    if seller_ids is not None:
        statement = statement.where(orders.c.seller_id.in_(seller_ids))
        sellers = sellers.where(_SELLERS.c.id.in_(seller_ids))
    found: dict[int, dict[str, int]] = {seller_id: dict.fromkeys(BUCKETS, 0)
                                        for seller_id in session.scalars(sellers)}
    for seller_id, status, has_problem, owes, n in session.execute(statement):
        buckets = found.setdefault(seller_id, dict.fromkeys(BUCKETS, 0))
        for bucket in buckets_of(status, int(has_problem), int(owes)):
            buckets[bucket] += n
    return found


def wrong(session: Session, found: Mapping[int, Mapping[str, int]]) -> list[int]:
    """The sellers whose kept counts are not those `found` (`counted`'s)."""
    return [seller_id for seller_id, _ in _mismatched(session, found)]


def recount(session: Session, seller_ids: Sequence[int] | None = None) -> list[int]:
    """Set the sellers' counts (all, or those named) from their orders, in the caller's
    transaction; the ids of those whose counts were not right."""
    mended = []
    for seller_id, buckets in _mismatched(session, counted(session, seller_ids)):
        mended.append(seller_id)
        session.execute(update(_SELLERS).where(_SELLERS.c.id == seller_id)
                        .values({COLUMNS[bucket]: n for bucket, n in buckets.items()}))
    return mended


def _mismatched(session: Session, found: Mapping[int, Mapping[str, int]]
                ) -> list[tuple[int, Mapping[str, int]]]:
    # Every seller's row (few beside their orders): no list of ids for the database to take.
    stored: dict[int, Mapping[Any, Any]] = {
        row.id: row._mapping for row in session.execute(
            select(_SELLERS.c.id, *(_SELLERS.c[column] for column in COLUMNS.values())))}
    return [(seller_id, buckets) for seller_id, buckets in sorted(found.items())
            if (row := stored.get(seller_id)) is not None
            and any(row[COLUMNS[bucket]] != n for bucket, n in buckets.items())]
