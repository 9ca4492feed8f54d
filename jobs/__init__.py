"""Background work (RQ): placeholder wired into the app factory."""

from flask import Flask


def init_app(app: Flask) -> None:
    return None
