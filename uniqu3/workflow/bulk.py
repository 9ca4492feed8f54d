"""Acting on many orders at once: the seller's selection in « Commandes ».

Each order goes through the same workflow action as its own page (`Workflow.confirm_payment`,
`Workflow.request_receipt`), one after the other, each in its own transaction: one order's
refusal leaves the others alone, and the summary gives every reference its outcome. A repeat
(a double submit, a reload) finds the work done and says « déjà fait ».
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Order, Shipment, ShipmentStatus
from .actions import Workflow
from .errors import InvalidInput, InvalidTransition, NotFound, WorkflowError
from .inputs import Actor

#: Orders one action may name: a page of « Commandes » is 25, four pages fit.
MAX_ORDERS = 100
#: Longer than any reference the workflow makes (UQ-2026-000001): not one, refused unread.
_REFERENCE_MAX = 40


class Outcome(StrEnum):
    DONE = "done"
    ALREADY = "already"  # the work was done before: nothing changed
    REFUSED = "refused"


@dataclass(frozen=True)
class OrderOutcome:
    """What the action did to one order. `parcels`: the parcels it acted on (receipt)."""

    reference: str
    outcome: Outcome
    error: WorkflowError | None = None
    parcels: int = 0


@dataclass(frozen=True)
class Selected:
    reference: str
    order_id: int


def clean_references(raw: Iterable[str]) -> list[str]:
    """The references as sent, trimmed, each once, in their order."""
    seen: dict[str, None] = {}
    for value in raw:
        text = value.strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def select_orders(session: Session, seller_id: int, references: Sequence[str]) -> list[Selected]:
    """The seller's orders with these references, in the order given.

    Refuses an empty selection or one over MAX_ORDERS (`InvalidInput`), and any reference
    that is not one of this seller's orders (`NotFound`, as for an unknown one: another
    seller's order is never confirmed to exist).
    """
    if not references:
        raise InvalidInput("Sélectionnez au moins une commande.", field="ref")
    if len(references) > MAX_ORDERS:
        raise InvalidInput(
            "%(max)s commandes au plus par action : %(count)s sont sélectionnées.",
            max=MAX_ORDERS, count=len(references), field="ref")
    if any(len(ref) > _REFERENCE_MAX for ref in references):
        raise NotFound("Commande introuvable.")
    found = {reference: order_id for reference, order_id in session.execute(
        select(Order.reference, Order.id)
        .where(Order.seller_id == seller_id, Order.reference.in_(references)))}
    session.rollback()  # a read only: each action then opens its own transaction
    if len(found) != len(references):
        raise NotFound("Commande introuvable.")
    return [Selected(ref, found[ref]) for ref in references]


def confirm_payments(workflow: Workflow, selected: Sequence[Selected], *, actor: Actor) -> list[OrderOutcome]:
    """« Confirmer les paiements »: `Workflow.confirm_payment` on each order."""
    outcomes: list[OrderOutcome] = []
    for item in selected:
        try:
            result = workflow.confirm_payment(item.order_id, actor=actor)
        except WorkflowError as error:
            outcomes.append(OrderOutcome(item.reference, Outcome.REFUSED, error))
            continue
        outcomes.append(OrderOutcome(item.reference, Outcome.DONE if result.changed else Outcome.ALREADY))
    return outcomes


def request_receipts(workflow: Workflow, selected: Sequence[Selected], *, actor: Actor) -> list[OrderOutcome]:
    """« Activer la confirmation de réception »: `Workflow.request_receipt` on every parcel of
    each order still « Expédié » (not yet asked). An order whose parcels were all asked
    already is « déjà fait »; one without any parcel is refused."""
    session = workflow.session
    parcels: dict[int, list[tuple[int, str]]] = {item.order_id: [] for item in selected}
    for order_id, shipment_id, status in session.execute(
        select(Shipment.order_id, Shipment.id, Shipment.status)
        .where(Shipment.order_id.in_(list(parcels)))
        .order_by(Shipment.order_id, Shipment.number)
    ):
        parcels[order_id].append((shipment_id, status))
    session.rollback()
    outcomes: list[OrderOutcome] = []
    for item in selected:
        waiting = [sid for sid, status in parcels[item.order_id] if status == ShipmentStatus.SHIPPED]
        if not parcels[item.order_id]:
            outcomes.append(OrderOutcome(item.reference, Outcome.REFUSED, InvalidTransition(
                "Aucun colis n'est expédié pour cette commande : rien à confirmer.")))
            continue
        if not waiting:
            outcomes.append(OrderOutcome(item.reference, Outcome.ALREADY))
            continue
        done, error = 0, None
        for shipment_id in waiting:
            try:
                done += workflow.request_receipt(shipment_id, actor=actor).changed
            except WorkflowError as refused:
                error = refused
        if error is not None and not done:
            outcomes.append(OrderOutcome(item.reference, Outcome.REFUSED, error))
        else:
            # Parcels asked meanwhile by another request count as done before.
            outcomes.append(OrderOutcome(item.reference, Outcome.DONE if done else Outcome.ALREADY,
                                         error, parcels=done))
    return outcomes
