"""Seller login: log in, log out, idle timeout, session invalidation, throttled guessing."""

from __future__ import annotations

from flask import Flask

from . import session, throttle


def init_app(app: Flask) -> None:
    from . import reset  # noqa: F401  (adds its routes to bp)
    from .views import bp

    session.init_app(app)
    throttle.init_app(app)
    app.register_blueprint(bp)
