"""The proof of receipt of a parcel: the facts a seller can show, read in one place.

The order page, the printable « Preuve de réception », the API's `receipt` object and the
CSV export all take their facts from here, so they can never tell different stories. The
facts are the parcel's own columns (times, the buyer's IP address and browser) and the
e-mails the workflow wrote about it: the requests (E5, with their address and Message-ID),
the reminders, and the seller's notices of the buyer's problem reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from .models import EmailKind, OutboxEmail, ReceivedBy, Shipment, ShipmentStatus
from .workflow.loading import AnySession

#: The e-mails that are part of the proof: the requests to confirm, the reminders, and the
#: seller's notices of the buyer's problem reports.
PROOF_EMAIL_KINDS = (EmailKind.CONFIRM_RECEIPT_BUYER, EmailKind.RECEIPT_REMINDER_BUYER,
                     EmailKind.PROBLEM_REPORTED_SELLER)


@dataclass(frozen=True)
class ProofEmail:
    """One e-mail sent to the buyer about the parcel, as the outbox recorded it."""

    kind: str
    to_email: str
    written_at: datetime  # in the transaction of the action that caused it
    sent_at: datetime | None  # handed to the mail server (None: not yet, or failed)
    message_id: str | None
    status: str


@dataclass(frozen=True)
class ReceiptProof:
    """How a parcel was received, and the evidence of it."""

    number: int
    status: str
    received_by: str | None  # "buyer", "auto" or None while not received
    received_at: datetime | None
    ip: str | None
    user_agent: str | None
    requested_at: datetime | None
    due_at: datetime | None
    requests: tuple[ProofEmail, ...]  # every request (E5) of the parcel, oldest first
    reminders: tuple[ProofEmail, ...]  # every reminder before a deadline, oldest first
    reminded_at: datetime | None  # the reminder of the current deadline
    problem_reported: bool  # the buyer reported a problem with it at least once

    @property
    def received(self) -> bool:
        return self.status == ShipmentStatus.RECEIVED

    @property
    def by_buyer(self) -> bool:
        return self.received and self.received_by == ReceivedBy.BUYER

    @property
    def automatic(self) -> bool:
        return self.received and self.received_by == ReceivedBy.AUTO

    @property
    def request(self) -> ProofEmail | None:
        """The request the outcome answers: the latest one."""
        return self.requests[-1] if self.requests else None

    @property
    def request_email_message_id(self) -> str | None:
        return self.request.message_id if self.request else None


#: Built once: every API answer with a parcel asks.
_PROOF_EMAILS = (
    select(OutboxEmail.shipment_id, OutboxEmail.kind, OutboxEmail.to_email, OutboxEmail.created_at,
           OutboxEmail.sent_at, OutboxEmail.message_id, OutboxEmail.status)
    .where(OutboxEmail.shipment_id.in_(bindparam("ids", expanding=True)),
           OutboxEmail.kind.in_([str(k) for k in PROOF_EMAIL_KINDS]))
    .order_by(OutboxEmail.shipment_id, OutboxEmail.id)
)


def proof_emails(session: AnySession, shipment_ids: Iterable[int]) -> dict[int, list[ProofEmail]]:
    """The proof's e-mails of these parcels, in one query (the columns only, never the bodies)."""
    ids = sorted(set(shipment_ids))
    found: dict[int, list[ProofEmail]] = defaultdict(list)
    if not ids:
        return found
    rows = session.execute(_PROOF_EMAILS, {"ids": ids})
    for shipment_id, kind, to_email, written_at, sent_at, message_id, status in rows:
        assert shipment_id is not None  # the query asks for these parcels only
        found[shipment_id].append(ProofEmail(kind, to_email, written_at, sent_at, message_id, status))
    return found


def build(shipment: Shipment, emails: Iterable[ProofEmail]) -> ReceiptProof:
    emails = list(emails)
    by_buyer = shipment.received_by == ReceivedBy.BUYER
    return ReceiptProof(
        number=shipment.number,
        status=shipment.status,
        received_by=shipment.received_by,
        received_at=shipment.received_at,
        ip=(shipment.proof_ip or None) if by_buyer else None,
        user_agent=(shipment.proof_user_agent or None) if by_buyer else None,
        requested_at=shipment.receipt_requested_at,
        due_at=shipment.receipt_due_at,
        requests=tuple(e for e in emails if e.kind == EmailKind.CONFIRM_RECEIPT_BUYER),
        reminders=tuple(e for e in emails if e.kind == EmailKind.RECEIPT_REMINDER_BUYER),
        reminded_at=shipment.reminded_at,
        problem_reported=any(e.kind == EmailKind.PROBLEM_REPORTED_SELLER for e in emails),
    )


def proofs(session: AnySession, shipments: Iterable[Shipment]) -> dict[int, ReceiptProof]:
    """Each parcel's proof, by parcel id; one query for any number of parcels (none if none
    may have a proof e-mail)."""
    shipments = list(shipments)
    # A parcel still `shipped` was never asked to confirm nor reported (both move it on, and
    # nothing moves a parcel back): no e-mail of its proof exists, none is looked for.
    emails = proof_emails(session, [s.id for s in shipments if s.status != ShipmentStatus.SHIPPED])
    return {s.id: build(s, emails.get(s.id, ())) for s in shipments}
