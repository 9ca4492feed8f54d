"""Text from people (names, shop names) made safe for one line of an e-mail or a header."""

from __future__ import annotations

import unicodedata

_BREAKING = {"Cc", "Cf", "Zl", "Zp"}


def one_line(value: str | None, limit: int = 250) -> str:
    """Printable text on one line: line breaks and control characters become spaces."""
    value = value or ""
    if value.isprintable():  # none of the characters below: the usual case, in C
        return " ".join(value.split())[:limit].strip()
    text = "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in value)
    return " ".join(text.split())[:limit].strip()


_FRENCH_VOWELS = frozenset("aeiouyAEIOUY")


def after_que(name: str, locale: str) -> str:
    """`name` as it follows « que » in a sentence of `locale`: French elides the e before a
    vowel (« Dès qu'Atelier Lyon »), other languages take the name as it is."""
    if not locale.startswith("fr"):
        return name
    first = unicodedata.normalize("NFD", name[:1])[:1]
    return f"qu'{name}" if first in _FRENCH_VOWELS else f"que {name}"
