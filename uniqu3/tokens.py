"""Signed buyer links (itsdangerous): one salt per purpose, an expiry, key rotation.

A token names one thing (an order, a shipment) for one purpose; a token made for one
purpose never opens another, and a token signed with a key still listed in
SECRET_KEY_FALLBACKS keeps working after the key changed.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

ORDER_SALT = "order"
RECEIPT_SALT = "confirm-receipt"
PASSWORD_RESET_SALT = "password-reset"

ORDER_MAX_AGE = 400 * 24 * 3600  # a buyer may look back at an order for more than a year
RECEIPT_MAX_AGE = 120 * 24 * 3600
PASSWORD_RESET_MAX_AGE = 3600  # « Mot de passe oublié »: one hour


class InvalidToken(Exception):
    """Tampered, expired or made for another purpose; never says which."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"]]
    # itsdangerous signs with the last key and accepts all of them.
    return URLSafeTimedSerializer(keys, salt=salt)


def _dumps(salt: str, value: int) -> str:
    return str(_serializer(salt).dumps(value))


def _loads(salt: str, token: str, max_age: int) -> int:
    try:
        value = _serializer(salt).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature) as exc:
        raise InvalidToken from exc
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidToken
    return value


def order_token(order_id: int) -> str:
    return _dumps(ORDER_SALT, order_id)


def order_id_from_token(token: str) -> int:
    return _loads(ORDER_SALT, token, ORDER_MAX_AGE)


def receipt_token(shipment_id: int) -> str:
    return _dumps(RECEIPT_SALT, shipment_id)


def shipment_id_from_token(token: str) -> int:
    return _loads(RECEIPT_SALT, token, RECEIPT_MAX_AGE)


def password_reset_token(seller_id: int, fingerprint: str) -> str:
    """Names a seller and their password as it was (its fingerprint): once the password has
    changed, by this link or otherwise, the link opens nothing (one use)."""
    return str(_serializer(PASSWORD_RESET_SALT).dumps([seller_id, fingerprint]))


def password_reset_from_token(token: str) -> tuple[int, str]:
    try:
        value = _serializer(PASSWORD_RESET_SALT).loads(token, max_age=PASSWORD_RESET_MAX_AGE)
    except (SignatureExpired, BadSignature) as exc:
        raise InvalidToken from exc
    if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int)
            or isinstance(value[0], bool) or not isinstance(value[1], str)):
        raise InvalidToken
    return value[0], value[1]
