"""Password hashing with Argon2id (argon2-cffi's recommended parameters), and the rule for a
new password: long enough, and not a common or breached one (ASVS 5.0 V6.2), no composition rule.

Common passwords are what zxcvbn knows: its list of the 30,000 most frequent passwords of the
public breaches, the words and names it ships, and the ways people bend them (repeats,
sequences, keyboard rows, digits or a year added, l33t). A password it estimates guessable in
fewer than a million tries (its score 0 or 1) is refused, as is one made of the seller's own
e-mail address or shop name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()

MIN_LENGTH = 10
MAX_LENGTH = 256
# zxcvbn reads at most 72 characters; a password whose beginning is strong is strong.
_ESTIMATED_LENGTH = 72
# zxcvbn's score 2: more than 10^6 guesses (« somewhat guessable »), the least it accepts here.
_MIN_SCORE = 2


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


def is_common(password: str, context: Iterable[str] = ()) -> bool:
    """Found in the breach lists, or as easily guessed as if it were (see the module's doc)."""
    words = [part for value in context for part in _context_words(value)]
    return int(zxcvbn(password[:_ESTIMATED_LENGTH], user_inputs=words)["score"]) < _MIN_SCORE


def _context_words(value: str) -> list[str]:
    """An e-mail address or a shop name as the words a seller might build a password from."""
    value = value.strip().lower()
    local = value.partition("@")[0] if "@" in value else value
    words = [value, local, *local.replace(".", " ").replace("-", " ").replace("_", " ").split()]
    return [word for word in dict.fromkeys(words) if len(word) >= 3]


def password_problem(password: str, gettext: Callable[..., str] = _french, *,
                     context: Iterable[str] = ()) -> str | None:
    """Why a new password is refused (French, or through the caller's `gettext`), or None.
    `context`: the account's e-mail and shop name, which a password must not be made of."""
    if len(password) < MIN_LENGTH:
        return gettext("Le mot de passe doit contenir au moins %(min)d caractères.", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return gettext("Le mot de passe est trop long (%(max)d caractères au plus).", max=MAX_LENGTH)
    if is_common(password, context):
        return gettext("Ce mot de passe est trop courant ou trop facile à deviner (il figure dans les "
                       "listes de mots de passe divulgués, ou s'en déduit). Choisissez-en un autre : "
                       "une phrase de quelques mots qui ne vont pas ensemble, par exemple.")
    return None
