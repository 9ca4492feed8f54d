"""The buyer's « Signaler un problème », the seller's answers, and the reminder before the deadline.

The same rules as every action in `actions.py`: the order's row lock first, the parcel's
state in the WHERE clause of its UPDATE, a refusal rolls back, history and outbox in the
same transaction, effects after the commit. `Workflow` exposes these as its methods.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update

from ..database import rows_matched
from ..models import (
    EmailKind,
    OrderLine,
    OutboxEmail,
    ProblemReason,
    Shipment,
    ShipmentProblem,
    ShipmentStatus,
)
from ..timeutil import as_utc
from ..webhooks import events as webhook_events
from . import actions  # a cycle by design: Workflow's methods call these functions
from .errors import InvalidInput, InvalidTransition
from .inputs import Actor
from .rules import LOSABLE, MESSAGE_MAX, REPORTABLE

#: A report this soon after the last one that e-mailed the seller adds to it without a new
#: e-mail (a buyer adding a detail, or pressing twice).
REPORT_EMAIL_WINDOW = timedelta(hours=1)


def clean_message(value: str | None) -> str:
    """A person's message: line breaks kept (CR LF as LF), other control characters out."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch == "\n" or ch >= " ").strip()


def _check_message(wf: actions.Workflow, text: str, *, missing: InvalidInput | None) -> None:
    """`missing`: the refusal when the message is required and empty."""
    if missing is not None and not text:
        wf._refuse(missing)
    if len(text) > MESSAGE_MAX:
        wf._refuse(InvalidInput(
            "Le message est trop long : %(max)s caractères au plus (%(count)s saisis).",
            field="message", max=MESSAGE_MAX, count=len(text),
        ))


def reminder_time(wf: actions.Workflow, due: datetime, now: datetime) -> datetime | None:
    """When the reminder of a deadline is due; None when that moment is already past."""
    if wf.reminder_days <= 0:
        return None
    at = due - timedelta(days=wf.reminder_days)
    return at if at > now else None


def resolve_reports(wf: actions.Workflow, shipment_id: int, resolution: str, now: datetime) -> bool:
    """Close the parcel's open reports; whether there was one."""
    res = wf.session.execute(
        update(ShipmentProblem)
        .where(ShipmentProblem.shipment_id == shipment_id, ShipmentProblem.resolved_at.is_(None))
        .values(resolved_at=now, resolution=resolution)
        .execution_options(synchronize_session=False)
    )
    resolved = rows_matched(res) > 0
    if resolved:
        wf._objects_behind()
    return resolved


# ----------------------------------------------------------------------------- the buyer
def report_problem(wf: actions.Workflow, shipment_id: int, *, reason: str, message: str = "", ip: str = "",
                   user_agent: str = "") -> actions.Result:
    """« Signaler un problème »: the parcel goes to `problem`, its automatic receipt stops.

    The seller gets the buyer's words (P1), the buyer a confirmation (P2). A further report
    of a parcel already in problem is kept too; it e-mails only if the last e-mail is older
    than REPORT_EMAIL_WINDOW. The same report sent twice is recorded once.
    """
    reason = (reason or "").strip()
    if reason not in set(ProblemReason):
        wf._refuse(InvalidInput("Choisissez ce qui ne va pas avec ce colis.", field="reason"))
    text = clean_message(message)
    _check_message(wf, text, missing=InvalidInput("Décrivez le problème en quelques mots.", field="message")
                   if reason == ProblemReason.OTHER else None)
    order, shipment, first = wf._move_parcel(wf._shipment(shipment_id), REPORTABLE,
                                             status=ShipmentStatus.PROBLEM, reminder_due_at=None)
    now = wf.clock()
    if not first:
        if shipment.status == ShipmentStatus.RECEIVED:
            wf._refuse(InvalidTransition(
                "Ce colis est déjà reçu : un problème ne peut plus être signalé ici. "
                "Écrivez directement au vendeur."
            ))
        if shipment.status == ShipmentStatus.LOST:
            wf._refuse(InvalidTransition("Ce colis a déjà été déclaré perdu par le vendeur."))
        last = wf.session.execute(
            select(ShipmentProblem.reason, ShipmentProblem.message, ShipmentProblem.reported_at)
            .where(ShipmentProblem.shipment_id == shipment_id)
            .order_by(ShipmentProblem.id.desc()).limit(1)
        ).first()
        if last is not None and (last.reason, last.message) == (reason, text) \
                and now - as_utc(last.reported_at) < REPORT_EMAIL_WINDOW:
            return wf._unchanged(order, shipment)  # the same report again: a double submit
    last_email = wf.session.scalar(
        select(func.max(ShipmentProblem.reported_at))
        .where(ShipmentProblem.shipment_id == shipment_id, ShipmentProblem.seller_notified.is_(True))
    )
    notify = last_email is None or now - as_utc(last_email) >= REPORT_EMAIL_WINDOW
    table = ShipmentProblem.__table__
    report_id = wf.session.scalar(insert(table).returning(table.c.id), dict(
        shipment_id=shipment_id, reported_at=now, reason=reason, message=text,
        ip=actions._clean(ip, 64), user_agent=actions._clean(user_agent, 500), seller_notified=notify,
    ))
    wf._objects_behind()
    wf._event(order, "problem_reported", Actor.buyer(order.buyer_email), {
        "shipment_id": shipment.id,
        "number": shipment.number,
        "reason": reason,
        "message": text,
        "report_id": report_id,
        "again": not first,
    })
    if notify:
        data = {"reason": reason, "message": text, "reported_at": as_utc(now).isoformat()}
        wf._email(EmailKind.PROBLEM_REPORTED_SELLER, order, shipment=shipment, data=data, to="seller",
                  key=f"{EmailKind.PROBLEM_REPORTED_SELLER.value}:report:{report_id}")
        wf._email(EmailKind.PROBLEM_RECORDED_BUYER, order, shipment=shipment, data=data,
                  key=f"{EmailKind.PROBLEM_RECORDED_BUYER.value}:report:{report_id}")
    wf._set_status(order)
    wf._webhook(webhook_events.SHIPMENT_PROBLEM_REPORTED, order, shipment)
    wf._commit()
    return actions.Result(order, shipment=shipment)


# ----------------------------------------------------------------------------- the seller
def relaunch_receipt(wf: actions.Workflow, shipment_id: int, *, actor: Actor) -> actions.Result:
    """« Relancer la confirmation »: back to awaiting receipt, a new full deadline, a new E5
    and its own reminder. Only from `problem`; again once relaunched changes nothing."""
    deadline = wf._receipt_deadline()
    order, shipment, moved = wf._move_parcel(wf._shipment(shipment_id), (ShipmentStatus.PROBLEM,),
                                             reminded_at=None, **deadline)
    if not moved:
        if shipment.status == ShipmentStatus.AWAITING_RECEIPT:
            return wf._unchanged(order, shipment)
        wf._refuse(InvalidTransition("Aucun problème n'est en cours sur ce colis : rien à relancer."))
    resolve_reports(wf, shipment_id, "relaunched", deadline["receipt_requested_at"])
    # A new deadline, a new E5: its own key (the first E5's is per parcel).
    due_iso = as_utc(deadline["receipt_due_at"]).isoformat()
    return wf._receipt_asked(order, shipment, deadline, actor, "receipt_relaunched",
                             webhook_events.SHIPMENT_PROBLEM_RESOLVED,
                             email_key=f"{EmailKind.CONFIRM_RECEIPT_BUYER.value}:shipment:{shipment.id}:{due_iso}")


def declare_lost(wf: actions.Workflow, shipment_id: int, *, actor: Actor) -> actions.Result:
    """« Colis perdu »: the parcel is closed as lost and its quantities are to ship again; their
    amount is owed back to the buyer until they are (workflow.refunds), and the buyer is told
    both (P4). From any state but received; again once lost changes nothing."""
    now = wf.clock()
    order, shipment, moved = wf._move_parcel(wf._shipment(shipment_id), LOSABLE,
                                             status=ShipmentStatus.LOST, lost_at=now, reminder_due_at=None)
    if not moved:
        if shipment.status == ShipmentStatus.LOST:
            return wf._unchanged(order, shipment)
        wf._refuse(InvalidTransition("Ce colis est déjà reçu : il ne peut plus être déclaré perdu."))
    by_id = {line.id: line for line in order.lines}
    for sl in shipment.lines:
        # Back to « reste à expédier »; the guard keeps the CHECK on shipped_quantity true.
        back = wf.session.execute(
            update(OrderLine)
            .where(OrderLine.id == sl.order_line_id, OrderLine.shipped_quantity >= sl.quantity)
            .values(shipped_quantity=OrderLine.shipped_quantity - sl.quantity)
            .execution_options(synchronize_session=False)
        )
        if rows_matched(back) != 1:
            wf._refuse(InvalidTransition("Les quantités de ce colis ne correspondent plus à la commande."))
    for line in order.lines:
        wf.session.refresh(line, ["shipped_quantity"])
    had_problem = resolve_reports(wf, shipment_id, "lost", now)
    items = [{"sku": by_id[sl.order_line_id].sku, "title": by_id[sl.order_line_id].title,
              "quantity": sl.quantity} for sl in shipment.lines if sl.order_line_id in by_id]
    # Their value: owed back to the buyer until they are shipped again (workflow.refunds).
    amount = sum(sl.quantity * by_id[sl.order_line_id].unit_price_cents
                 for sl in shipment.lines if sl.order_line_id in by_id)
    wf._event(order, "parcel_lost", actor, {
        "shipment_id": shipment.id, "number": shipment.number,
        "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in items], "amount_cents": amount,
    })
    wf._email(EmailKind.PARCEL_LOST_BUYER, order, shipment=shipment,
              data={"items": items, "amount_cents": amount})
    wf._set_status(order)
    # Lost after the buyer's report answers the problem; lost otherwise changes the parcel.
    wf._webhook(webhook_events.SHIPMENT_PROBLEM_RESOLVED if had_problem
                else webhook_events.SHIPMENT_UPDATED, order, shipment)
    wf._commit()
    return actions.Result(order, shipment=shipment)


def message_buyer(wf: actions.Workflow, shipment_id: int, *, actor: Actor, message: str,
                  request_key: str | None = None) -> actions.Result:
    """A message from the seller to the buyer about a parcel (P3), kept in the history and
    shown on the buyer's order page. `request_key` (the form's one-time key) makes a double
    submit send it once."""
    text = clean_message(message)
    _check_message(wf, text, missing=InvalidInput("Écrivez votre message au client.", field="message"))
    order, shipment = wf._lock_parcel(shipment_id)
    key_part = (request_key or "").strip()[:64] or uuid.uuid4().hex
    key = f"{EmailKind.SELLER_MESSAGE_BUYER.value}:shipment:{shipment.id}:{key_part}"
    if wf.session.scalar(select(OutboxEmail.id).where(OutboxEmail.dedupe_key == key)) is not None:
        return wf._unchanged(order, shipment)
    wf._event(order, "seller_message", actor, {
        "shipment_id": shipment.id, "number": shipment.number, "message": text,
    })
    wf._email(EmailKind.SELLER_MESSAGE_BUYER, order, shipment=shipment, data={"message": text}, key=key)
    wf._commit()
    return actions.Result(order, shipment=shipment)


# ----------------------------------------------------------------------------- the reminder
def send_reminder(wf: actions.Workflow, shipment_id: int) -> bool:
    """The reminder of one parcel (E5R), if still awaiting receipt, due, and before the deadline.
    Returns whether this call sent it (False when already sent, received, in problem, not due
    yet, or too late)."""
    sent = _remind_one(wf, shipment_id, wf.clock())
    wf._commit()
    return sent


def remind_due(wf: actions.Workflow, *, batch: int = 200) -> list[int]:
    """The sweep's part: every parcel whose reminder is due (an index on status and due time,
    cleared once sent: O(due))."""
    now = wf.clock()
    reminded: list[int] = []
    while True:
        ids = list(wf.session.scalars(
            select(Shipment.id)
            .where(Shipment.status == ShipmentStatus.AWAITING_RECEIPT, Shipment.reminder_due_at <= now,
                   Shipment.receipt_due_at > now)
            .order_by(Shipment.reminder_due_at, Shipment.id)
            .limit(batch)
        ))
        wf.session.rollback()  # end the read so each parcel is locked fresh
        if not ids:
            break
        reminded.extend(i for i in ids if _remind_one(wf, i, now))
        wf._commit()
        if len(ids) < batch:
            break
    return reminded


def _remind_one(wf: actions.Workflow, shipment_id: int, now: datetime) -> bool:
    shipment = wf.session.get(Shipment, shipment_id)
    if shipment is None:
        return False
    order, shipment, moved = wf._move_parcel(
        shipment, (ShipmentStatus.AWAITING_RECEIPT,), Shipment.reminder_due_at <= now,
        # A reminder of a deadline already past would only confuse: the receipt follows.
        Shipment.receipt_due_at > now,
        reminder_due_at=None, reminded_at=now,
    )
    if not moved:
        return False
    due_iso = as_utc(shipment.receipt_due_at or now).isoformat()
    wf._event(order, "receipt_reminded", Actor.system(), {
        "shipment_id": shipment.id, "number": shipment.number, "due_at": due_iso,
    })
    # One reminder per deadline, guaranteed by the key.
    wf._email(EmailKind.RECEIPT_REMINDER_BUYER, order, shipment=shipment, data={"due_at": due_iso},
              key=f"{EmailKind.RECEIPT_REMINDER_BUYER.value}:shipment:{shipment.id}:{due_iso}")
    return True
