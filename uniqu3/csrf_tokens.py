"""The pages' CSRF token, signed once per session secret while tokens do not expire.

Flask-WTF signs the session's CSRF secret anew on every request that shows a token (a
serializer, JSON, a timestamp, two HMACs): about 3 % of a rendered « Commandes ». With
WTF_CSRF_TIME_LIMIT None (seller pages stay open all day) the signature's timestamp is never
checked, so a token signed earlier for the same secret is exactly as valid as a new one. Each
process keeps the token it signed for a session's secret, and a request of that session starts
with it in `g.csrf_token`, where Flask-WTF's generate_csrf looks first. Forms and checks are
Flask-WTF's as before.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from .kept import Kept

#: Sessions whose signed token a process keeps (each web worker its own), oldest out first.
KEPT_MAX = 4096
_KEPT = "uniqu3.csrf_tokens"


def start_from_kept_token() -> None:
    """Before each request of a session that has a CSRF secret: its kept token in `g` (signed
    here the first time). A session without one yet gets it from Flask-WTF when a page first
    shows a token; a login or logout replaces the secret, and the new one has its own token."""
    config = current_app.config
    if config["WTF_CSRF_TIME_LIMIT"] is not None or request.endpoint == "static":
        return
    field = config["WTF_CSRF_FIELD_NAME"]
    raw = session.get(field)
    if not isinstance(raw, str):
        return
    # Per app (its signing key does not change while it runs): the session's secret is the key.
    kept: Kept[str, str] = current_app.extensions[_KEPT]
    token = kept.get(raw)
    if token is None:
        token = kept.keep(raw, generate_csrf())  # signs session[field], i.e. `raw`
    setattr(g, field, token)


def template_token_of(field: str) -> Callable[[], str]:
    """The templates' `csrf_token()`: the request's token straight from `g` once there (a page
    shows it three times), Flask-WTF's generate_csrf otherwise."""

    def csrf_token() -> str:
        token = g.get(field)
        return token if token is not None else generate_csrf()
    return csrf_token


def init_app(app: Flask) -> None:
    """After Flask-WTF's CSRFProtect (which sets the WTF_CSRF_* defaults read here)."""
    app.extensions[_KEPT] = Kept[str, str](KEPT_MAX)
    app.before_request(start_from_kept_token)
    csrf_token = template_token_of(app.config["WTF_CSRF_FIELD_NAME"])
    app.jinja_env.globals["csrf_token"] = csrf_token
    # Flask-WTF's context processor hands the templates its generate_csrf; this one runs after it.
    app.context_processor(lambda: {"csrf_token": csrf_token})
