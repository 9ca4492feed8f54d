"""Every API error is JSON: {"error": {"code", "message", "fields"}}, with a stable code.

Codes: validation_failed, unauthorized, not_found, conflict, payload_too_large,
unsupported_media_type, bad_request, method_not_allowed, rate_limited, internal; a refusal of
the workflow answers with its own rule's code (`not_paid`, `nothing_left_to_ship`…: the list
is `uniqu3.workflow.errors.CODES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from .. import workflow
from ..extensions import db
from ..workflow import Conflict, WorkflowError
from .blueprint import bp, state

CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal",
}

MESSAGES: dict[int, Any] = {
    400: _l("Requête invalide."),
    401: _l("Authentification requise."),
    404: _l("Ressource introuvable."),
    405: _l("Méthode non autorisée pour cette adresse."),
    409: _l("Conflit avec l'état actuel de la ressource."),
    413: _l("Requête trop volumineuse."),
    415: _l("Type de contenu non pris en charge : application/json attendu."),
    422: _l("Les données envoyées contiennent des erreurs."),
    429: _l("Trop de requêtes : réessayez dans un moment."),
    500: _l("Erreur interne : réessayez plus tard."),
}


class ApiError(Exception):
    """Raised by the API's code; turned into the JSON error answer."""

    def __init__(
        self,
        status: int,
        message: Any = None,
        *,
        fields: Mapping[str, list[Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        # The message is lazy: it is rendered in the answer's language, not here.
        super().__init__(status)
        self.status = status
        self.code = code  # None: the status's own (CODES)
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def api_locale() -> str:
    """French unless the client asks for another supported language (no session in the API)."""
    languages: list[str] = current_app.config["LANGUAGES"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def error_response(
    status: int,
    message: Any = None,
    *,
    fields: Mapping[str, list[Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
) -> Response:
    code = code or CODES.get(status) or ("internal" if status >= 500 else "bad_request")
    if message is None:
        message = MESSAGES[status] if status in MESSAGES else MESSAGES[500 if status >= 500 else 400]
    # Messages are lazy: render them here, in the API's own language choice.
    with force_locale(api_locale()):
        payload = {"error": {
            "code": code,
            "message": str(message),
            "fields": {path: [str(m) for m in messages] for path, messages in (fields or {}).items()},
        }}
    response = jsonify(payload)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return error_response(status, headers=headers)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.message, fields=exc.fields, headers=exc.headers, code=exc.code)


#: A workflow refusal's HTTP status, by its kind; its `code` names the rule (`not_paid`…).
WORKFLOW_STATUS: dict[type[WorkflowError], int] = {workflow.NotFound: 404, Conflict: 409}


@bp.errorhandler(WorkflowError)
def _workflow_refusal(exc: WorkflowError) -> Response:
    """Every action's refusal, the same way: 422 (404 for what is not there, 409 for a
    conflict) with the rule's code, its message in the reader's language, and the field it
    names under the API's own name for it (`lines[0].quantity` for a form's `qty_12`)."""
    status = next((code for kind, code in WORKFLOW_STATUS.items() if isinstance(exc, kind)), 422)
    with force_locale(api_locale()):
        message = exc.translated(gettext)
    fields: dict[str, list[Any]] = {}
    if exc.field:
        names: Mapping[str, str] = state().get("field_names") or {}
        fields[names.get(exc.field, exc.field)] = [message]
    return error_response(status, message, fields=fields, code=exc.code)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    if (exc.code or 500) >= 500:
        return _unexpected(exc)
    return http_error(exc)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("API error on %s %s", request.method, request.path)
    try:
        db.session.rollback()
    except Exception:  # the database itself may be what failed: the answer is JSON all the same
        current_app.logger.exception("Rollback failed after an API error")
    return error_response(500)


def init_app(app: Flask) -> None:
    @app.before_request
    def _api_routing_errors() -> Response | None:
        """A path under /api/ that no route matches (404) or a wrong method (405) gets JSON.

        Routing errors never reach the blueprint's handlers (no blueprint matched), and the
        app's own handlers belong to the HTML pages.
        """
        exc = request.routing_exception
        if exc is None or not request.path.startswith("/api/"):
            return None
        if isinstance(exc, NotFound | MethodNotAllowed):
            return http_error(exc)
        return None
