"""The seller's web pages: « Commandes », the order page and its actions, settings."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .. import errors
    from . import actions, bulk, list_cache, proof, settings, views  # noqa: F401  (they add their routes to bp)
    from .blueprint import bp

    app.register_blueprint(bp)
    list_cache.init_app(app)
    errors.init_app(app)
