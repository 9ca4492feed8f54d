"""What « Commandes » prints: its words in one language (translated once per language) and
its rows as HTML, each value formatted once.

The list used to cost several times its SQL in Python: each tab label, badge and date looked
up its translation through Flask-Babel's request context, each row built its URL through the
URL map, and the template looked up and escaped a dozen values per row (some 300 calls per
page). Here the texts are translated once per language, and each row is written by one format
string, only its variable values escaped (the reference, its URL, the buyer's name).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import force_locale, gettext, ngettext
from markupsafe import Markup, escape
from sqlalchemy import Row

from ..i18n import moment_writer, once_per_language
from ..labels import STATUS_LABELS
from ..money import format_money
from ..timeutil import iso_utc, to_paris
from .queries import TABS, Count
from .rendering import is_plain


@dataclass(frozen=True)
class ShownTab:
    slug: str
    label: str


@dataclass(frozen=True)
class ListTexts:
    """The list's words in one language; the counted ones (« 3 articles », « il y a 3 j ») are
    translated on their first use and kept."""

    locale: str
    tabs: tuple[ShownTab, ...]
    badges: dict[str, str]  # status: the row's badge, as HTML
    problem: str  # the flag of a row whose order has a parcel in problem, as HTML
    client: str  # the buyer's name's label for screen readers (the header is visual)
    summary: str  # « %(first)s–%(last)s sur %(total)s »
    _items: dict[int, str] = field(default_factory=dict)
    _ages: dict[int, str] = field(default_factory=dict)

    def items(self, count: int) -> str:
        found = self._items.get(count)
        if found is None:
            with force_locale(self.locale):
                found = self._items[count] = ngettext("%(num)d article", "%(num)d articles", count)
        return found

    def age(self, days: int) -> str:
        """How long ago, in days of the Paris calendar: « aujourd'hui », « hier », « il y a 3 j »."""
        found = self._ages.get(days)
        if found is None:
            with force_locale(self.locale):
                if days <= 0:
                    found = gettext("aujourd'hui")
                elif days == 1:
                    found = gettext("hier")
                else:
                    found = gettext("il y a %(days)d j", days=days)
            self._ages[days] = found
        return found


def list_texts(locale: str) -> ListTexts:
    return once_per_language("orders_list_texts", locale, lambda: ListTexts(
        locale,
        tuple(ShownTab(tab.slug, str(tab.label)) for tab in TABS),
        {status: f'<span class="badge b-{status}">{escape(str(label))}</span>'
         for status, label in STATUS_LABELS.items()},
        f' <strong class="flag">{escape(gettext("Problème signalé : à traiter"))}</strong>',
        f'<span class="vh">{escape(gettext("Client :"))} </span>',
        gettext("%(first)s–%(last)s sur %(total)s"),
    ))


@dataclass(frozen=True)
class ShownRows:
    html: Markup
    references: str  # the rows' references, space-separated (« Tout sélectionner »)


def shown_rows(rows: Sequence[Row[*tuple[Any, ...]]], texts: ListTexts, today: date,
               order_href: Callable[[str], str]) -> ShownRows:
    """Rows starting with queries.LIST_COLUMNS as the list prints them; `today`: the Paris day
    their age is counted to; `order_href`: an order's page, escaped for HTML
    (rendering.href_maker). Each row is one link holding its values (the columns on a wide
    screen, a card on a phone), after the selection's box; written by an f-string, the
    cheapest way Python joins strings."""
    locale = texts.locale
    write_moment = moment_writer(locale)
    badges, client, problem, items, age = texts.badges, texts.client, texts.problem, texts.items, texts.age
    parts = []
    references = []
    # Unpacked in LIST_COLUMNS' order: a Row's attributes cost a look-up each.
    for (_id, reference, status, buyer_name, total_cents, currency, created_at, open_problems,
         item_count) in rows:
        ref = reference if is_plain(reference) else escape(reference)  # the workflow's are plain
        local = to_paris(created_at)
        needs_action, flag = (' class="needs-action"', problem) if open_problems > 0 else ("", "")
        parts.append(
            f'<li><input type="checkbox" name="ref" value="{ref}" form="bulk" aria-label="{ref}">'
            f'<a href="{order_href(reference)}"{needs_action}><span class="ref">{ref}</span>'
            f'{badges[status]}<span class="who">{client}{escape(buyer_name)}{flag}</span>'
            f'<span class="items">{items(item_count)}</span>'
            f'<span class="amt">{escape(format_money(total_cents, currency, locale))}</span>'
            f'<span class="when"><time datetime="{iso_utc(created_at)}">{write_moment(local)}</time>'
            f' <span class="age">{age((today - local.date()).days)}</span></span></a></li>\n')
        references.append(reference)
    return ShownRows(Markup("".join(parts)), " ".join(references))


def page_summary(first: int | None, shown: int, total: Count, texts: ListTexts) -> str:
    """« 1–25 sur 28 » (« 26–50 sur 1 000+ » past a count's cap); empty when the page's place
    in the list is not known (a page reached by an address without it)."""
    if first is None or not shown:
        return ""
    locale = texts.locale
    last = first + shown - 1
    if total.capped and total.value < last:
        # A lower bound counted from a search's first orders: the page itself shows more.
        total = Count(last, capped=True)
    return texts.summary % {"first": Count(first).shown(locale), "last": Count(last).shown(locale),
                            "total": total.shown(locale)}
