"""Flask's signed session cookie, its signature checked once per process for each cookie.

Flask checks a session cookie on every request: a serializer built, two HMACs, zlib and JSON,
about a twentieth of a rendered « Commandes » (bench/RESULTS.md). A signed-in seller sends the
same cookie until the session changes (once a minute at most: the idle stamp), so each process
keeps what a cookie it has checked holds, under the cookie's exact text, with the time it was
signed: a cookie whose text differs by one character is checked as a new one, and a kept
cookie's age is checked on each request, as Flask does, so it expires at the same moment.
Everything else (the cookie written back, its options) is Flask's own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from .kept import Kept

#: Cookies whose content a process keeps (each web worker its own), oldest out first.
KEPT_MAX = 4096
#: Values a kept session may hold: the session handed to a request is a copy of the kept one,
#: so a value changed in place (a list of messages to flash) must not be kept.
_IMMUTABLE = (str, int, float, bool, type(None))


class KeptSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._kept: Kept[str, tuple[int, dict[str, Any]]] = Kept(KEPT_MAX)
        self._keys: object = None  # the signing keys the kept cookies were checked with
        # Flask's serializer for those keys, and its signer (whose clock ages a kept cookie).
        self._serializer: tuple[URLSafeTimedSerializer, TimestampSigner] | None = None

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        serializer, signer = self._serializer_for(app)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        kept = self._kept.get(value)
        if kept is not None:
            signed_at, data = kept
            # itsdangerous's rule on its clock: neither older than max_age nor signed later.
            if 0 <= signer.get_timestamp() - signed_at <= max_age:
                return self.session_class(data)
            return self.session_class()
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(v, _IMMUTABLE) for v in data.values()):
            self._kept.keep(value, (int(signed.timestamp()), data))
        return self.session_class(data)

    def _serializer_for(self, app: Flask) -> tuple[URLSafeTimedSerializer, TimestampSigner]:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys == self._keys and self._serializer is not None:
            return self._serializer
        # New keys (tests rotate them): every cookie is checked again with them.
        serializer = self.get_signing_serializer(app)
        assert serializer is not None  # there is a secret key
        self._kept.clear()
        signer = serializer.make_signer()
        assert isinstance(signer, TimestampSigner)  # a timed serializer's
        checked = (serializer, signer)
        self._serializer, self._keys = checked, keys
        return checked


def init_app(app: Flask) -> None:
    app.session_interface = KeptSessionInterface()
