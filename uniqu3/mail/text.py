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
