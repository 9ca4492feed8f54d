"""`Authorization: Bearer <api key>` on every API call except the OpenAPI document."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

from .. import apikeys
from ..extensions import db
from ..services import now
from .blueprint import state
from .errors import ApiError

REALM = 'Bearer realm="UNIQU3"'


def current_client() -> apikeys.ApiClient:
    """The client of this request, or a 401 with `WWW-Authenticate: Bearer` (read once)."""
    known: apikeys.ApiClient | None = state().get("client")
    if known is None:
        known = state()["client"] = _authenticate()
    return known


def _authenticate() -> apikeys.ApiClient:
    header = request.headers.get("Authorization", "")
    if not header.strip():
        raise ApiError(401, _l("Clé d'API manquante : envoyez l'en-tête Authorization: Bearer <clé>."),
                       headers={"WWW-Authenticate": REALM})
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, _l("En-tête Authorization invalide : « Bearer <clé> » attendu."),
                       headers={"WWW-Authenticate": f'{REALM}, error="invalid_request"'})
    client = apikeys.authenticate(db.session(), token.strip(), now=now())
    if client is None:
        raise ApiError(401, _l("Clé d'API invalide ou révoquée."),
                       headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    return client
