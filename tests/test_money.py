"""Amounts as the seller and the buyer read them: Babel's format, whatever the shortcut."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st

from uniqu3.money import format_money


@pytest.mark.parametrize(("cents", "locale", "shown"), [
    (3490, "fr", "34,90\xa0€"),
    (0, "fr", "0,00\xa0€"),
    (123_456_78, "fr", "123\u202f456,78\xa0€"),
    (3490, "en", "€34.90"),
    (123_456_78, "en", "€123,456.78"),
])
def test_amounts_in_french_and_english(cents: int, locale: str, shown: str) -> None:
    assert format_money(cents, "EUR", locale) == shown


@given(cents=st.integers(min_value=-10**12, max_value=10**12),
       locale=st.sampled_from(["fr", "en", "de", "fr_CH", "en_IN"]),
       currency=st.sampled_from(["EUR", "CHF", "JPY"]))
def test_same_text_as_babel_for_any_amount(cents: int, locale: str, currency: str) -> None:
    # en_IN groups by two digits and JPY has no cents: those must fall back to Babel itself.
    assert format_money(cents, currency, locale) == format_currency(
        Decimal(cents) / 100, currency, locale=locale)
