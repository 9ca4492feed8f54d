"""Money is integer cents; these helpers parse and show it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SUPPORTED_CURRENCIES = ("EUR",)


class InvalidAmount(ValueError):
    pass


def parse_cents(raw: str | int | float | Decimal) -> int:
    """'34.90' -> 3490. Refuses negatives, more than two decimals and floats' noise."""
    if isinstance(raw, bool):
        raise InvalidAmount("Montant invalide.")
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise InvalidAmount("Montant invalide : un nombre décimal est attendu (ex. 34.90).") from exc
    if not value.is_finite():
        raise InvalidAmount("Montant invalide.")
    if value < 0:
        raise InvalidAmount("Le montant ne peut pas être négatif.")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidAmount("Le montant a au plus deux décimales.")
    cents = int(value * 100)
    if cents > 100_000_000_00:
        raise InvalidAmount("Montant trop élevé.")
    return cents


def cents_to_decimal_str(cents: int) -> str:
    """3490 -> '34.90' (the API's form)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def format_money(cents: int, currency: str = "EUR", locale: str = "fr") -> str:
    """3490 -> '34,90 €' in French, '€34.90' in English."""
    from babel.numbers import format_currency

    return format_currency(Decimal(cents) / 100, currency, locale=locale)
