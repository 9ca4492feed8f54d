"""JSON sent to the app (API bodies, `import-orders` files): one decoder, reasons in words.

Python's parser explains itself in English (« Expecting ',' delimiter »); a French or English
reader gets the place instead (line and column), and the values JSON does not have (NaN,
Infinity, numbers longer than Python converts) are refused rather than stretched.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import lazy_gettext as _l


class NotJson(Exception):
    """`reason`: a lazy phrase to put in the caller's sentence (« … (ligne 1, colonne 17) »)."""

    def __init__(self, reason: Any) -> None:
        super().__init__("not JSON")
        self.reason = reason


class _Constant(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def decode(raw: bytes, *, allow_bom: bool = False) -> Any:
    """The JSON value in `raw` (UTF-8; with `allow_bom`, a leading BOM is skipped), or NotJson."""
    try:
        text = raw.decode("utf-8-sig" if allow_bom else "utf-8")
    except UnicodeDecodeError as exc:
        raise NotJson(_l("texte qui n'est pas en UTF-8")) from exc
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise NotJson(_l("ligne %(line)d, colonne %(column)d", line=exc.lineno, column=exc.colno)) from exc
    except _Constant as exc:
        raise NotJson(_l("%(name)s n'est pas une valeur JSON", name=exc.name)) from exc
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        raise NotJson(_l("nombre trop long")) from exc
    except RecursionError as exc:
        raise NotJson(_l("imbrication trop profonde")) from exc
