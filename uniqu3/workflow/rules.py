"""Rules on what people type, one place for every door (web forms, CLI, API).

Each rule returns why a value is refused (French, or through the caller's `gettext`, with
the values filled in), or None when it is accepted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

Gettext = Callable[..., str]

SHOP_NAME_MAX = 120
# Line breaks and control characters: the shop's name goes in the From of every buyer's e-mail.
_NOT_ON_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


def french(message: str, **params: Any) -> str:
    """The message as written (French), with its values."""
    return message % params if params else message


def shop_name_problem(name: str, gettext: Gettext = french) -> str | None:
    """A shop's name: 1 to SHOP_NAME_MAX characters (once trimmed), on one printable line."""
    name = name.strip()
    if not name:
        return gettext("Indiquez le nom de votre boutique.")
    if len(name) > SHOP_NAME_MAX:
        return gettext("Le nom de la boutique a au plus %(max)d caractères.", max=SHOP_NAME_MAX)
    if any(unicodedata.category(ch) in _NOT_ON_ONE_LINE for ch in name):
        return gettext("Le nom de la boutique tient sur une ligne, sans retour à la ligne ni caractère "
                       "de contrôle.")
    return None
