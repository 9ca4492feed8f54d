"""A postal address as people read it (pages, slip, e-mails): its lines in the French order,
the country in words in the reader's language (Babel's territory names: « France », « Belgique »,
"Belgium"), never its ISO code."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from babel import Locale

_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country")


@lru_cache(maxsize=256)
def country_name(country: str, locale: str) -> str:
    """'FR' → 'France' (fr, en), 'BE' → 'Belgique' / 'Belgium'; an unknown code as it is."""
    code = country.strip().upper()
    try:
        return str(Locale.parse(locale).territories.get(code, country.strip()))
    except (ValueError, TypeError):
        return country.strip()


def address_lines(address: Mapping[str, str] | None, locale: str) -> list[str]:
    """The lines one writes on an envelope: name, street, postal code and city, country."""
    address = address or {}
    country = (address.get("country") or "").strip()
    city = " ".join(part for part in ((address.get("postal_code") or "").strip(),
                                      (address.get("city") or "").strip()) if part)
    lines = [address.get("name"), address.get("line1"), address.get("line2"), city,
             country_name(country, locale) if country else ""]
    return [str(line).strip() for line in lines if line and str(line).strip()]


def same_address(first: Mapping[str, str] | None, second: Mapping[str, str] | None) -> bool:
    """The same place for a person: every field equal, ignoring case and outer spaces."""
    def norm(address: Mapping[str, str] | None) -> tuple[str, ...]:
        return tuple(" ".join(str((address or {}).get(f) or "").split()).casefold() for f in _FIELDS)
    return norm(first) == norm(second)
