"""The marketplace's JSON API (spec section 4): order intake and order status."""

from flask import Flask

from ..extensions import csrf
from . import errors, views  # noqa: F401  (registers the routes and handlers on the blueprint)
from .blueprint import bp


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
    errors.init_app(app)
