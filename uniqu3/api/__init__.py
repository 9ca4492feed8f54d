"""The marketplace's JSON API (spec sections 4 and 9): order intake, the list and status of
orders, and the workflow's actions."""

from flask import Flask

from ..extensions import csrf
from . import actions, errors, guard, listing, views  # noqa: F401  (registers the routes and handlers on the blueprint)
from .blueprint import bp


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
    errors.init_app(app)
