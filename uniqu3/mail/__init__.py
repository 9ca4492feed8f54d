"""E-mails: rendering E1–E8 and delivering the outbox."""

from .delivery import DeliveryReport, deliver

__all__ = ["DeliveryReport", "deliver"]
