"""Corrections a seller needs: a parcel's carrier, tracking or ship date typed wrong, a payment
confirmed by mistake.

The same rules as every action in `actions.py`: the order's row lock first, every check
before any change, a refusal rolls back, history and outbox in the same transaction.
`Workflow` exposes these as its methods.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from sqlalchemy import select

from .. import carriers, search_index
from ..models import EmailKind, Order, OutboxEmail, Shipment, ShipmentStatus
from ..timeutil import as_utc, paris_today
from ..webhooks import events as webhook_events
from . import actions  # a cycle by design: Workflow's methods call these functions
from .errors import InvalidInput, InvalidTransition, NotFound
from .inputs import Actor, ParcelChanges, ParcelDetails
from .rules import PAYMENT_UNDOABLE, can_edit_parcel, can_undo_payment


def again_key(kind: EmailKind, subject: str, order: Order) -> str:
    """The outbox key of an e-mail that may rightly come again about the same order or parcel
    (`subject`): the order's version, which every action bumps, tells each one apart."""
    return f"{kind.value}:{subject}:v{order.version}"


def repeat_key(wf: actions.Workflow, kind: EmailKind, order: Order) -> str | None:
    """The outbox key of an order's e-mail sent once, or once more after a correction (E3 after a
    payment undone, then confirmed again): None (the kind's one key per order) the first time."""
    first = f"{kind.value}:order:{order.id}"
    if wf.session.scalar(select(OutboxEmail.id).where(OutboxEmail.dedupe_key == first)) is None:
        return None
    return again_key(kind, f"order:{order.id}", order)


# ----------------------------------------------------------------------------- payment
def undo_payment(wf: actions.Workflow, order_id: int, *, actor: Actor, reason: str = "") -> actions.Result:
    """« Annuler la confirmation du paiement »: back to awaiting payment while nothing has left
    (E3U to the buyer, who was told the payment was received)."""
    reason = actions._clean(reason, 500)
    order = wf._lock(order_id, PAYMENT_UNDOABLE)
    if order is None:
        current = wf._load(order_id)
        if current.is_cancelled:
            wf._refuse(InvalidTransition(
                "Cette commande est annulée : son paiement ne peut plus être modifié."))
        if not current.is_paid:
            wf._refuse(InvalidTransition(
                "Le paiement de cette commande n'est pas confirmé : rien à annuler."))
    if order is not None and not order.shipments and not can_undo_payment(order):
        wf._refuse(InvalidTransition(
            "Une partie de cette commande a été close : la confirmation du paiement ne peut plus être "
            "annulée."
        ))
    if order is None or not can_undo_payment(order):
        wf._refuse(InvalidTransition(
            "Un colis de cette commande est déjà parti : la confirmation du paiement ne peut plus "
            "être annulée."
        ))
    assert order is not None
    now = wf.clock()
    details: dict[str, Any] = {"paid_at": as_utc(order.paid_at or now).isoformat()}
    if order.payment_note:
        details["note"] = order.payment_note
    if reason:
        details["reason"] = reason
    order.paid_at = None
    order.payment_note = ""
    wf._event(order, "payment_undone", actor, details)
    wf._email(EmailKind.PAYMENT_UNDONE_BUYER, order, data={"note": reason},
              key=again_key(EmailKind.PAYMENT_UNDONE_BUYER, f"order:{order.id}", order))
    wf._set_status(order)
    wf._commit()
    return actions.Result(order)


# ----------------------------------------------------------------------------- a parcel
#: What a correction may change, as the history and the API name it.
_PARCEL_FIELDS = ("carrier", "carrier_label", "tracking_number", "tracking_url", "shipped_on")


def _facts(shipment: Shipment) -> dict[str, str]:
    return {
        "carrier": shipment.carrier,
        "carrier_label": shipment.carrier_label,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url or "",
        "shipped_on": shipment.shipped_on.isoformat(),
    }


def _corrected(shipment: Shipment, changes: ParcelChanges) -> ParcelDetails:
    """The parcel as `changes` leave it: a member left out keeps the parcel's value, read under
    the order's lock (read before it, a correction of another member made meanwhile would be
    written back as it was). The name and tracking page of « Autre transporteur » stay while
    the carrier does (its page follows a new number); another carrier has its own."""
    same = changes.carrier is None or changes.carrier.strip().lower() == shipment.carrier
    kept = ParcelDetails(
        shipment.carrier, shipment.tracking_number, shipment.shipped_on,
        carrier_url=carriers.url_template(shipment.tracking_url, shipment.tracking_number) if same else "",
        carrier_label=shipment.carrier_label if same else "",
    )
    given = {f.name: value for f in fields(changes) if (value := getattr(changes, f.name)) is not None}
    return replace(kept, **given)


def edit_shipment(wf: actions.Workflow, order_id: int, number: int, data: ParcelChanges | ParcelDetails, *,
                  actor: Actor) -> actions.Result:
    """« Modifier le suivi » of parcel n° `number`: carrier, tracking number, ship date, by the
    rules of shipping, while the parcel is not received nor lost. The buyer gets the new
    tracking (E4U); the history keeps the old and new values. The parcel's status, its receipt
    deadline and an open problem stay as they are. The same values again change nothing.
    `ParcelDetails` (the seller's form) gives every member; `ParcelChanges`, those to change."""
    order = wf._lock(order_id, None)
    assert order is not None
    shipment = next((s for s in order.shipments if s.number == number), None)
    if shipment is None:
        wf._refuse(NotFound("Colis introuvable."))
    assert shipment is not None
    if not can_edit_parcel(shipment.status):
        if shipment.status == ShipmentStatus.LOST:
            wf._refuse(InvalidTransition(
                "Ce colis a été déclaré perdu : son suivi ne peut plus être modifié. Ses articles sont à "
                "expédier dans un nouveau colis."
            ))
        wf._refuse(InvalidTransition("Ce colis est déjà reçu : son suivi ne peut plus être modifié."))
    wanted = _corrected(shipment, data.as_changes() if isinstance(data, ParcelDetails) else data)
    now = wf.clock()
    chosen, tracking, url, label = wf._check_carrier(
        order, wanted.carrier, wanted.tracking_number, wanted.carrier_url, wanted.carrier_label,
        parcel=shipment,
    )
    day = wf._check_ship_date(order, wanted.shipped_on, now)
    if shipment.receipt_requested_at is not None and day > paris_today(shipment.receipt_requested_at):
        # Asked to confirm receipt on that day, the parcel had left before it.
        wf._refuse(InvalidInput(
            "La date d'expédition ne peut pas suivre la demande de confirmation de réception (le %(day)s).",
            day=paris_today(shipment.receipt_requested_at).strftime("%d/%m/%Y"), field="shipped_on",
        ))
    before = _facts(shipment)
    shipment.carrier, shipment.carrier_label, shipment.tracking_number = chosen.code, label, tracking
    shipment.tracking_url, shipment.shipped_on = url, day
    after = _facts(shipment)
    if after == before:
        return wf._unchanged(order, shipment)
    changed = [name for name in _PARCEL_FIELDS if before[name] != after[name]]
    order.search_text = search_index.search_text(
        order.reference, order.buyer_name, order.buyer_email, (line.sku for line in order.lines),
        (s.tracking_number for s in order.shipments))
    wf._event(order, "shipment_edited", actor, {
        "shipment_id": shipment.id,
        "number": shipment.number,
        "before": {name: before[name] for name in changed},
        "after": {name: after[name] for name in changed},
    })
    due = shipment.receipt_due_at
    wf._email(EmailKind.PARCEL_UPDATED_BUYER, order, shipment=shipment,
              data={"due_at": as_utc(due).isoformat() if due else None},
              key=again_key(EmailKind.PARCEL_UPDATED_BUYER, f"shipment:{shipment.id}", order))
    wf._webhook(webhook_events.SHIPMENT_UPDATED, order, shipment)
    wf._commit()
    return actions.Result(order, shipment=shipment)
