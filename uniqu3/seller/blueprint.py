"""The seller's pages: every route needs a logged-in seller and shows only their orders."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user

from ..extensions import login_manager
from ..models import Seller

bp = Blueprint("seller", __name__)


def current_seller() -> Seller:
    """The logged-in seller itself: each attribute read through Flask-Login's proxy looks the
    user up again."""
    return current_user._get_current_object()


@bp.before_request
def _require_seller() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def _private(response: Response) -> Response:
    # Buyers' addresses: never kept by a shared computer's cache once the seller has left.
    response.headers.setdefault("Cache-Control", "no-store")
    # Flask-WTF checks the Referer of HTTPS posts: send it, but to this site only.
    response.headers["Referrer-Policy"] = "same-origin"
    return response
