"""Security headers on every response; input no database can store is refused at the door."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, abort, request
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map

# PostgreSQL's INTEGER: an id or a number beyond it (in a URL, a cursor, a command's
# argument) names nothing, and must not reach the database (DataError, SQLite's OverflowError).
MAX_URL_INTEGER = 2**31 - 1


def storable_id(value: int) -> bool:
    """An id a row could have: 1 … MAX_URL_INTEGER."""
    return 0 < value <= MAX_URL_INTEGER


class BoundedInteger(IntegerConverter):
    """`<int:…>` in every route, up to MAX_URL_INTEGER (beyond it: 404, not a database error)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_URL_INTEGER)
        super().__init__(map, *args, **kwargs)


def _has_nul(values: MultiDict[str, str]) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values.getlist(key)) for key in values)


def refuse_nul_characters() -> None:
    """A NUL character is never text a person typed, and PostgreSQL cannot store or even
    compare it: 400 for any in the path, the query string or a form, before a view runs.
    (The JSON API checks its own input, field by field, and keeps its own answers.)"""
    if request.path.startswith("/api/"):
        return
    if "\x00" in request.path or _has_nul(request.args) or (
            request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
            and _has_nul(request.form)):
        abort(400)


CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


def init_app(app: Flask) -> None:
    """Before the features register their routes (the converter applies to them)."""
    app.url_map.converters["int"] = BoundedInteger
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul_characters)

    defaults = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # Buyer links carry a token in the URL: never send it to another site. (Same-origin
        # referrers stay, as Flask-WTF checks them on HTTPS POSTs.)
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if app.config.get("SESSION_COOKIE_SECURE"):
        defaults.append(("Strict-Transport-Security", "max-age=31536000"))
    lowered = [(name.lower(), name, value) for name, value in defaults]

    @app.after_request
    def _headers(response: Response) -> Response:
        """Each header a view did not set itself. (Headers.setdefault looks a name up by
        raising and catching an exception: six of them on every answer.)"""
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        for key, name, value in lowered:
            if key not in present:
                headers.add(name, value)
        return response
