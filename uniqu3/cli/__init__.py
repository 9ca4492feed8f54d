"""The operators' commands: `flask --app wsgi admin …` (a CLI blueprint)."""

from flask import Flask

from . import (  # noqa: F401  (registers the commands)
    click_french,
    demo,
    keys,
    orders,
    outbox,
    sellers,
    tracking,
    webhooks,
)
from .group import bp


def init_app(app: Flask) -> None:
    click_french.install()
    app.register_blueprint(bp)
