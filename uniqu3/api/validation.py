"""A JSON body read into its declared model, or a 422 naming every field that is wrong
(`schemas.fields.field_errors`: `lines[2].quantity`, in the reader's language)."""

from __future__ import annotations

from typing import TypeVar

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError

from .body import json_body, raw_body
from .errors import ApiError
from .schemas.fields import NOT_OBJECT, field_errors

Model = TypeVar("Model", bound=BaseModel)

INVALID = _l("Les données envoyées contiennent des erreurs.")


def read_body(model: type[Model], *, optional: bool = False) -> Model:
    """The body as `model`. `optional`: no body at all reads as `{}` (every member optional)."""
    data = json_body(optional=optional)  # 415, 413 and 400 first, with their own messages
    if not isinstance(data, dict):
        raise ApiError(422, INVALID, fields={"": [NOT_OBJECT]})
    try:
        # From the bytes, in JSON mode: strict types still read dates from their ISO text.
        return model.model_validate_json(raw_body() or b"{}", strict=True)
    except ValidationError as exc:
        raise refused(exc) from exc


def refused(exc: ValidationError) -> ApiError:
    """The 422 of a validation error: every field's path with its messages."""
    return ApiError(422, INVALID, fields=field_errors(exc))
