"""The `api` blueprint: JSON at /api/v1, authenticated by API key, no cookies, no CSRF."""

from flask import Blueprint

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
