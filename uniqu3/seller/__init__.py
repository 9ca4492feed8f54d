"""The seller's web pages: « Commandes », the order page and its actions, settings."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .. import errors
    from . import (  # noqa: F401  (they add their routes to bp)
        actions,
        bulk,
        corrections,
        list_cache,
        proof,
        settings,
        tracking_import,
        views,
    )
    from .blueprint import bp

    app.register_blueprint(bp)
    list_cache.init_app(app)
    tracking_import.init_app(app)
    errors.init_app(app)
