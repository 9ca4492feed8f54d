"""The buyer's pages, opened from signed links in e-mails: no account, no login."""

from flask import Flask

from .views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
