"""What the workflow announces once its transaction has committed.

The jobs layer listens: it delivers the e-mails and the webhooks, and schedules the automatic receipt.
Receivers must never raise into the workflow's caller: the action is already committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
#: no kwargs: sent before, then after, the signals above of one commit (`one_commit`)
commit_announcing = _signals.signal("commit-announcing")
commit_announced = _signals.signal("commit-announced")


@contextmanager
def one_commit(sender: object) -> Iterator[None]:
    """The signals of one commit, sent inside: a receiver may gather the work they ask for and
    do it all at `commit_announced` (the jobs layer: one Redis round trip for the commit's jobs)."""
    commit_announcing.send(sender)
    try:
        yield
    finally:
        commit_announced.send(sender)
