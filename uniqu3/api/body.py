"""Reading a JSON request body within API_MAX_BODY_BYTES."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l

from ..json_input import NotJson, decode
from .errors import ApiError


def json_body() -> Any:
    """The decoded body; 415 when it is not JSON, 413 when too big, 400 when not parseable."""
    if request.mimetype != "application/json":
        raise ApiError(415, _l("Type de contenu non pris en charge : envoyez du JSON "
                               "(Content-Type: application/json)."))
    limit: int = current_app.config["API_MAX_BODY_BYTES"]
    too_large = ApiError(413, _l("Requête trop volumineuse : %(max)d octets au plus.", max=limit))
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # Content-Length may be absent (chunked) or wrong: the read itself is bounded too.
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise too_large
    try:
        return decode(raw)
    except NotJson as exc:
        raise ApiError(400, _l("Le corps de la requête n'est pas un JSON valide (%(reason)s).",
                               reason=exc.reason)) from exc
