"""The only code that changes an order.

Every action:
- starts by locking the order row with a conditional UPDATE (the state it needs is in the
  WHERE clause, so two requests at once cannot both pass the check);
- checks every rule and raises a `WorkflowError` after rolling back, so a refusal changes
  nothing;
- writes the history entry and the outbox e-mails in the same transaction, then commits;
- tells the rest of the app what to do after the commit (deliver e-mails, schedule the
  automatic receipt) through the signals in `workflow.signals`.

No Flask request here: views, CLI, API and jobs build a `Workflow` and call it.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from .. import carriers, search_index
from ..database import rows_matched
from ..models import (
    EmailKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    OutboxEmail,
    ReceivedBy,
    Seller,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from ..timeutil import as_utc, paris_today, utcnow
from ..webhooks import events as webhook_events
from . import closing, corrections, counts, errors, problems, refunds, rules, signals
from .errors import Conflict, InvalidInput, InvalidTransition, NotFound, WorkflowError
from .inputs import Actor, OrderInput, ParcelChanges, ParcelDetails
from .loading import load_order
from .rules import CONFIRMABLE
from .status import derive_status

SWEEP_BATCH = 200

#: place_order's statements, built once (it runs for every order the marketplace sends).
_SELLER_AND_ORDER = (
    select(Seller, Order)
    .outerjoin(Order, (Order.seller_id == Seller.id) & (Order.external_id == bindparam("external_id")))
    .where(func.lower(Seller.email) == bindparam("email"))
)
#: Sets the columns named in its parameters (reference, search_text) of one order.
_SET_REFERENCE = update(Order.__table__).where(Order.__table__.c.id == bindparam("order_id"))
#: Every action's statements, built once: building one and its cache key costs more than
#: SQLite's running it.
_LOCK = (update(Order.__table__).where(Order.__table__.c.id == bindparam("order_id"))
         .values(version=Order.__table__.c.version + 1, updated_at=bindparam("at"))
         .execution_options(synchronize_session=False))
#: A parcel's order locked by the parcel's id: one statement, answering the order's id.
_LOCK_OF_PARCEL = (update(Order.__table__)
                   .where(Order.__table__.c.id == select(Shipment.order_id)
                          .where(Shipment.id == bindparam("shipment_id")).scalar_subquery())
                   .values(version=Order.__table__.c.version + 1, updated_at=bindparam("at"))
                   .returning(Order.__table__.c.id)
                   .execution_options(synchronize_session=False))
_LOCK_IN_STATUS = _LOCK.where(Order.__table__.c.status.in_(bindparam("allowed", expanding=True)))
_PARCEL_STATUSES = select(Shipment.status).where(Shipment.order_id == bindparam("order_id"))
_ADD_EVENT = insert(OrderEvent.__table__)
_ADD_SHIPMENT = insert(Shipment.__table__).returning(Shipment.__table__.c.id)
_ADD_SHIPMENT_LINES = insert(ShipmentLine.__table__).returning(ShipmentLine.__table__.c.id,
                                                              sort_by_parameter_order=True)
#: A new parcel's columns that its INSERT leaves empty.
_NO_SHIPMENT_VALUES: dict[str, Any] = {column.key: None for column in Shipment.__table__.columns}
_ADD_EMAIL = insert(OutboxEmail.__table__).returning(OutboxEmail.__table__.c.id)
_SHIP_FROM_LINE = (
    update(OrderLine.__table__)
    .where(OrderLine.__table__.c.id == bindparam("line_id"),
           OrderLine.__table__.c.shipped_quantity + OrderLine.__table__.c.closed_quantity + bindparam("qty")
           <= OrderLine.__table__.c.quantity)
    .values(shipped_quantity=OrderLine.__table__.c.shipped_quantity + bindparam("qty"))
    .returning(OrderLine.__table__.c.shipped_quantity)
)
#: A parcel's columns, read again after a plain UPDATE of it.
_SHIPMENT_COLUMNS = [attr.key for attr in Shipment.__mapper__.column_attrs]


@dataclass
class Result:
    """What an action did. `changed` is False for an idempotent repeat."""

    order: Order
    changed: bool = True
    shipment: Shipment | None = None


@dataclass
class SweepResult:
    received: list[int] = field(default_factory=list)  # shipment ids


class Workflow:
    def __init__(
        self,
        session: Session,
        *,
        auto_receipt_days: int = 7,
        reminder_days: int = 2,
        clock: Callable[[], datetime] = utcnow,
        keep_order: bool = False,
    ) -> None:
        """`keep_order`: the order acted on is loaded whole (its parcels' problem reports and
        its refunds too) and kept as committed, not expired, so that a caller answering with
        it (the API) reads nothing again: every change an action makes is made on its objects
        too, except where `_objects_behind` says otherwise."""
        self.session = session
        self.auto_receipt_days = auto_receipt_days
        self.reminder_days = reminder_days
        self.clock = clock
        self.keep_order = keep_order
        self._behind = False
        self._pending_emails: list[int] = []
        self._pending_receipts: list[tuple[int, datetime]] = []
        self._pending_reminders: list[tuple[int, datetime]] = []
        # The sellers whose orders this transaction changes, with their tabs' counts' changes.
        self._seller_changes: counts.Changes = {}
        self._pending_webhooks: list[tuple[str, Order, Shipment | None]] = []

    # ------------------------------------------------------------------ order placed
    def place_order(self, data: OrderInput, *, actor: Actor, source: str = "api") -> Result:
        """Record a new order (E1 to the seller, E2 to the buyer).

        Idempotent on (seller, external_id): the same content again returns the existing
        order with `changed=False`; another content raises `Conflict`.
        """
        # The seller and an order already recorded under this external id, in one query.
        found = self.session.execute(_SELLER_AND_ORDER, {
            "email": data.seller_email.strip().lower(), "external_id": data.external_id,
        }).first()
        seller, existing = found if found is not None else (None, None)
        if seller is None or not seller.active:
            self._refuse(NotFound("Vendeur inconnu ou inactif.", field="seller"))
        assert seller is not None
        fingerprint = data.fingerprint()
        if existing is not None:
            return self._replay(existing, fingerprint)
        self._check_order_input(data)

        now = self.clock()
        values: dict[str, Any] = {
            "reference": f"tmp-{uuid.uuid4().hex[:24]}",
            "seller_id": seller.id,
            "external_id": data.external_id,
            "request_hash": fingerprint,
            "buyer_name": data.buyer_name,
            "buyer_email": data.buyer_email,
            "billing_address": data.billing_address.as_dict(),
            "shipping_address": data.shipping_address.as_dict(),
            "currency": data.currency,
            "total_cents": data.total_cents,
            "shipping_cents": data.shipping_cents,
            "buyer_phone": data.buyer_phone,
            "pickup_point": data.pickup_point.as_dict() if data.pickup_point else None,
            "status": OrderStatus.AWAITING_PAYMENT,
            "item_count": sum(line.quantity for line in data.lines),
            "created_at": now,
            "updated_at": now,
        }
        # Plain INSERT/UPDATE statements: the ORM's unit of work would cost more than the
        # statements themselves, and nothing here needs the rows as objects until the end.
        orders, order_lines = Order.__table__, OrderLine.__table__
        try:
            order_id = self.session.scalar(insert(orders).returning(orders.c.id), values)
        except IntegrityError:
            # Another request recorded the same external id first: answer as a replay.
            self.session.rollback()
            existing = self._existing_order(seller.id, data.external_id)
            if existing is None:
                raise
            return self._replay(existing, fingerprint)
        values["reference"] = f"UQ-{as_utc(now).year}-{order_id:06d}"
        values["search_text"] = search_index.search_text(
            values["reference"], data.buyer_name, data.buyer_email, (line.sku for line in data.lines))
        self.session.execute(_SET_REFERENCE, {
            "order_id": order_id, "reference": values["reference"], "search_text": values["search_text"],
        })
        self.session.execute(insert(order_lines), [
            {"order_id": order_id, "position": i, "sku": line.sku, "title": line.title,
             "quantity": line.quantity, "unit_price_cents": line.unit_price_cents, "shipped_quantity": 0}
            for i, line in enumerate(data.lines, start=1)
        ])
        # The caller's object for the row just written, known without reading it back. Merged,
        # not added: the session may still hold an object of a rolled-back order with this id.
        order = Order(id=order_id, **values)
        make_transient_to_detached(order)
        order = self.session.merge(order, load=False)
        counts.move(self._seller_changes, seller.id, (), counts.state_of(order))
        self._event(order, "order_placed", actor, {
            "source": source,
            "external_id": data.external_id,
            "lines": len(data.lines),
            "total_cents": order.total_cents,
        })
        self._email(EmailKind.NEW_ORDER_SELLER, order, seller=seller)
        self._email(EmailKind.ORDER_RECORDED_BUYER, order, seller=seller)
        self._webhook(webhook_events.ORDER_CREATED, order)
        self._commit()
        return Result(order)

    # ------------------------------------------------------------------ payment
    def confirm_payment(self, order_id: int, *, actor: Actor, note: str = "") -> Result:
        """« Confirmer le paiement »: only from awaiting payment (E3 to the buyer)."""
        note = _clean(note, 500)
        order = self._lock(order_id, (OrderStatus.AWAITING_PAYMENT,))
        if order is None:
            current = self._load(order_id)
            if current.is_paid and not current.is_cancelled:
                return self._unchanged(current)
            self._refuse(InvalidTransition(
                "Cette commande est annulée : son paiement ne peut plus être confirmé."
            ))
        assert order is not None
        now = self.clock()
        self._write(order, paid_at=now, payment_note=note)
        self._event(order, "payment_confirmed", actor, {"note": note} if note else {})
        self._email(EmailKind.PAYMENT_RECEIVED_BUYER, order,
                    key=corrections.repeat_key(self, EmailKind.PAYMENT_RECEIVED_BUYER, order))
        self._set_status(order)
        self._webhook(webhook_events.ORDER_PAID, order)
        self._commit()
        return Result(order)

    # ------------------------------------------------------------------ cancellation
    def cancel(self, order_id: int, *, actor: Actor, reason: str = "") -> Result:
        """« Annuler la commande »: only while nothing has shipped (E8 to the buyer)."""
        reason = _clean(reason, 500)
        order = self._lock(order_id, rules.CANCELLABLE)
        if order is None:
            current = self._load(order_id)
            if current.is_cancelled:
                return self._unchanged(current)
            self._refuse(InvalidTransition(
                "La commande ne peut plus être annulée : un colis a déjà été expédié."
            ))
        assert order is not None
        order.cancelled_at = self.clock()
        order.cancel_reason = reason
        self._event(order, "cancelled", actor, {"reason": reason} if reason else {})
        # A paid order: the buyer is told what will be refunded (everything paid).
        self._email(EmailKind.CANCELLED_BUYER, order, data={"refund_cents": refunds.owed_back_cents(order)})
        self._set_status(order)
        self._webhook(webhook_events.ORDER_CANCELLED, order)
        self._commit()
        return Result(order)

    def close_remainder(self, order_id: int, *, actor: Actor, reason: str,
                        quantities: Mapping[int, int] | None = None,
                        request_key: str | None = None) -> Result:
        """« Clore le reste » (the seller): see closing.close_remainder."""
        return closing.close_remainder(self, order_id, actor=actor, reason=reason, quantities=quantities,
                                       request_key=request_key)

    def record_refund(self, order_id: int, *, actor: Actor, amount_cents: int, method: str,
                      reference: str = "", note: str = "", request_key: str | None = None) -> Result:
        """« Remboursement effectué » (the seller): see refunds.record_refund."""
        return refunds.record_refund(self, order_id, actor=actor, amount_cents=amount_cents, method=method,
                                     reference=reference, note=note, request_key=request_key)

    # ------------------------------------------------------------------ shipment
    def ship(
        self,
        order_id: int,
        *,
        actor: Actor,
        quantities: Mapping[int, int],
        carrier: str,
        tracking_number: str = "",
        shipped_on: date | None = None,
        carrier_url: str = "",
        carrier_label: str = "",
        request_key: str | None = None,
    ) -> Result:
        """« Expédié »: some or all of what is left, with carrier and tracking (E4 to the buyer).

        `quantities` maps order line id to the quantity in this parcel; lines at 0 are left
        out. `request_key` (the form's one-time key) makes a double submit a no-op.
        """
        order = self._lock(order_id, rules.SHIPPABLE)
        if order is None:
            current = self._load(order_id)
            repeat = self._shipment_by_key(current, request_key)
            if repeat is not None:
                return self._unchanged(current, repeat)
            self._refuse(rules.ship_refusal(current))
        assert order is not None
        repeat = self._shipment_by_key(order, request_key)
        if repeat is not None:
            return self._unchanged(order, repeat)

        now = self.clock()
        items = self._check_quantities(order, quantities)
        chosen, number, url, label = self._check_carrier(
            order, carrier, tracking_number, carrier_url, carrier_label
        )
        day = self._check_ship_date(order, shipped_on, now)

        for line, qty in items:
            # The guard is in the UPDATE itself, backed by a CHECK constraint; the new quantity
            # comes back with it (no reading the line again).
            shipped = self.session.scalar(_SHIP_FROM_LINE, {"line_id": line.id, "qty": qty})
            if shipped is None:
                self._refuse(InvalidInput(
                    "La quantité expédiée pour %(sku)s dépasse ce qui reste à expédier.",
                    sku=line.sku,
                    field=f"qty_{line.id}",
                ))
            set_committed_value(line, "shipped_quantity", shipped)
        shipment = self._add_shipment(order, items, {
            "order_id": order.id,
            "number": len(order.shipments) + 1,
            "carrier": chosen.code,
            "carrier_label": label,
            "tracking_number": number,
            "tracking_url": url,
            "shipped_on": day,
            "status": ShipmentStatus.SHIPPED,
            "request_key": request_key or None,
            "created_at": now,
        })
        self._write(order, search_text=search_index.with_tracking_number(order.search_text, number))
        refunds.check_shipping(self, order)
        self._event(order, "shipped", actor, {
            "shipment_id": shipment.id,
            "number": shipment.number,
            "carrier": label,
            "tracking_number": number,
            "shipped_on": day.isoformat(),
            "items": [{"sku": line.sku, "quantity": qty} for line, qty in items],
        })
        self._email(EmailKind.SHIPPED_BUYER, order, shipment=shipment, data={
            "remaining": [
                {"sku": line.sku, "title": line.title, "quantity": line.remaining}
                for line in order.lines
                if line.remaining > 0
            ],
        })
        self._set_status(order)
        self._webhook(webhook_events.SHIPMENT_CREATED, order, shipment)
        self._commit()
        return Result(order, shipment=shipment)

    def _add_shipment(self, order: Order, items: list[tuple[OrderLine, int]],
                      values: dict[str, Any]) -> Shipment:
        """A new parcel of the order: plain INSERTs (the ORM's unit of work would cost more
        than the statements), then its object and its lines', known without reading them back."""
        shipment_id = self.session.scalar(_ADD_SHIPMENT, values)
        rows = [{"shipment_id": shipment_id, "order_line_id": line.id, "quantity": qty}
                for line, qty in items]
        line_ids = list(self.session.scalars(_ADD_SHIPMENT_LINES, rows))
        lines = [ShipmentLine(id=line_id, **row) for line_id, row in zip(line_ids, rows, strict=True)]
        shipment = Shipment(**{**_NO_SHIPMENT_VALUES, **values, "id": shipment_id}, lines=lines, problems=[])
        for obj in (shipment, *lines):
            make_transient_to_detached(obj)
        # Merged, not added: the session may still hold an object of a rolled-back parcel with this id.
        shipment = self.session.merge(shipment, load=False)
        set_committed_value(order, "shipments", [*order.shipments, shipment])
        set_committed_value(shipment, "order", order)
        return shipment

    # ------------------------------------------------------------------ receipt
    def request_receipt(self, shipment_id: int, *, actor: Actor) -> Result:
        """« Activer la confirmation de réception » on a parcel (E5 to the buyer).

        The due time of the automatic receipt is stored on the parcel: the database is the
        source of truth, the scheduled job only a reminder.
        """
        order, shipment = self._lock_parcel(shipment_id)
        if order.is_cancelled:
            self._refuse(InvalidTransition("Cette commande est annulée."))
        if shipment.status != ShipmentStatus.SHIPPED:
            if shipment.status == ShipmentStatus.AWAITING_RECEIPT:
                return self._unchanged(order, shipment)
            if shipment.status == ShipmentStatus.PROBLEM:
                self._refuse(InvalidTransition(
                    "Le client a signalé un problème sur ce colis : répondez-lui, puis relancez la "
                    "confirmation ou déclarez le colis perdu."
                ))
            if shipment.status == ShipmentStatus.LOST:
                self._refuse(InvalidTransition("Ce colis a été déclaré perdu."))
            self._refuse(InvalidTransition("Ce colis est déjà reçu."))
        deadline = self._receipt_deadline()
        self._write(shipment, **deadline)
        return self._receipt_asked(order, shipment, deadline, actor, "receipt_requested",
                                   webhook_events.SHIPMENT_RECEIPT_REQUESTED)

    def _receipt_deadline(self) -> dict[str, Any]:
        """The values of a parcel whose receipt is asked now: a full deadline, and its reminder."""
        now = self.clock()
        due = now + timedelta(days=self.auto_receipt_days)
        return {"status": ShipmentStatus.AWAITING_RECEIPT, "receipt_requested_at": now,
                "receipt_due_at": due, "reminder_due_at": problems.reminder_time(self, due, now)}

    def _receipt_asked(self, order: Order, shipment: Shipment, deadline: dict[str, Any], actor: Actor,
                       event: str, webhook: str, *, email_key: str | None = None) -> Result:
        """The rest of asking the buyer to confirm (the first time or again): the history, the
        e-mail E5 with the deadline, the jobs of the automatic receipt and of the reminder."""
        due, remind_at = deadline["receipt_due_at"], deadline["reminder_due_at"]
        due_iso = as_utc(due).isoformat()
        self._event(order, event, actor, {"shipment_id": shipment.id, "number": shipment.number,
                                          "due_at": due_iso})
        self._email(EmailKind.CONFIRM_RECEIPT_BUYER, order, shipment=shipment, data={"due_at": due_iso},
                    key=email_key)
        self._set_status(order)
        self._webhook(webhook, order, shipment)
        self._pending_receipts.append((shipment.id, due))
        if remind_at is not None:
            self._pending_reminders.append((shipment.id, remind_at))
        self._commit()
        return Result(order, shipment=shipment)

    def confirm_receipt(
        self, shipment_id: int, *, ip: str = "", user_agent: str = ""
    ) -> Result:
        """« J'ai bien reçu ma commande »: the buyer's proof (E6 to the seller). Also while a
        problem is open: the buyer's press closes it.

        A second press, or a press after the automatic receipt, changes nothing and returns
        the parcel as it is (`changed=False`), so the page can say when and how it was received.
        """
        shipment = self._shipment(shipment_id)
        order = self._lock(shipment.order_id, None)
        assert order is not None
        now = self.clock()
        # Read under the order's lock: every change of the parcel takes that lock first.
        was = self.session.scalar(select(Shipment.status).where(Shipment.id == shipment_id))
        res = self.session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id, Shipment.status.in_([str(s) for s in CONFIRMABLE]))
            .values(
                status=ShipmentStatus.RECEIVED,
                received_at=now,
                received_by=ReceivedBy.BUYER,
                proof_ip=_clean(ip, 64),
                proof_user_agent=_clean(user_agent, 500),
                reminder_due_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        shipment = self._shipment(shipment_id, fresh=True)
        if rows_matched(res) != 1:
            if shipment.status == ShipmentStatus.RECEIVED:
                return self._unchanged(order, shipment)
            if shipment.status == ShipmentStatus.LOST:
                self._refuse(InvalidTransition(
                    "Ce colis a été déclaré perdu par le vendeur : sa réception ne peut plus être confirmée."
                ))
            self._refuse(InvalidTransition(
                "La confirmation de réception n'est pas encore activée pour ce colis."
            ))
        details: dict[str, Any] = {
            "shipment_id": shipment.id,
            "number": shipment.number,
            "ip": shipment.proof_ip or "",
        }
        if was == ShipmentStatus.PROBLEM:
            problems.resolve_reports(self, shipment.id, "received", now)
            details["closed_problem"] = True
        self._event(order, "receipt_confirmed", Actor.buyer(order.buyer_email), details)
        self._email(EmailKind.RECEIPT_CONFIRMED_SELLER, order, shipment=shipment, data={
            "received_at": as_utc(now).isoformat(),
        })
        self._set_status(order)
        if was == ShipmentStatus.PROBLEM:
            self._webhook(webhook_events.SHIPMENT_PROBLEM_RESOLVED, order, shipment)
        self._webhook(webhook_events.SHIPMENT_RECEIVED, order, shipment)
        self._commit()
        return Result(order, shipment=shipment)

    # ------------------------------------------------------------------ problems (problems.py)
    def report_problem(self, shipment_id: int, *, reason: str, message: str = "", ip: str = "",
                       user_agent: str = "") -> Result:
        """« Signaler un problème » (the buyer): see problems.report_problem."""
        return problems.report_problem(self, shipment_id, reason=reason, message=message, ip=ip,
                                       user_agent=user_agent)

    def relaunch_receipt(self, shipment_id: int, *, actor: Actor) -> Result:
        """« Relancer la confirmation » (the seller): see problems.relaunch_receipt."""
        return problems.relaunch_receipt(self, shipment_id, actor=actor)

    def declare_lost(self, shipment_id: int, *, actor: Actor) -> Result:
        """« Colis perdu » (the seller): see problems.declare_lost."""
        return problems.declare_lost(self, shipment_id, actor=actor)

    def message_buyer(self, shipment_id: int, *, actor: Actor, message: str,
                      request_key: str | None = None) -> Result:
        """A message from the seller to the buyer: see problems.message_buyer."""
        return problems.message_buyer(self, shipment_id, actor=actor, message=message,
                                      request_key=request_key)

    def send_reminder(self, shipment_id: int) -> bool:
        """The reminder before the deadline, by its scheduled job: see problems.send_reminder."""
        return problems.send_reminder(self, shipment_id)

    def remind_due(self) -> list[int]:
        """The sweep's reminders: see problems.remind_due."""
        return problems.remind_due(self)

    # ------------------------------------------------------------------ corrections (corrections.py)
    def undo_payment(self, order_id: int, *, actor: Actor, reason: str = "") -> Result:
        """« Annuler la confirmation du paiement »: see corrections.undo_payment."""
        return corrections.undo_payment(self, order_id, actor=actor, reason=reason)

    def edit_shipment(self, order_id: int, number: int, data: ParcelChanges | ParcelDetails, *,
                      actor: Actor) -> Result:
        """« Modifier le suivi » of a parcel: see corrections.edit_shipment."""
        return corrections.edit_shipment(self, order_id, number, data, actor=actor)

    # ------------------------------------------------------------------ automatic receipt
    def auto_receive(self, shipment_id: int) -> bool:
        """Mark one parcel « Reçu » automatically if it is still awaiting and overdue.

        Called by the job scheduled at the due time; the sweep does the same for all.
        Returns whether this call received it (False when the buyer or another run did).
        """
        received = self._auto_receive_one(shipment_id, self.clock())
        self._commit()
        return received

    def auto_receive_due(self, *, limit: int | None = None) -> SweepResult:
        """The sweep: every parcel awaiting receipt whose due time has passed (E7 ×2 each).

        Reads only what is due (an index on status and due time), in batches that commit
        one by one, so the cost is O(due) and locks stay short.
        """
        now = self.clock()
        result = SweepResult()
        while limit is None or len(result.received) < limit:
            batch = SWEEP_BATCH if limit is None else min(SWEEP_BATCH, limit - len(result.received))
            ids = list(self.session.scalars(
                select(Shipment.id)
                .where(
                    Shipment.status == ShipmentStatus.AWAITING_RECEIPT,
                    Shipment.receipt_due_at <= now,
                )
                .order_by(Shipment.receipt_due_at, Shipment.id)
                .limit(batch)
            ))
            self.session.rollback()  # end the read so each parcel is locked fresh
            if not ids:
                break
            for shipment_id in ids:
                if self._auto_receive_one(shipment_id, now):
                    result.received.append(shipment_id)
            self._commit()
            if len(ids) < batch:
                break
        return result

    # ------------------------------------------------------------------ internals
    def _auto_receive_one(self, shipment_id: int, now: datetime) -> bool:
        shipment = self.session.get(Shipment, shipment_id)
        if shipment is None:
            return False
        order, shipment, moved = self._move_parcel(
            shipment, (ShipmentStatus.AWAITING_RECEIPT,), Shipment.receipt_due_at <= now,
            status=ShipmentStatus.RECEIVED, received_at=now, received_by=ReceivedBy.AUTO,
        )
        if not moved:
            return False
        due = as_utc(shipment.receipt_due_at or now).isoformat()
        self._event(order, "auto_received", Actor.system(), {
            "shipment_id": shipment.id,
            "number": shipment.number,
            "due_at": due,
        })
        data = {"received_at": as_utc(now).isoformat(), "due_at": due}
        self._email(EmailKind.AUTO_RECEIVED, order, shipment=shipment, data=data, to="seller")
        self._email(EmailKind.AUTO_RECEIVED, order, shipment=shipment, data=data, to="buyer")
        self._set_status(order)
        self._webhook(webhook_events.SHIPMENT_RECEIVED, order, shipment)
        return True

    def _lock(self, order_id: int, allowed: Iterable[str] | None) -> Order | None:
        """Take the order's row lock, if its status is one of `allowed` (any when None).

        Returns the order freshly loaded, or None when the status did not allow it.
        """
        params: dict[str, Any] = {"order_id": order_id, "at": self.clock()}
        if allowed is not None:
            params["allowed"] = [str(s) for s in allowed]
        res = self.session.execute(_LOCK if allowed is None else _LOCK_IN_STATUS, params)
        if rows_matched(res) != 1:
            if allowed is None:
                self._refuse(NotFound("Commande introuvable."))
            return None
        return self._load(order_id)

    def _lock_parcel(self, shipment_id: int) -> tuple[Order, Shipment]:
        """The parcel's order locked, and the parcel as read again under that lock (by the
        load of the order's parcels): every change of a parcel takes it first."""
        order_id: int | None = self.session.scalar(_LOCK_OF_PARCEL, {"shipment_id": shipment_id,
                                                                     "at": self.clock()})
        if order_id is None:
            self._refuse(NotFound("Colis introuvable."))
        assert order_id is not None
        order = self._load(order_id)
        found = next((s for s in order.shipments if s.id == shipment_id), None)
        return order, found if found is not None else self._shipment(shipment_id, fresh=True)

    def _move_parcel(
        self, shipment: Shipment, allowed: Iterable[str], *conditions: ColumnElement[bool], **values: Any
    ) -> tuple[Order, Shipment, bool]:
        """Take the lock of the parcel's order, then set `values` on the parcel if its status is
        one of `allowed` and it meets `conditions`: the state is in the UPDATE's WHERE clause, so
        it is checked and changed at once. Returns the order, the parcel as it now is, and
        whether it changed."""
        order = self._lock(shipment.order_id, None)
        assert order is not None
        res = self.session.execute(
            update(Shipment)
            .where(Shipment.id == shipment.id, Shipment.status.in_([str(s) for s in allowed]), *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return order, self._shipment(shipment.id, fresh=True), rows_matched(res) == 1

    def _load(self, order_id: int) -> Order:
        keep = self.keep_order
        order = load_order(self.session, order_id=order_id, seller=True, problems=keep, refunds=keep)
        if order is None:
            self._refuse(NotFound("Commande introuvable."))
        assert order is not None
        return order

    def _shipment(self, shipment_id: int, *, fresh: bool = False) -> Shipment:
        """The parcel; `fresh`: its columns read again (a plain UPDATE changed them). One
        already loaded keeps its lines and problem reports: `populate_existing` would unload
        them."""
        known = self.session.identity_map.get(identity_key(Shipment, shipment_id)) if fresh else None
        if known is not None:
            self.session.refresh(known, _SHIPMENT_COLUMNS)
            return known
        shipment = self.session.get(Shipment, shipment_id, populate_existing=fresh)
        if shipment is None:
            self._refuse(NotFound("Colis introuvable."))
        assert shipment is not None
        return shipment

    def _objects_behind(self) -> None:
        """A plain statement changed rows that the loaded objects show (a parcel's problem
        reports, the refunds): the order is not kept past the commit, its reader loads it."""
        self._behind = True

    def _existing_order(self, seller_id: int, external_id: str) -> Order | None:
        return self.session.scalar(
            select(Order).where(Order.seller_id == seller_id, Order.external_id == external_id)
        )

    def _replay(self, order: Order, fingerprint: str) -> Result:
        if order.request_hash != fingerprint:
            self._refuse(Conflict(
                "La commande %(external_id)s existe déjà avec un contenu différent (%(reference)s).",
                external_id=order.external_id,
                reference=order.reference,
                field="external_id",
            ))
        return self._unchanged(order)

    def _unchanged(self, order: Order, shipment: Shipment | None = None) -> Result:
        # Nothing to write: end the transaction that the lock attempt opened.
        self.session.rollback()
        self._seller_changes = {}
        return Result(order, changed=False, shipment=shipment)

    @staticmethod
    def _shipment_by_key(order: Order, request_key: str | None) -> Shipment | None:
        if not request_key:
            return None
        return next((s for s in order.shipments if s.request_key == request_key), None)

    def _check_order_input(self, data: OrderInput) -> None:
        if not data.external_id.strip():
            self._refuse(InvalidInput("L'identifiant de commande est obligatoire.", field="external_id"))
        problem = rules.email_problem(data.buyer_email)
        if problem:  # the buyer's e-mails must be sendable
            self._refuse(InvalidInput(problem, field="buyer.email", code=errors.INVALID_EMAIL))
        if not rules.currency_accepted(data.currency):
            self._refuse(InvalidInput("Seul l'euro (EUR) est accepté.", field="currency"))
        if not rules.line_count_accepted(len(data.lines)):
            self._refuse(InvalidInput(
                "Une commande a de 1 à %(max)s lignes.", field="lines", max=rules.MAX_LINES
            ))
        if rules.repeated_skus([line.sku for line in data.lines]):
            self._refuse(InvalidInput("Une référence (SKU) apparaît deux fois.", field="lines"))
        for i, line in enumerate(data.lines):
            if not rules.quantity_accepted(line.quantity):
                self._refuse(InvalidInput(
                    "Quantité invalide pour %(sku)s : de 1 à %(max)s.",
                    sku=line.sku,
                    max=rules.MAX_QUANTITY,
                    field=f"lines[{i}].quantity",
                ))
            if line.unit_price_cents < 0:
                self._refuse(InvalidInput(
                    "Prix invalide pour %(sku)s.", field=f"lines[{i}].unit_price", sku=line.sku
                ))

    def _check_quantities(
        self, order: Order, quantities: Mapping[int, int], *, prefix: str = "qty",
        nothing: InvalidInput | None = None,
    ) -> list[tuple[OrderLine, int]]:
        """Each chosen line with its quantity, 1 … what is left to ship (a parcel's items, or
        the quantities to close); `nothing`: the refusal when no line is chosen."""
        by_id = {line.id: line for line in order.lines}
        unknown = [line_id for line_id in quantities if line_id not in by_id]
        if unknown:
            self._refuse(InvalidInput("Une ligne choisie n'appartient pas à cette commande.",
                                      field="lines"))
        items: list[tuple[OrderLine, int]] = []
        for line in order.lines:
            qty = quantities.get(line.id, 0)
            if qty == 0:
                continue
            refusal = rules.parcel_quantity_refusal(line.sku, line.remaining, qty, f"{prefix}_{line.id}",
                                                    closed=bool(line.closed_quantity))
            if refusal is not None:
                self._refuse(refusal)
            items.append((line, qty))
        if not items:
            self._refuse(nothing or InvalidInput(
                "Sélectionnez au moins une référence à expédier, avec sa quantité.", field="lines"
            ))
        return items

    def _check_carrier(
        self, order: Order, code: str, raw_number: str, custom_url: str, custom_label: str,
        parcel: Shipment | None = None,
    ) -> tuple[carriers.Carrier, str, str | None, str]:
        """The carrier, tracking number, tracking URL and carrier name of a parcel to ship, or of
        `parcel` being corrected (its own number is not a repeat)."""
        try:
            chosen = carriers.get_carrier(code)
        except carriers.UnknownCarrier:
            self._refuse(InvalidInput("Choisissez un transporteur de la liste.", field="carrier"))
        try:
            number = carriers.check_tracking_number(chosen, raw_number or "")
        except carriers.InvalidTrackingNumber as exc:
            self._refuse(InvalidInput(exc.template, field="tracking_number",
                                      code=errors.INVALID_TRACKING_NUMBER, **exc.params))
        url_template: str | None = None
        if chosen.code == "other" and custom_url.strip():
            try:
                url_template = carriers.check_custom_url(custom_url)
            except carriers.InvalidTrackingUrl as exc:
                self._refuse(InvalidInput(exc.template, field="carrier_url",
                                          code=errors.INVALID_TRACKING_URL, **exc.params))
        if number and any(s.tracking_number == number for s in order.shipments if s is not parcel):
            self._refuse(InvalidInput(
                "Le numéro de suivi %(number)s est déjà enregistré pour un colis de cette commande.",
                number=number,
                field="tracking_number",
            ))
        label = chosen.name
        if chosen.code == "other":
            # The buyer is told who carries the parcel: « Autre transporteur » says nothing.
            label = _clean(custom_label, 100)
            if not label:
                self._refuse(InvalidInput("Indiquez le nom du transporteur.", field="carrier_label"))
        url = carriers.tracking_url(chosen, number, url_template) if number else None
        return chosen, number, url, label

    def _check_ship_date(self, order: Order, shipped_on: date | None, now: datetime) -> date:
        today = paris_today(now)
        day = shipped_on or today
        refusal = rules.ship_date_refusal(day, today, paris_today(order.created_at))
        if refusal is not None:
            self._refuse(refusal)
        return day

    def _set_status(self, order: Order) -> None:
        """Keep the stored status equal to the pure function (and the seller's counts with it)."""
        self.session.flush()
        before = counts.state_of(order)
        statuses = list(self.session.scalars(_PARCEL_STATUSES, {"order_id": order.id}))
        kept = {
            "status": derive_status(
                cancelled=order.cancelled_at is not None,
                paid=order.paid_at is not None,
                lines=[(line.quantity, line.shipped_quantity, line.closed_quantity) for line in order.lines],
                shipment_statuses=statuses,
            ),
            "open_problems": statuses.count(ShipmentStatus.PROBLEM),
            "refund_due_cents": refunds.due_now(self, order),
        }
        if any(getattr(order, name) != value for name, value in kept.items()):
            self._write(order, **kept)
            counts.move(self._seller_changes, order.seller_id, before, counts.state_of(order))

    def _write(self, row: Order | Shipment, **values: Any) -> None:
        """Set columns of a loaded order or parcel with a plain UPDATE, the object told they are
        committed: the ORM's flush of one changed row costs several times the statement."""
        statement = _update_statement(type(row).__table__, tuple(values))
        self.session.execute(statement, {"row_id": row.id, **values})
        for name, value in values.items():
            set_committed_value(row, name, value)

    def _event(self, order: Order, kind: str, actor: Actor, details: dict[str, Any]) -> None:
        # Every change of an order leaves a history entry: the seller's lists are now stale.
        self._seller_changes.setdefault(order.seller_id, Counter())
        self.session.execute(_ADD_EVENT, dict(
            order_id=order.id,
            at=self.clock(),
            kind=kind,
            actor=actor.kind,
            actor_label=actor.label,
            details=details,
        ))

    def _webhook(self, type: str, order: Order, shipment: Shipment | None = None) -> None:
        """An event for the webhooks, written by `_commit` in this transaction, once every
        change is flushed: its body is the order as it is committed."""
        self._pending_webhooks.append((type, order, shipment))

    def _email(
        self,
        kind: EmailKind,
        order: Order,
        *,
        seller: Seller | None = None,
        shipment: Shipment | None = None,
        data: dict[str, Any] | None = None,
        to: str | None = None,
        key: str | None = None,
    ) -> None:
        """One outbox row. `key` replaces the default dedupe key (one e-mail per kind, parcel or
        order, and recipient) for e-mails that may rightly come again (a new deadline's E5)."""
        seller = seller or order.seller
        role = to or ("seller" if kind in _SELLER_EMAILS else "buyer")
        if role == "seller":
            to_email, to_name, locale = seller.notify_address, seller.shop_name, seller.locale
        else:
            to_email, to_name, locale = order.buyer_email, order.buyer_name, "fr"
        subject_key = f"shipment:{shipment.id}" if shipment is not None else f"order:{order.id}"
        suffix = f":{role}" if kind == EmailKind.AUTO_RECEIVED else ""
        # A plain INSERT: the row is never used as an object, only its id (after the commit).
        row_id = self.session.scalar(_ADD_EMAIL, dict(
            dedupe_key=key or f"{kind.value}:{subject_key}{suffix}",
            kind=kind.value,
            order_id=order.id,
            shipment_id=shipment.id if shipment is not None else None,
            to_email=to_email,
            to_name=to_name,
            recipient_role=role,
            locale=locale or "fr",
            data={"order_id": order.id, **({"shipment_id": shipment.id} if shipment else {}),
                  **(data or {})},
            next_attempt_at=self.clock(),
            created_at=self.clock(),
        ))
        self._pending_emails.append(row_id)

    def _commit(self) -> None:
        emails, receipts, reminders = self._pending_emails, self._pending_receipts, self._pending_reminders
        self._pending_emails, self._pending_receipts, self._pending_reminders = [], [], []
        changed, self._seller_changes = self._seller_changes, {}
        pending_webhooks, self._pending_webhooks = self._pending_webhooks, []
        deliveries: list[int] = []
        if pending_webhooks:
            self.session.flush()
            for type, order, shipment in pending_webhooks:
                deliveries += webhook_events.record(self.session, type, order, shipment, at=self.clock())
        if changed:
            # Last statement before the commit, sellers in id order: the seller row's lock is
            # held as briefly as possible and two transactions always take them in one order.
            self.session.execute(counts.BUMP, counts.bump_parameters(changed))
        behind, self._behind = self._behind, False
        if self.keep_order and not behind:
            self._commit_keeping(changed)
        else:
            self.session.commit()
        # Only now, with the work committed, may anyone act on it.
        if not (emails or deliveries or receipts or reminders):
            return
        with signals.one_commit(self):
            if emails:
                signals.emails_queued.send(self, ids=emails)
            if deliveries:
                signals.webhooks_queued.send(self, ids=deliveries)
            for shipment_id, due in receipts:
                signals.receipt_requested.send(self, shipment_id=shipment_id, due_at=due)
            for shipment_id, at in reminders:
                signals.reminder_scheduled.send(self, shipment_id=shipment_id, at=at)

    def _commit_keeping(self, changed_sellers: Iterable[int]) -> None:
        """Commit without expiring the objects (`keep_order`); the sellers' `orders_version`
        and counts, moved by a plain UPDATE, are read again if asked."""
        for seller_id in changed_sellers:
            seller = self.session.identity_map.get(identity_key(Seller, seller_id))
            if seller is not None:
                self.session.expire(seller, ["orders_version", *counts.COLUMNS.values()])
        expire, self.session.expire_on_commit = self.session.expire_on_commit, False
        try:
            self.session.commit()
        finally:
            self.session.expire_on_commit = expire

    def _refuse(self, error: WorkflowError) -> None:
        self._pending_emails, self._pending_receipts, self._seller_changes = [], [], {}
        self._pending_reminders, self._pending_webhooks, self._behind = [], [], False
        self.session.rollback()
        raise error


@functools.cache
def _update_statement(table: Any, names: tuple[str, ...]) -> Update:
    """`UPDATE <table> SET <names> WHERE id = :row_id` (values by name), built once."""
    return (update(table).where(table.c.id == bindparam("row_id"))
            .values(**{name: bindparam(name, type_=table.c[name].type) for name in names})
            .execution_options(synchronize_session=False))


_SELLER_EMAILS = {EmailKind.NEW_ORDER_SELLER, EmailKind.RECEIPT_CONFIRMED_SELLER,
                  EmailKind.PROBLEM_REPORTED_SELLER}


def _clean(value: str | None, limit: int) -> str:
    """Free text from a person: control characters out, trimmed to the column's size."""
    text = "".join(ch for ch in (value or "") if ch == "\n" or ch >= " ")
    return text.strip()[:limit]
