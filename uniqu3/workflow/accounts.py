"""The seller's account: the « Mot de passe oublié » e-mail and a new password.

As for orders, each action writes its change and its e-mails (outbox rows, with no order) in
one transaction, then announces the e-mails once committed. No Flask request here.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ..database import rows_matched
from ..models import EmailKind, OutboxEmail, Seller
from ..timeutil import utcnow
from . import rules, signals


@dataclass(frozen=True)
class SetupStep:
    """One item of the first-login checklist: `field` is the settings field that does it."""

    field: str
    done: bool


def setup_checklist(seller: Seller) -> list[SetupStep]:
    """What a new seller sets up before their first orders; empty once everything is done.

    The payment instructions go in the buyer's E2 (without them, E2 says the seller will send
    them), the notification e-mail receives the new orders (the login address until set), the
    return address is printed on the preparation slip."""
    steps = [
        SetupStep("payment_instructions", bool((seller.payment_instructions or "").strip())),
        SetupStep("notification_email", bool(seller.notification_email)),
        SetupStep("return_address", bool((seller.return_address or "").strip())),
    ]
    return [] if all(step.done for step in steps) else steps


def password_fingerprint(password_hash: str) -> str:
    """What a reset link is bound to: changes whenever the password does (the hash is salted)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


class Accounts:
    def __init__(self, session: Session, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock

    def active_seller(self, email: str) -> Seller | None:
        email = email.strip().lower()
        if not email or len(email) > rules.EMAIL_MAX:
            return None
        return self.session.scalar(
            select(Seller).where(func.lower(Seller.email) == email, Seller.active.is_(True)))

    def request_password_reset(self, email: str) -> bool:
        """E-mail a reset link to the active seller with this login address; False (and nothing
        written) when there is none. Callers answer the same either way."""
        seller = self.active_seller(email)
        if seller is None:
            self.session.rollback()
            return False
        row_id = self._email(EmailKind.PASSWORD_RESET, seller, f"{uuid.uuid4().hex}",
                             {"fingerprint": password_fingerprint(seller.password_hash)})
        self._commit([row_id])
        return True

    def seller_for_reset(self, seller_id: int, fingerprint: str) -> Seller | None:
        """The seller a reset link names, if the link still applies (same password, active)."""
        seller = self.session.get(Seller, seller_id)
        if seller is None or not seller.active:
            return None
        if password_fingerprint(seller.password_hash) != fingerprint:
            return None  # used already, or the password changed since
        return seller

    def set_password(self, seller: Seller, *, expected_hash: str, new_hash: str, how: str) -> bool:
        """The new password, every session of the seller ended, and « votre mot de passe a été
        changé » to the login address. Only if the password is still `expected_hash`: of two
        uses of one reset link at once, one wins. `how`: "reset" or "settings"."""
        done = rows_matched(self.session.execute(
            update(Seller)
            .where(Seller.id == seller.id, Seller.password_hash == expected_hash, Seller.active.is_(True))
            .values(password_hash=new_hash, session_version=Seller.session_version + 1)
            .execution_options(synchronize_session=False)
        ))
        if done != 1:
            self.session.rollback()
            return False
        self.session.flush()
        self.session.refresh(seller, ["password_hash", "session_version"])
        row_id = self._email(EmailKind.PASSWORD_CHANGED, seller, f"v{seller.session_version}", {"how": how})
        self._commit([row_id])
        return True

    def _email(self, kind: EmailKind, seller: Seller, unique: str, data: dict[str, Any]) -> int:
        table = OutboxEmail.__table__
        now = self.clock()
        row_id = self.session.scalar(insert(table).returning(table.c.id), dict(
            dedupe_key=f"{kind.value}:seller:{seller.id}:{unique}",
            kind=kind.value,
            order_id=None,
            to_email=seller.email,  # the login address: it is the account's, whoever reads orders
            to_name=seller.shop_name,
            recipient_role="seller",
            locale=seller.locale or "fr",
            data={"seller_id": seller.id, "requested_at": now.isoformat(), **data},
            next_attempt_at=now,
            created_at=now,
        ))
        return int(row_id)

    def _commit(self, emails: list[int]) -> None:
        self.session.commit()
        signals.emails_queued.send(self, ids=emails)
