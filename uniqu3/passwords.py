"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

MIN_LENGTH = 10
MAX_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _french(message: str, **params: Any) -> str:
    return message % params if params else message


def password_problem(password: str, gettext: Callable[..., str] = _french) -> str | None:
    """Why a new password is refused (French, or through the caller's `gettext`), or None."""
    if len(password) < MIN_LENGTH:
        return gettext("Le mot de passe doit contenir au moins %(min)d caractères.", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return gettext("Le mot de passe est trop long (%(max)d caractères au plus).", max=MAX_LENGTH)
    return None
