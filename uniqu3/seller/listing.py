"""What « Commandes » prints: its words in one language (translated once per language) and
its rows with every value already formatted.

The list used to cost several times its SQL in Python: each tab label, badge and date looked
up its translation through Flask-Babel's request context, each row built its URL through the
URL map, and the template called a method or filter for each value. Here the texts are
translated once per language, and each row's values are formatted by the shared formatters
(money, Paris dates) with the page's language passed once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Row

from ..i18n import once_per_language
from ..labels import STATUS_LABELS
from ..templating import money, paris_datetime
from ..timeutil import iso_utc
from .queries import TABS


@dataclass(frozen=True)
class ShownTab:
    slug: str
    label: str


@dataclass(frozen=True)
class ListTexts:
    tabs: tuple[ShownTab, ...]
    statuses: dict[str, str]


def list_texts(locale: str) -> ListTexts:
    return once_per_language("orders_list_texts", locale, lambda: ListTexts(
        tuple(ShownTab(tab.slug, str(tab.label)) for tab in TABS),
        {status: str(label) for status, label in STATUS_LABELS.items()},
    ))


class ShownOrder(NamedTuple):
    """One row of the list, as printed."""

    href: str
    reference: str
    status: str
    status_label: str
    buyer_name: str
    amount: str
    created_at: str  # ISO 8601 to the second, for <time datetime>
    created: str  # as the seller reads it
    needs_action: bool  # a parcel in problem waits for the seller's answer


def shown_orders(rows: Sequence[Row[*tuple[Any, ...]]], locale: str,
                 order_url: Callable[[str], str]) -> list[ShownOrder]:
    """Rows of queries.LIST_COLUMNS, ready to print."""
    statuses = list_texts(locale).statuses
    # Unpacked in LIST_COLUMNS' order: a Row's attributes cost a look-up each.
    return [ShownOrder(order_url(reference), reference, status, statuses[status], buyer_name,
                       money(total_cents, currency, locale), iso_utc(created_at),
                       paris_datetime(created_at, locale), open_problems > 0)
            for _id, reference, status, buyer_name, total_cents, currency, created_at, open_problems in rows]
