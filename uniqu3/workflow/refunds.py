"""Money given back: what an order owes its buyer, and « Remboursement effectué ».

One place for the amounts (every page, e-mail, export and the API read `money_of`):
- nothing is owed until the payment is confirmed;
- a cancelled paid order owes everything paid: its items and its shipping costs;
- otherwise, the closed quantities (« Clore le reste ») at their unit price, and the items of
  the parcels declared lost (« Colis perdu ») until they are shipped again: the buyer paid
  for them and holds neither them nor their money. Of each line, as many of the units still
  to ship as were lost are owed (`lost_owed_quantity`); shipping them again ends that,
  closing them keeps them owed (as closed).
Refunds add up and never exceed what is owed, so never what was paid: items refunded as lost
are not shipped again (`check_shipping`; the seller closes them instead).
The amount still to refund is stored on the order (`Order.refund_due_cents`) by every
action, in its transaction.

The same rules as every action in `actions.py`; `Workflow` exposes `record_refund`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from ..models import EmailKind, Order, OrderLine, Refund, Shipment, ShipmentStatus
from ..money import Amount
from ..webhooks import events as webhook_events
from . import actions  # a cycle by design: Workflow's methods call these functions
from .errors import InvalidInput, InvalidTransition
from .inputs import Actor
from .loading import loaded_refunds

#: How a seller gives money back, in the form's order (labels: uniqu3.labels.REFUND_METHODS).
METHODS: tuple[str, ...] = ("transfer", "paypal", "card", "cheque", "cash", "other")
REFERENCE_MAX = 100
NOTE_MAX = 500


def lost_quantities(shipments: Iterable[Shipment]) -> dict[int, int]:
    """The units of each order line (by id) in the parcels declared lost."""
    lost: dict[int, int] = defaultdict(int)
    for shipment in shipments:
        if shipment.status == ShipmentStatus.LOST:
            for item in shipment.lines:
                lost[item.order_line_id] += item.quantity
    return lost


def lost_owed_quantity(line: OrderLine, lost: int) -> int:
    """Of a line with `lost` units in lost parcels, those owed back: the lost ones not shipped
    again nor closed, i.e. as many of the units still to ship as were lost."""
    return min(lost, line.remaining)


@dataclass(frozen=True)
class Owed:
    """What must be given back in all, by cause, in cents."""

    closed: int = 0  # closed quantities (« Clore le reste »)
    lost: int = 0  # items of lost parcels not shipped again
    cancelled: int = 0  # a cancelled paid order: everything paid, shipping included

    @property
    def total(self) -> int:
        return self.closed + self.lost + self.cancelled


def owed_of(order: Order, lines: Iterable[OrderLine] | None = None,
            shipments: Iterable[Shipment] | None = None) -> Owed:
    """What the buyer must get back (refunded or not); `lines` and `shipments` (with their
    lines) default to the order's."""
    if order.paid_at is None:
        return Owed()
    if order.cancelled_at is not None:
        return Owed(cancelled=order.total_cents)
    chosen = list(order.lines if lines is None else lines)
    lost = lost_quantities(order.shipments if shipments is None else shipments) if any(
        line.remaining for line in chosen) else {}
    return Owed(
        closed=sum(line.closed_quantity * line.unit_price_cents for line in chosen),
        lost=sum(lost_owed_quantity(line, lost.get(line.id, 0)) * line.unit_price_cents for line in chosen),
    )


def owed_back_cents(order: Order, lines: Iterable[OrderLine] | None = None,
                    shipments: Iterable[Shipment] | None = None) -> int:
    """What the buyer must get back in all (refunded or not): `owed_of(…).total`."""
    return owed_of(order, lines, shipments).total


def refund_due_cents(owed: int, refunded: int) -> int:
    """What is still to give back."""
    return max(0, owed - refunded)


@dataclass(frozen=True)
class Money:
    """An order's money as every reader shows it, in cents."""

    total_cents: int  # items + shipping
    shipping_cents: int
    paid_cents: int  # what the buyer paid (0 until confirmed)
    owed_cents: int  # what must be given back in all
    owed_items_cents: int  # of which: items
    owed_shipping_cents: int  # of which: shipping costs (a cancelled order's)
    owed_lost_cents: int  # of which: items of lost parcels, until shipped again
    refunded_cents: int
    due_cents: int  # still to give back

    @property
    def concerned(self) -> bool:
        """Anything to show about refunds: owed, or refunded."""
        return self.owed_cents > 0 or self.refunded_cents > 0


def money_of(order: Order, refunds: Iterable[Refund] | None = None,
             lines: Iterable[OrderLine] | None = None,
             shipments: Iterable[Shipment] | None = None) -> Money:
    """The order's money; `refunds`, `lines` and `shipments` default to the order's (`refunds`
    loaded with it: `load_order(…, refunds=True)`)."""
    refunded = sum(r.amount_cents for r in (order.refunds if refunds is None else refunds))
    owed = owed_of(order, lines, shipments)
    owed_shipping = order.shipping_cents if owed.cancelled else 0
    return Money(
        total_cents=order.total_cents, shipping_cents=order.shipping_cents,
        paid_cents=order.total_cents if order.paid_at is not None else 0,
        owed_cents=owed.total, owed_items_cents=owed.total - owed_shipping, owed_shipping_cents=owed_shipping,
        owed_lost_cents=owed.lost, refunded_cents=refunded, due_cents=refund_due_cents(owed.total, refunded),
    )


def refunded_cents(wf: actions.Workflow, order_id: int) -> int:
    return int(wf.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(Refund.order_id == order_id)) or 0)


def check_shipping(wf: actions.Workflow, order: Order) -> None:
    """Refuse a parcel (its quantities already counted as shipped on `order`) that would leave
    less owed than was refunded: lost items already refunded are not sent again."""
    # Loaded with the order under its lock, they are current: a parcel adds none.
    refunded = sum(r.amount_cents for r in loaded_refunds(wf.session, order))
    if refunded and owed_back_cents(order) < refunded:
        wf._refuse(InvalidInput(
            "Le client a déjà été remboursé de %(refunded)s pour les articles perdus : ils ne peuvent plus "
            "être expédiés. Retirez-les de ce qui reste à expédier avec « Clore le reste ».",
            field="lines", refunded=Amount(refunded, order.currency)))


def due_now(wf: actions.Workflow, order: Order) -> int:
    """What `Order.refund_due_cents` must now be (every action's `_set_status` stores it).
    Nothing owed means nothing refunded: no query then."""
    owed = owed_back_cents(order)
    return refund_due_cents(owed, refunded_cents(wf, order.id)) if owed else 0


def record_refund(wf: actions.Workflow, order_id: int, *, actor: Actor, amount_cents: int, method: str,
                  reference: str = "", note: str = "", request_key: str | None = None) -> actions.Result:
    """« Remboursement effectué »: `amount_cents` (1 … what is still due) given back by
    `method` (one of METHODS), with the payment's reference and a note (R1 to the buyer).
    `request_key` (the form's one-time key) makes a double submit record it once."""
    method = (method or "").strip()
    reference = actions._clean(reference, REFERENCE_MAX)
    note = actions._clean(note, NOTE_MAX)
    key = (request_key or "").strip()[:64] or None
    order = wf._lock(order_id, None)
    assert order is not None
    if key is not None and wf.session.scalar(
            select(Refund.id).where(Refund.order_id == order_id, Refund.request_key == key)) is not None:
        return wf._unchanged(order)
    owed = owed_back_cents(order)
    refunded = refunded_cents(wf, order_id)
    due = refund_due_cents(owed, refunded)
    if not order.is_paid:
        wf._refuse(InvalidTransition(
            "Le paiement de cette commande n'est pas confirmé : rien n'est à rembourser."))
    if due == 0:
        if refunded:
            wf._refuse(InvalidTransition("Tout ce qui était à rembourser l'est déjà : %(refunded)s.",
                                         refunded=Amount(refunded, order.currency)))
        wf._refuse(InvalidTransition(
            "Rien n'est à rembourser sur cette commande : annulez-la, ou indiquez d'abord avec « Clore le "
            "reste » les articles que vous n'expédierez pas."))
    if amount_cents <= 0:
        wf._refuse(InvalidInput("Le montant remboursé doit être supérieur à 0.", field="amount"))
    if amount_cents > due:
        wf._refuse(InvalidInput(
            "Le montant dépasse ce qui reste à rembourser : %(due)s au plus.", field="amount",
            due=Amount(due, order.currency)))
    if method not in METHODS:
        wf._refuse(InvalidInput("Choisissez le moyen de remboursement dans la liste.", field="method"))
    now = wf.clock()
    table = Refund.__table__
    refund_id = wf.session.scalar(insert(table).returning(table.c.id), dict(
        order_id=order.id, amount_cents=amount_cents, method=method, reference=reference, note=note,
        request_key=key, recorded_at=now, actor=actor.kind, actor_label=actor.label,
    ))
    wf._objects_behind()
    left = due - amount_cents
    wf._event(order, "refund_recorded", actor, {
        "refund_id": refund_id, "amount_cents": amount_cents, "method": method, "reference": reference,
        "note": note, "refunded_cents": refunded + amount_cents, "due_cents": left,
    })
    wf._email(EmailKind.REFUND_RECORDED_BUYER, order, data={
        "amount_cents": amount_cents, "method": method, "reference": reference,
        "refunded_cents": refunded + amount_cents, "due_cents": left,
    }, key=f"{EmailKind.REFUND_RECORDED_BUYER.value}:refund:{refund_id or uuid.uuid4().hex}")
    wf._set_status(order)
    wf._webhook(webhook_events.REFUND_RECORDED, order)
    wf._commit()
    return actions.Result(order)
