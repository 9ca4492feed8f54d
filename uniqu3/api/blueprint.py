"""The `api` blueprint: JSON at /api/v1, authenticated by API key, no cookies, no CSRF."""

from typing import Any

from flask import Blueprint, request

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)


def state() -> dict[str, Any]:
    """What this request has learnt so far (its client, its body…). Not `g`: the app
    context, and so `g`, may outlive one request (a command or a test serving several)."""
    found: dict[str, Any] = request.environ.setdefault("uniqu3.api", {})
    return found
