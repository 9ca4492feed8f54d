"""The data model (SQLAlchemy 2 typed style).

Only `uniqu3.workflow` changes orders, lines, shipments, history and the outbox
rows it creates; everything else reads them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from . import search_index
from .carriers import HAND_DELIVERY
from .extensions import Base
from .timeutil import as_utc, utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, gives back aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class ShipmentStatus(enum.StrEnum):
    SHIPPED = "shipped"
    AWAITING_RECEIPT = "awaiting_receipt"
    RECEIVED = "received"
    # The buyer reported a problem: no automatic receipt until the seller answers.
    PROBLEM = "problem"
    # Closed by the seller as lost: its quantities are to ship again.
    LOST = "lost"


class ProblemReason(enum.StrEnum):
    NOT_RECEIVED = "not_received"
    DAMAGED = "damaged"
    WRONG_ITEMS = "wrong_items"
    OTHER = "other"


class ReceivedBy(enum.StrEnum):
    BUYER = "buyer"
    AUTO = "auto"


class EmailKind(enum.StrEnum):
    NEW_ORDER_SELLER = "E1"
    ORDER_RECORDED_BUYER = "E2"
    PAYMENT_RECEIVED_BUYER = "E3"
    SHIPPED_BUYER = "E4"
    CONFIRM_RECEIPT_BUYER = "E5"
    RECEIPT_CONFIRMED_SELLER = "E6"
    AUTO_RECEIVED = "E7"
    CANCELLED_BUYER = "E8"
    RECEIPT_REMINDER_BUYER = "E5R"
    PROBLEM_REPORTED_SELLER = "P1"
    PROBLEM_RECORDED_BUYER = "P2"
    SELLER_MESSAGE_BUYER = "P3"
    PARCEL_LOST_BUYER = "P4"
    # Corrections by the seller: a parcel's tracking, a payment confirmed by mistake.
    PARCEL_UPDATED_BUYER = "E4U"
    PAYMENT_UNDONE_BUYER = "E3U"
    # « Clore le reste »: the items the seller will not ship, and their amount.
    REMAINDER_CLOSED_BUYER = "C1"
    # « Remboursement effectué »: the amount refunded, how, and what is still due.
    REFUND_RECORDED_BUYER = "R1"
    # The seller's account, not an order (order_id is NULL).
    PASSWORD_RESET = "A1"
    PASSWORD_CHANGED = "A2"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


def _status_type(enum_class: type[enum.StrEnum], length: int) -> Enum:
    """A VARCHAR holding the member's value (no CHECK, no native enum: the schema stays plain),
    read back as the member itself so the model and the workflow speak the same type."""
    return Enum(enum_class, native_enum=False, create_constraint=False, length=length,
                values_callable=lambda members: [member.value for member in members])


class Seller(Base):
    __tablename__ = "sellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    shop_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    payment_instructions: Mapped[str] = mapped_column(Text, default="")
    # Where the seller's e-mails go; the login e-mail when empty.
    notification_email: Mapped[str | None] = mapped_column(String(254))
    # Printed on the preparation slip, for the buyer's returns.
    return_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change and logout-everywhere: old sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped by the workflow in every transaction that changes one of the seller's orders:
    # a rendered « Commandes » list stays valid exactly as long as this number does.
    orders_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # How many of the seller's orders each tab of « Commandes » holds, kept by the workflow in
    # the same UPDATE as orders_version (workflow/counts.py): per status, then whatever the
    # status, with a parcel in problem, with money to give back, and those of them in a status
    # « À traiter » does not count.
    orders_awaiting_payment: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_paid: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_partially_shipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_shipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_cancelled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_open_problems: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_refund_due: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders_other_problems: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="seller", lazy="raise_on_sql")

    @property
    def notify_address(self) -> str:
        return self.notification_email or self.email

    # Flask-Login protocol, without importing Flask here.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The first characters of the key, to find it and to show it; the rest is only hashed.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    # A key bound to a seller may only act for that seller; None: the marketplace's key.
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    seller: Mapped[Seller | None] = relationship()


_WAITING_STATUSES = "('awaiting_payment', 'paid', 'partially_shipped')"
#: The orders « À traiter » shows: in a status of workflow/counts.py WAITING_FOR_SELLER, or in
#: another with a parcel in problem (its OTHER_PROBLEMS). Written so that « Problèmes »'s
#: condition (`open_problems > 0`) does not imply it: that tab keeps its own smaller index
#: (SQLite has no statistics to tell). tests/seller/test_list_plans.py checks the list uses it.
WAITING_FOR_SELLER_SQL = (f"status IN {_WAITING_STATUSES}"
                          f" OR (open_problems > 0 AND status NOT IN {_WAITING_STATUSES})")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("seller_id", "external_id"),
        # « Commandes »: a seller's orders, newest first, optionally by status.
        Index("ix_orders_seller_created", "seller_id", "created_at", "id"),
        Index("ix_orders_seller_status_created", "seller_id", "status", "created_at", "id"),
        # The API's list: the key's orders, most recently updated first (keyset pagination).
        Index("ix_orders_updated", "updated_at", "id"),
        Index("ix_orders_seller_updated", "seller_id", "updated_at", "id"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        # « Problèmes »: the few orders with a parcel in problem (a partial index: it holds
        # only them, so it costs nothing to the other orders). It carries every column the
        # list's statements over it read (status and the count too): a covering index is the
        # planner's choice whatever other index starts with seller_id, and SQLite has no
        # statistics to tell a partial index is small (ix_orders_seller_updated took its place).
        Index("ix_orders_seller_problems", "seller_id", "created_at", "id", "status", "open_problems",
              sqlite_where=text("open_problems > 0"), postgresql_where=text("open_problems > 0")),
        # « À rembourser »: the few orders with money to give back (a partial index, likewise).
        Index("ix_orders_seller_refund_due", "seller_id", "created_at", "id", "refund_due_cents",
              sqlite_where=text("refund_due_cents > 0"), postgresql_where=text("refund_due_cents > 0")),
        # « À traiter », the tab the list opens on: its page is one range of this index instead
        # of one range per status merged. The list's statement holds the same condition
        # (seller/queries.py `waiting`): a database walks a partial index only for a statement
        # whose condition implies the index's.
        Index("ix_orders_seller_waiting", "seller_id", "created_at", "id", "status", "open_problems",
              sqlite_where=text(WAITING_FOR_SELLER_SQL), postgresql_where=text(WAITING_FOR_SELLER_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    # Hash of the intake body: a replay with the same body is answered, another is a conflict.
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_email: Mapped[str] = mapped_column(String(254))
    billing_address: Mapped[dict[str, str]] = mapped_column(JSON)
    shipping_address: Mapped[dict[str, str]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # What the buyer pays: the items (`items_cents`) and the shipping.
    total_cents: Mapped[int] = mapped_column(Integer)
    shipping_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # E.164 (« +33612345678 »), when the marketplace gave it.
    buyer_phone: Mapped[str | None] = mapped_column(String(20))
    # The relay or pickup point the parcel goes to instead of the shipping address
    # (carrier, id, name, line1, line2, postal_code, city, country), or None.
    pickup_point: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Kept equal to workflow.status.derive_status() by the workflow, for lists and counts.
    status: Mapped[OrderStatus] = mapped_column(
        _status_type(OrderStatus, 20), default=OrderStatus.AWAITING_PAYMENT
    )
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_note: Mapped[str] = mapped_column(String(500), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every action: the row lock every action takes first.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # What the « Commandes » search finds, trigram-indexed (uniqu3.search_index): reference,
    # buyer name and e-mail, SKUs, tracking numbers; written by the workflow.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Parcels in problem (the buyer reported one, the seller has not answered yet): kept
    # equal to the parcels' statuses by the workflow, for the « Problèmes » tab.
    open_problems: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What is still to give back to the buyer (workflow.refunds.refund_due_cents), kept by the
    # workflow in every action's transaction, for the « À rembourser » tab.
    refund_due_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The items ordered (the lines' quantities, which never change after intake), written at
    # intake: « Commandes » shows it on every row without reading the lines.
    item_count: Mapped[int] = mapped_column(Integer, server_default="0")

    seller: Mapped[Seller] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.position", cascade="all, delete-orphan"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", order_by="Shipment.number", cascade="all, delete-orphan"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="order", order_by="Refund.id", cascade="all, delete-orphan", lazy="raise_on_sql"
    )

    @property
    def items_cents(self) -> int:
        """The items' subtotal: the total without the shipping."""
        return self.total_cents - self.shipping_cents

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


search_index.attach(Order.__table__)


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "sku"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents >= 0", name="price_not_negative"),
        # Over-shipping is impossible at the database level too.
        CheckConstraint(
            "shipped_quantity >= 0 AND shipped_quantity <= quantity", name="shipped_within_ordered"
        ),
        Index("ix_order_lines_sku", "sku"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0)
    # « Clore le reste »: quantities the seller will not ship (out of stock); never shipped.
    closed_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def remaining(self) -> int:
        """What is left to ship: neither shipped nor closed."""
        return self.quantity - self.shipped_quantity - self.closed_quantity

    @property
    def line_total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("order_id", "number"),
        UniqueConstraint("order_id", "request_key"),
        # The sweep reads only what is due: O(due), not O(all).
        Index("ix_shipments_status_due", "status", "receipt_due_at"),
        Index("ix_shipments_tracking_number", "tracking_number"),
        # The sweep's reminders, O(due) too: the due time is cleared once the reminder is sent.
        Index("ix_shipments_status_reminder", "status", "reminder_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # colis n° 1, 2, … within the order
    carrier: Mapped[str] = mapped_column(String(32))
    carrier_label: Mapped[str] = mapped_column(String(100), default="")
    tracking_number: Mapped[str] = mapped_column(String(64), default="")
    tracking_url: Mapped[str | None] = mapped_column(String(600))
    shipped_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ShipmentStatus] = mapped_column(
        _status_type(ShipmentStatus, 20), default=ShipmentStatus.SHIPPED
    )
    # The form's one-time key: a double submit is answered with the same shipment.
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    receipt_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by: Mapped[ReceivedBy | None] = mapped_column(_status_type(ReceivedBy, 10))
    # The buyer's confirmation, kept as the seller's proof.
    proof_ip: Mapped[str | None] = mapped_column(String(64))
    proof_user_agent: Mapped[str | None] = mapped_column(String(500))
    # The reminder before the deadline: when it is due (cleared once sent), when it was sent.
    reminder_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="shipments")
    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", order_by="ShipmentLine.id", cascade="all, delete-orphan"
    )
    problems: Mapped[list[ShipmentProblem]] = relationship(
        back_populates="shipment", order_by="ShipmentProblem.id", cascade="all, delete-orphan",
        lazy="raise_on_sql",
    )

    @property
    def handed_over(self) -> bool:
        """Handed to the buyer by the seller (« Remise en main propre »): never « en route »."""
        return self.carrier == HAND_DELIVERY

    @property
    def items(self) -> list[tuple[OrderLine, int]]:
        """What the parcel holds: each order line with its quantity in this parcel. No query
        when the order's lines are loaded (the session finds each line by its id)."""
        return [(item.order_line, item.quantity) for item in self.lines]


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


class ShipmentProblem(Base):
    """A buyer's « Signaler un problème », kept as evidence like a confirmation."""

    __tablename__ = "shipment_problems"
    __table_args__ = (Index("ix_shipment_problems_shipment", "shipment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    # Whether this report e-mailed the seller (a report soon after another one does not).
    seller_notified: Mapped[bool] = mapped_column(default=False)
    # How the problem ended: relaunched, lost, received (None while open).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(20))

    shipment: Mapped[Shipment] = relationship(back_populates="problems")


class Refund(Base):
    """« Remboursement effectué »: money the seller gave back to the buyer, as they recorded it."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("order_id", "request_key"),
        CheckConstraint("amount_cents > 0", name="refund_positive"),
        Index("ix_refunds_order", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))  # workflow.refunds.METHODS
    reference: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    # The form's one-time key: a double submit records one refund.
    request_key: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(20))  # seller, api, operator
    actor_label: Mapped[str] = mapped_column(String(254), default="")

    order: Mapped[Order] = relationship(back_populates="refunds")


class OrderEvent(Base):
    """The order's history: who did what, when."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(20))  # seller, buyer, system, operator, api
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    order: Mapped[Order] = relationship(back_populates="events")


class IdempotencyKey(Base):
    """An API request sent with `Idempotency-Key`: the key, what was asked, and the answer.

    The unique (api key, key) pair makes two requests with the same key act once, even when
    they arrive together; `status_code` stays NULL while the first one is being answered.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("api_key_id", "key"),
        Index("ix_idempotency_keys_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path and body: the same key for another request is a conflict.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # A random name for what the request does, kept by a retry that takes the row over: the
    # workflow records a parcel under it once (`Shipment.request_key`).
    token: Mapped[str] = mapped_column(String(32))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEmail(Base):
    """One e-mail to send, written in the transaction of the action that causes it."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        # The worker's query: what is pending and due.
        Index("ix_outbox_emails_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_emails_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One e-mail per event and recipient, guaranteed by the database.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[EmailKind] = mapped_column(_status_type(EmailKind, 4))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    shipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipments.id", ondelete="SET NULL")
    )
    to_email: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_role: Mapped[str] = mapped_column(String(10))  # seller or buyer
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(_status_type(OutboxStatus, 10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))
    # Kept when delivered to the dev mailbox (no SMTP server configured).
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order | None] = relationship()


class WebhookDeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEndpoint(Base):
    """A URL that receives the events (Standard Webhooks), registered by an operator."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The events of this seller's orders only; None: every seller's.
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    # The event types it receives; empty: all of them.
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # « whsec_ » + base64 of the key: the HMAC needs it in clear, it is shown once.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    # Why it was turned off (the receiver answered 410 Gone), and when.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    seller: Mapped[Seller | None] = relationship()


class WebhookEvent(Base):
    """One event, written in the transaction of the action that causes it, with the exact body
    every endpoint receives (signed as it is stored: the same bytes on every try)."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The `webhook-id` header: the same on every try, receivers use it to drop repeats.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event to one endpoint: an outbox row of its own, tried until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The deliverer's query: what is pending and due.
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        # An endpoint's deliveries of one order go in order: the earlier ones are looked up here.
        Index("ix_webhook_deliveries_endpoint_order", "endpoint_id", "order_id", "id"),
        Index("ix_webhook_deliveries_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # The event's order, copied here for the ordering rule (0 when there is none).
    order_id: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[WebhookDeliveryStatus] = mapped_column(
        _status_type(WebhookDeliveryStatus, 10), default=WebhookDeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    # The receiver's last answer (HTTP status; None: no answer) and what went wrong.
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()


__all__ = [
    "ApiKey",
    "EmailKind",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "OutboxEmail",
    "OutboxStatus",
    "ProblemReason",
    "ReceivedBy",
    "Refund",
    "Seller",
    "Shipment",
    "ShipmentLine",
    "ShipmentProblem",
    "ShipmentStatus",
    "UTCDateTime",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEvent",
]
