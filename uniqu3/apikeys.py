"""API keys: created by an operator, shown once, stored as a SHA-256 only, revocable.

A key reads `uq_live_<prefix>_<secret>`. The prefix (10 characters) is stored in clear to find
the row and to name the key in lists; the whole key is only kept as its SHA-256, which is
enough for a random 256-bit secret (a slow hash protects guessable passwords, not these).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from .models import ApiKey, Seller
from .security import storable_id

SCHEME = "uq_live_"
PREFIX_LENGTH = 10
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_KEY = re.compile(rf"{SCHEME}([a-z0-9]{{{PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{32,128}})")
#: last_used_at is written at most once a minute per key, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


#: The key a request presents, with its seller's address. Plain columns, not ORM objects, and
#: built once: this runs on every API request.
_BY_PREFIX = (
    select(ApiKey.id, ApiKey.name, ApiKey.key_hash, ApiKey.seller_id, ApiKey.revoked_at,
           ApiKey.last_used_at, Seller.email, Seller.active)
    .outerjoin(Seller, Seller.id == ApiKey.seller_id)
    .where(ApiKey.prefix == bindparam("prefix"))
)


@dataclass(frozen=True)
class ApiClient:
    """Who a request is authenticated as: plain values, usable after the session commits."""

    key_id: int
    name: str
    seller_id: int | None
    seller_email: str | None
    # A key bound to a deactivated seller acts for nobody: it reads no order (the marketplace's
    # key still does: a deactivated seller's orders stay the marketplace's record).
    seller_active: bool = True

    def reads_nothing(self) -> bool:
        return self.seller_id is not None and not self.seller_active


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def display_prefix(key: ApiKey) -> str:
    return f"{SCHEME}{key.prefix}…"


def create_key(
    session: Session, *, name: str, seller: Seller | None = None, now: datetime
) -> tuple[ApiKey, str]:
    """A new key row and the key itself (to show once: it cannot be found again)."""
    while True:
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    raw = f"{SCHEME}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=hash_key(raw),
        seller_id=seller.id if seller is not None else None,
        created_at=now,
    )
    session.add(key)
    session.commit()
    return key, raw


def authenticate(session: Session, raw: str, *, now: datetime) -> ApiClient | None:
    """The client a presented key belongs to, or None (malformed, unknown or revoked).

    Records the time of use, at most once a minute per key (one conditional UPDATE).
    """
    match = _KEY.fullmatch(raw)
    if match is None:
        return None
    row = session.execute(_BY_PREFIX, {"prefix": match.group(1)}).one_or_none()
    if row is None or not hmac.compare_digest(hash_key(raw), row.key_hash):
        return None
    if row.revoked_at is not None:
        return None
    client = ApiClient(key_id=row.id, name=row.name, seller_id=row.seller_id, seller_email=row.email,
                       seller_active=row.seller_id is None or bool(row.active))
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == row.id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_PRECISION),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return client


def find_key(session: Session, prefix_or_id: str) -> ApiKey | None:
    """A key by its id, its prefix, its displayed prefix or even the whole key."""
    text = prefix_or_id.strip().rstrip("…")
    if text.isascii() and text.isdigit():
        # Ids beyond the column's range name no key (and must not reach the database).
        return session.get(ApiKey, int(text)) if storable_id(int(text)) else None
    if text.startswith(SCHEME):
        text = text[len(SCHEME):].split("_", 1)[0]
    if not text:
        return None
    return session.scalar(select(ApiKey).where(ApiKey.prefix == text))


def revoke_key(session: Session, key: ApiKey, *, now: datetime) -> bool:
    """Revoke; False when it already was (the first revocation time is kept)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    session.commit()
    return True
