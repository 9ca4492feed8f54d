"""Money is integer cents; these helpers show it."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache


def cents_to_decimal_str(cents: int) -> str:
    """3490 -> '34.90' (the API's form)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def format_money(cents: int, currency: str = "EUR", locale: str = "fr") -> str:
    """3490 -> '34,90 €' in French, '€34.90' in English: Babel's output, exactly."""
    layout = _layout(currency, locale)
    if layout is None or cents < 0:
        return _babel_money(cents, currency, locale)
    prefix, group, decimal_mark, suffix = layout
    units, hundredths = divmod(cents, 100)
    return f"{prefix}{units:,}".replace(",", group) + f"{decimal_mark}{hundredths:02d}{suffix}"


def _babel_money(cents: int, currency: str, locale: str) -> str:
    from babel.numbers import format_currency

    return format_currency(Decimal(cents) / 100, currency, locale=locale)


# Amounts that exercise every part of a layout: no group, one group, several, zero cents.
_PROBES = (0, 5, 99, 100, 12_345, 123_456, 1_234_567, 100_000_000, 123_456_789_01)


@lru_cache(maxsize=64)
def _layout(currency: str, locale: str) -> tuple[str, str, str, str] | None:
    """Babel's layout of an amount (prefix, thousands mark, decimal mark, suffix), learnt once.

    A page lists dozens of amounts and Babel re-reads its pattern for each one; the layout is
    checked against Babel on probe amounts and not used (Babel is called instead) unless
    every probe comes out identical, e.g. for a currency without cents or unusual grouping.
    """
    sample = _babel_money(123_456_789_01, currency, locale)
    found = re.fullmatch(r"(\D*)123(\D)456(\D)789(\D)01(\D*)", sample)
    if found is None or found[2] != found[3]:
        return None
    layout = (found[1], found[2], found[4], found[5])
    prefix, group, decimal_mark, suffix = layout
    for cents in _PROBES:
        units, hundredths = divmod(cents, 100)
        mine = f"{prefix}{units:,}".replace(",", group) + f"{decimal_mark}{hundredths:02d}{suffix}"
        if mine != _babel_money(cents, currency, locale):
            return None
    return layout


class Amount(str):
    """An amount inside a refusal's message: French as text (the message's own language), in
    the reader's language once translated (`translated`, as `WorkflowError.translated` asks of
    its values), through the pages' money filter: one formatter for both."""

    cents: int
    currency: str

    def __new__(cls, cents: int, currency: str = "EUR") -> Amount:
        amount = super().__new__(cls, format_money(cents, currency, "fr"))
        amount.cents, amount.currency = cents, currency
        return amount

    def translated(self, gettext: object = None) -> str:
        from .templating import money  # the page's (or the API's forced) locale; French outside

        return money(self.cents, self.currency)
