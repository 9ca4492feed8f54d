"""Registering and deleting the endpoints (the operators' `flask admin` commands call these)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ..models import Seller, WebhookDelivery, WebhookEndpoint
from .addresses import UnsafeUrl, resolve
from .events import EVENT_TYPES

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


class UnknownEventType(Exception):
    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes, the form Standard Webhooks libraries read."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def checked_event_types(names: Iterable[str]) -> list[str]:
    """The types asked, in the spec's order, once each; raises UnknownEventType."""
    wanted = [name.strip() for name in names if name.strip()]
    unknown = sorted({name for name in wanted if name not in EVENT_TYPES})
    if unknown:
        raise UnknownEventType(unknown)
    return [name for name in EVENT_TYPES if name in wanted]


def create_endpoint(session: Session, url: str, *, seller: Seller | None, event_types: Iterable[str],
                    allow_private: bool) -> WebhookEndpoint:
    """Check the URL (shape, https, every address of its host) and the types, then register it.
    Raises UnsafeUrl or UnknownEventType, changing nothing."""
    url = url.strip()
    types = checked_event_types(event_types)
    try:
        resolve(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        if exc.permanent:
            raise
        # A name that does not resolve yet (a receiver being set up) is accepted: every try
        # checks it again.
    endpoint = WebhookEndpoint(url=url, seller_id=seller.id if seller is not None else None,
                               event_types=types, secret=new_secret(), active=True, disabled_reason="")
    session.add(endpoint)
    session.commit()
    return endpoint


def delete_endpoint(session: Session, endpoint_id: int) -> bool:
    """Delete the endpoint and its deliveries (waiting ones are not sent); False if unknown."""
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                    .execution_options(synchronize_session=False))
    result = session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
                             .execution_options(synchronize_session=False))
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]
