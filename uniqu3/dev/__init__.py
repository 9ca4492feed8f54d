"""Development helpers: the mailbox that shows the e-mails when no SMTP server is configured."""

from flask import Flask

from .mailbox import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
