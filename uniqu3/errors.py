"""Friendly error pages (French by default) instead of the server's bare ones.

A page request gets a full page; an htmx request gets a short message swapped into the
page's alert area (HX-Retarget), so the seller sees why nothing happened. The JSON API
keeps its own error format: its paths are left alone.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, login_manager

MESSAGES = {
    400: (_l("Requête invalide"),
          _l("La demande n'a pas pu être comprise. Revenez en arrière et réessayez.")),
    403: (_l("Accès refusé"), _l("Vous n'avez pas accès à cette page.")),
    404: (_l("Page introuvable"),
          _l("Cette page n'existe pas, ou elle concerne une commande qui n'est pas la vôtre.")),
    405: (_l("Action impossible"), _l("Cette adresse ne s'utilise pas de cette façon.")),
    413: (_l("Envoi trop volumineux"), _l("Les données envoyées sont trop volumineuses.")),
    429: (_l("Trop de tentatives"), _l("Trop de demandes en peu de temps. Patientez quelques minutes.")),
    500: (_l("Erreur du serveur"),
          _l("Une erreur inattendue s'est produite. Rien n'a été modifié ; réessayez dans un instant.")),
}
CSRF_MESSAGE = _l(
    "Le formulaire a expiré ou n'est pas valide (jeton de sécurité manquant). "
    "Rechargez la page et recommencez."
)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def render_error(code: int, message: str | None = None) -> Response:
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    text = message or str(default_message)
    if request.headers.get("HX-Request") == "true":
        body = render_template("errors/_alert.html", title=title, message=text)
        response = Response(body, status=code)
        response.headers["HX-Retarget"] = "#alerts"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    body = render_template("errors/error.html", code=code, title=title, message=text)
    return Response(body, status=code)


def render_too_many(message: str, retry_after: int) -> Response:
    """A limit reached (429): the error page with its message, and when to try again."""
    response = render_error(429, message)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _handle_http(error: HTTPException) -> Response | HTTPException:
    if _is_api():
        return error
    code = error.code or 500
    response = render_error(code)
    allowed = getattr(error, "valid_methods", None)
    if code == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def _handle_csrf(error: CSRFError) -> Response | HTTPException:
    if _is_api():
        return error
    if request.blueprint == "seller" and not current_user.is_authenticated:
        # The session (and its token) expired: the real answer is « log in again ».
        return login_manager.unauthorized()
    return render_error(400, str(CSRF_MESSAGE))


def _handle_server_error(error: InternalServerError) -> Response | HTTPException:
    if _is_api():
        return error
    try:
        # A failed flush leaves the session unusable until rolled back, and the page needs it
        # (the seller's language, the menu): without this the error page itself would fail.
        db.session.rollback()
    except Exception:  # the database itself may be what failed
        current_app.logger.exception("Rollback failed after a server error")
    try:
        return render_error(500)
    except Exception:  # the database is out of reach: a page that needs nothing from it
        current_app.logger.exception("The error page could not be rendered")
        return _bare_server_error()


def _bare_server_error() -> Response:
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")):
        title, message = MESSAGES[500]
        body = (f'<!doctype html><html lang="fr"><meta charset="utf-8"><title>{escape(str(title))}</title>'
                f"<h1>{escape(str(title))}</h1><p>{escape(str(message))}</p></html>")
    return Response(body, status=500, mimetype="text/html")


def init_app(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, _handle_http)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(InternalServerError, _handle_server_error)
