"""« Clore le reste »: the seller will not ship some or all of what is left (out of stock).

The same rules as every action in `actions.py`. Closed quantities stay on their line
(`OrderLine.closed_quantity`): what is left to ship is quantity − shipped − closed
(`OrderLine.remaining`), and the order's status follows (`status.derive_status`). An order
whose every unit is closed, none shipped, is cancelled. `Workflow` exposes this as its method.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import select, update

from ..database import rows_matched
from ..models import EmailKind, OrderEvent, OrderLine
from ..webhooks import events as webhook_events
from . import actions, rules  # actions: a cycle by design, Workflow's methods call these functions
from .errors import InvalidInput, InvalidTransition
from .inputs import Actor

REASON_MAX = 500
EVENT = "remainder_closed"


def close_remainder(wf: actions.Workflow, order_id: int, *, actor: Actor, reason: str,
                    quantities: Mapping[int, int] | None = None,
                    request_key: str | None = None) -> actions.Result:
    """Close what is left to ship: every remaining unit (`quantities` None) or the chosen
    order line ids and quantities (1 … remaining; lines at 0 left out), with a reason the
    buyer reads (C1 to the buyer: the items and their amount). `request_key` (the form's
    one-time key) makes a double submit a no-op."""
    reason = actions._clean(reason, REASON_MAX)
    key = (request_key or "").strip()[:64] or None
    order = wf._lock(order_id, rules.CLOSABLE)
    if order is None:
        current = wf._load(order_id)
        if key and _already_done(wf, order_id, key):
            return wf._unchanged(current)
        if current.is_cancelled:
            wf._refuse(InvalidTransition("Cette commande est annulée : il n'y a rien à clore."))
        if not current.is_paid:
            wf._refuse(InvalidTransition(
                "Le paiement n'est pas confirmé : rien n'est à clore. Pour abandonner la commande, "
                "annulez-la."
            ))
        wf._refuse(InvalidTransition("Tout est déjà expédié ou clos : il ne reste rien à clore."))
    assert order is not None
    if key and _already_done(wf, order_id, key):
        return wf._unchanged(order)
    chosen = quantities if quantities is not None else {line.id: line.remaining for line in order.lines}
    items = wf._check_quantities(order, chosen, prefix="close", nothing=InvalidInput(
        "Choisissez au moins un article à clore, avec sa quantité.", field="lines"))
    if not reason:
        wf._refuse(InvalidInput("Indiquez le motif : le client le lira dans l'e-mail.", field="reason"))
    for line, qty in items:
        # The guard is in the UPDATE itself: never more than what is left to ship.
        res = wf.session.execute(
            update(OrderLine)
            .where(OrderLine.id == line.id,
                   OrderLine.shipped_quantity + OrderLine.closed_quantity + qty <= OrderLine.quantity)
            .values(closed_quantity=OrderLine.closed_quantity + qty)
            .execution_options(synchronize_session=False)
        )
        if rows_matched(res) != 1:
            wf._refuse(InvalidInput("Il ne reste plus autant d'articles à clore pour %(sku)s.",
                                    sku=line.sku, field=f"close_{line.id}"))
    for line in order.lines:
        wf.session.refresh(line, ["closed_quantity"])
    now = wf.clock()
    # Nothing shipped and nothing left: the order is cancelled (its status says so too).
    cancels = all(line.shipped_quantity == 0 and line.remaining == 0 for line in order.lines)
    if cancels:
        order.cancelled_at = now
        order.cancel_reason = reason
    rows = [{"sku": line.sku, "title": line.title, "quantity": qty,
             "amount_cents": qty * line.unit_price_cents} for line, qty in items]
    amount = sum(qty * line.unit_price_cents for line, qty in items)
    details: dict[str, object] = {"items": [{"sku": line.sku, "quantity": qty} for line, qty in items],
               "amount_cents": amount, "reason": reason, "cancelled": cancels}
    if key:
        details["request_key"] = key
    wf._event(order, EVENT, actor, details)
    wf._email(EmailKind.REMAINDER_CLOSED_BUYER, order, data={
        "items": rows, "amount_cents": amount, "reason": reason, "cancelled": cancels,
        # A cancelled order gives its shipping costs back too.
        "refund_cents": amount + (order.shipping_cents if cancels else 0),
    }, key=f"{EmailKind.REMAINDER_CLOSED_BUYER.value}:order:{order.id}:{key or uuid.uuid4().hex}")
    wf._set_status(order)
    if cancels:
        wf._webhook(webhook_events.ORDER_CANCELLED, order)
    wf._commit()
    return actions.Result(order)


def _already_done(wf: actions.Workflow, order_id: int, key: str) -> bool:
    """A closure with this form key is already recorded (a double submit)."""
    details = wf.session.scalars(
        select(OrderEvent.details).where(OrderEvent.order_id == order_id, OrderEvent.kind == EVENT))
    return any((d or {}).get("request_key") == key for d in details)
