"""Placeholder: wired into the app factory; the feature lands in its own change."""

from flask import Flask


def init_app(app: Flask) -> None:
    return None
