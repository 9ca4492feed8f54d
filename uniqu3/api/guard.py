"""What every API call goes through before its view: the key (401), the key's rate (429 with
`Retry-After`), and for an action (POST, PATCH) its `Idempotency-Key`. The OpenAPI document is public."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Response, current_app, request
from flask_babel import lazy_gettext as _l

from ..auth import throttle
from . import idempotency
from .auth import current_client
from .blueprint import bp
from .errors import ApiError

View = TypeVar("View", bound=Callable[..., object])

#: The counter of each API key (`limits` notation in API_RATE_LIMIT, e.g. "1000/minute").
SCOPE = "api-key"


def public(view: View) -> View:
    """A view anyone may call, without a key (the OpenAPI document)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def rate_limit(key_id: int) -> None:
    limit = throttle.Limit(SCOPE, current_app.config["API_RATE_LIMIT"])
    try:
        throttle.take([(limit, str(key_id))])
    except throttle.Throttled as exc:
        raise ApiError(429, _l("Trop de requêtes avec cette clé d'API : réessayez dans %(seconds)d s.",
                               seconds=exc.retry_after),
                       headers={"Retry-After": str(exc.retry_after)}) from exc


@bp.before_request
def _before() -> Response | None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "public", False):
        return None
    client = current_client()
    rate_limit(client.key_id)
    if request.method in idempotency.METHODS:
        return idempotency.begin(client.key_id)
    return None


@bp.after_request
def _after(response: Response) -> Response:
    return idempotency.finish(response)
