"""What the workflow announces once its transaction has committed.

The jobs layer listens: it delivers the e-mails and the webhooks, and schedules the automatic receipt.
Receivers must never raise into the workflow's caller: the action is already committed.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: kwargs: ids (list of OutboxEmail ids)
emails_queued = _signals.signal("emails-queued")
#: kwargs: ids (list of WebhookDelivery ids)
webhooks_queued = _signals.signal("webhooks-queued")
#: kwargs: shipment_id, due_at (aware UTC datetime)
receipt_requested = _signals.signal("receipt-requested")
#: kwargs: shipment_id, at (aware UTC datetime): the reminder before the deadline is due then
reminder_scheduled = _signals.signal("reminder-scheduled")
