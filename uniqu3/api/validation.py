"""A JSON body read into its declared model, or a 422 naming every field that is wrong.

The paths are the ones a storefront reads (`lines[2].quantity`), the messages French or
English as the request asks (`Accept-Language`), like every other API error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .body import json_body, raw_body
from .errors import ApiError

Model = TypeVar("Model", bound=BaseModel)

INVALID = _l("Les données envoyées contiennent des erreurs.")


def read_body(model: type[Model], *, optional: bool = False) -> Model:
    """The body as `model`. `optional`: no body at all reads as `{}` (every member optional)."""
    data = json_body(optional=optional)  # 415, 413 and 400 first, with their own messages
    if not isinstance(data, dict):
        raise ApiError(422, INVALID, fields={"": [_l("Objet JSON attendu.")]})
    try:
        # From the bytes, in JSON mode: strict types still read dates from their ISO text.
        return model.model_validate_json(raw_body() or b"{}", strict=True)
    except ValidationError as exc:
        raise refused(exc) from exc


def refused(exc: ValidationError) -> ApiError:
    """The 422 of a validation error: every field's path with its messages."""
    fields: dict[str, list[Any]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        fields.setdefault(field_path(error["loc"]), []).append(message(error))
    return ApiError(422, INVALID, fields=fields)


def field_path(loc: tuple[int | str, ...]) -> str:
    """("lines", 2, "quantity") → "lines[2].quantity"."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def message(error: ErrorDetails) -> Any:
    """The error in the reader's language (pydantic's own messages are English only)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return _l("Champ obligatoire.")
    if kind == "extra_forbidden":
        return _l("Champ inconnu.")
    if kind in ("string_type", "string_unicode"):
        return _l("Texte attendu.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _l("Nombre entier attendu.")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _l("Objet JSON attendu.")
    if kind == "list_type":
        return _l("Liste attendue.")
    if kind == "string_pattern_mismatch":
        return _l("Les caractères de contrôle (retours à la ligne, tabulations…) sont interdits.")
    if kind == "string_too_short":
        return _l("Ne peut pas être vide.")
    if kind == "string_too_long":
        return _l("%(max)d caractères au plus.", max=ctx.get("max_length", 0))
    if kind == "too_short":
        return _l("Au moins %(min)d élément(s).", min=ctx.get("min_length", 0))
    if kind == "too_long":
        return _l("%(max)d éléments au plus.", max=ctx.get("max_length", 0))
    if kind == "greater_than_equal":
        return _l("%(min)s au moins.", min=ctx.get("ge", ""))
    if kind == "less_than_equal":
        return _l("%(max)s au plus.", max=ctx.get("le", ""))
    if kind.startswith("date"):
        return _l("Date attendue, au format AAAA-MM-JJ.")
    return _l("Valeur invalide.")
