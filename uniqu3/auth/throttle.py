"""Slowing down password guessing: failed logins are counted per IP + e-mail and per IP.

Only failures count (a seller who logs in often is never blocked). The counters live in
RATELIMIT_STORAGE_URI (Redis in production, so every web process shares them).
"""

from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from ..extensions import limiter

PER_ACCOUNT = "5/minute"
PER_IP = "20/hour"


def ip_and_email() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"{get_remote_address()}|{email}"


def failed(response: Response) -> bool:
    """A login POST that did not end in a redirect (success) is a failure."""
    return response.status_code != 303


def message() -> str:
    return _("Trop de tentatives de connexion. Patientez quelques minutes avant de réessayer.")


per_account = limiter.limit(
    PER_ACCOUNT, key_func=ip_and_email, methods=["POST"], deduct_when=failed, error_message=message,
    scope="login-account",
)
per_ip = limiter.limit(
    PER_IP, key_func=get_remote_address, methods=["POST"], deduct_when=failed, error_message=message,
    scope="login-ip",
)
