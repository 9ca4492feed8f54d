"""E-mails: rendering E1–E8 and delivering the outbox."""

from .delivery import DeliveryReport, backoff, deliver, retry, retry_failed
from .render import MissingData, RenderedEmail, render_email

__all__ = [
    "DeliveryReport",
    "MissingData",
    "RenderedEmail",
    "backoff",
    "deliver",
    "render_email",
    "retry",
    "retry_failed",
]
