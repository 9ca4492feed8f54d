"""sweep, outbox, stats, demo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select, update

from tests.conftest import Clock
from uniqu3.cli import group
from uniqu3.cli.outbox import requeue
from uniqu3.extensions import db
from uniqu3.models import (
    Order,
    OrderLine,
    OrderStatus,
    OutboxEmail,
    OutboxStatus,
    ReceivedBy,
    Refund,
    Seller,
    Shipment,
    ShipmentStatus,
)
from uniqu3.passwords import verify_password
from uniqu3.workflow import Actor, Workflow, signals

Admin = Callable[..., Result]
SELLER = Actor.seller("atelier@example.fr")


@pytest.fixture
def awaiting_receipt(make_order: Callable[..., Order], wf: Workflow, clock: Clock) -> Shipment:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    shipment = wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity for line in lines},
                       carrier="colissimo", tracking_number="6A12345678901").shipment
    assert shipment is not None
    wf.request_receipt(shipment.id, actor=SELLER)
    return shipment


# ----------------------------------------------------------------------------- sweep
def test_sweep_receives_what_is_due_and_says_so(admin: Admin, awaiting_receipt: Shipment,
                                                clock: Clock) -> None:
    early = admin("sweep")
    assert early.exit_code == 0
    assert "0 colis" in early.output

    clock.advance(days=7, seconds=1)
    result = admin("sweep")

    assert result.exit_code == 0, result.output
    assert "1 colis passé(s) en « Reçu »" in result.output
    assert "E-mails :" in result.output
    db.session.refresh(awaiting_receipt)
    assert awaiting_receipt.status == ShipmentStatus.RECEIVED
    assert awaiting_receipt.received_by == ReceivedBy.AUTO


# ----------------------------------------------------------------------------- outbox
def fail(ids: list[int], error: str = "SMTP 451 temporairement indisponible") -> None:
    """Put rows in the state the delivery leaves after its last attempt."""
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id.in_(ids)).values(
        status=OutboxStatus.FAILED, attempts=8, last_error=error))
    db.session.commit()


def set_status(ids: list[int], status: OutboxStatus, **values: Any) -> None:
    """Set rows' delivery state (the jobs layer may already have sent them inline)."""
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id.in_(ids))
                       .values(status=status, **values))
    db.session.commit()


#: After a retry the e-mail is back in line, or already sent when delivery runs inline.
REQUEUED = {OutboxStatus.PENDING, OutboxStatus.SENT}


def outbox_rows() -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_outbox_lists_pending_and_failed_emails(admin: Admin, make_order: Callable[..., Order]) -> None:
    make_order()
    e1, e2 = outbox_rows()
    set_status([e1.id], OutboxStatus.PENDING, attempts=2, last_error="timed out")
    fail([e2.id])

    result = admin("outbox")

    assert result.exit_code == 0
    lines = result.output.splitlines()
    row1 = next(line for line in lines if line.startswith(f"{e1.id} "))
    assert "E1" in row1 and "pending" in row1 and "atelier@example.fr" in row1 and "timed out" in row1
    row2 = next(line for line in lines if line.startswith(f"{e2.id} "))
    assert "E2" in row2 and "failed" in row2 and "camille@example.fr" in row2
    assert "SMTP 451" in row2 and " 8 " in row2


def test_outbox_lists_the_first_rows_and_says_how_many_more_wait(
        admin: Admin, make_order: Callable[..., Order], monkeypatch: pytest.MonkeyPatch) -> None:
    make_order()
    make_order()
    e1, *_ = outbox_rows()
    set_status([row.id for row in outbox_rows()], OutboxStatus.PENDING)
    monkeypatch.setattr(group, "LIST_LIMIT", 1)

    result = admin("outbox")

    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines()[1:-1]]
    assert listed == [str(e1.id)]
    assert result.output.splitlines()[-1] == "… et 3 autre(s)."


def test_outbox_says_when_nothing_waits(admin: Admin) -> None:
    result = admin("outbox")
    assert result.exit_code == 0
    assert "Aucun e-mail" in result.output


@pytest.fixture
def queued() -> Any:
    """The ids announced on the workflow's `emails_queued` signal during the test."""
    announced: list[list[int]] = []

    def listen(sender: Any, ids: list[int]) -> None:
        announced.append(ids)

    signals.emails_queued.connect(listen)
    yield announced
    signals.emails_queued.disconnect(listen)


def test_retry_puts_chosen_emails_back_in_line_and_announces_them(
    admin: Admin, make_order: Callable[..., Order], clock: Clock, queued: list[list[int]]
) -> None:
    make_order()
    e1, e2 = outbox_rows()
    fail([e1.id, e2.id])
    clock.advance(hours=5)
    queued.clear()

    result = admin("outbox", "--retry", str(e2.id))

    assert result.exit_code == 0, result.output
    assert f"1 e-mail(s) remis en file d'envoi : {e2.id}" in result.output
    db.session.refresh(e1)
    db.session.refresh(e2)
    assert e2.status in REQUEUED
    assert e2.attempts <= 1  # the count starts again
    assert e1.status == OutboxStatus.FAILED
    assert queued == [[e2.id]]


def test_requeue_resets_the_rows_it_puts_back(ctx: Flask, make_order: Callable[..., Order],
                                              clock: Clock) -> None:
    make_order()
    e1, e2 = outbox_rows()
    fail([e1.id, e2.id])
    set_status([e2.id], OutboxStatus.FAILED, claimed_at=clock(), claim_token="old-claim")
    later = clock.advance(hours=5)

    assert requeue([e2.id], all_failed=False, now=later) == [e2.id]

    db.session.refresh(e1)
    db.session.refresh(e2)
    assert (e2.status, e2.attempts, e2.next_attempt_at) == (OutboxStatus.PENDING, 0, later)
    assert (e2.claimed_at, e2.claim_token) == (None, None)
    assert "SMTP 451" in e2.last_error  # kept: it tells what went wrong last time
    assert e1.status == OutboxStatus.FAILED


def test_retry_failed_takes_every_failed_email(
    admin: Admin, make_order: Callable[..., Order], queued: list[list[int]]
) -> None:
    make_order()
    make_order()
    rows = outbox_rows()
    fail([rows[0].id, rows[3].id])
    queued.clear()

    result = admin("outbox", "--retry-failed")

    assert result.exit_code == 0, result.output
    assert {r.status for r in outbox_rows()} <= REQUEUED
    assert queued == [[rows[0].id, rows[3].id]]


def test_retry_failed_with_nothing_failed(admin: Admin, make_order: Callable[..., Order],
                                          queued: list[list[int]]) -> None:
    make_order()
    queued.clear()
    result = admin("outbox", "--retry-failed")
    assert result.exit_code == 0
    assert "Aucun e-mail en échec" in result.output
    assert queued == []


def test_retry_refuses_unknown_and_sent_emails_and_changes_nothing(
    admin: Admin, make_order: Callable[..., Order], queued: list[list[int]]
) -> None:
    make_order()
    e1, e2 = outbox_rows()
    fail([e1.id])
    set_status([e2.id], OutboxStatus.SENT)
    queued.clear()

    unknown = admin("outbox", "--retry", str(e1.id), "--retry", "999")
    assert unknown.exit_code == 1
    assert "introuvable" in unknown.output and "999" in unknown.output

    sent = admin("outbox", "--retry", str(e1.id), "--retry", str(e2.id))
    assert sent.exit_code == 1
    assert "déjà envoyé" in sent.output

    db.session.refresh(e1)
    assert e1.status == OutboxStatus.FAILED
    assert queued == []


def test_a_sending_email_is_retried_only_once_abandoned(
    admin: Admin, make_order: Callable[..., Order], clock: Clock
) -> None:
    make_order()
    e1, _ = outbox_rows()
    set_status([e1.id], OutboxStatus.SENDING, claimed_at=clock())

    busy = admin("outbox", "--retry", str(e1.id))
    assert busy.exit_code == 1 and "en cours d'envoi" in busy.output

    clock.advance(minutes=20)
    assert admin("outbox", "--retry", str(e1.id)).exit_code == 0
    db.session.refresh(e1)
    assert e1.status in REQUEUED


def test_retry_needs_a_number(admin: Admin) -> None:
    result = admin("outbox", "--retry", "abc")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# ----------------------------------------------------------------------------- stats
def test_stats_counts_orders_by_status_and_emails(
    admin: Admin, make_order: Callable[..., Order], wf: Workflow
) -> None:
    make_order()
    paid = make_order()
    wf.confirm_payment(paid.id, actor=SELLER)
    rows = [r.id for r in outbox_rows()]
    assert len(rows) == 5
    set_status(rows[:2], OutboxStatus.PENDING)
    fail(rows[2:3])
    set_status(rows[3:], OutboxStatus.SENT)

    result = admin("stats")

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "Commandes : 2" in lines
    assert any(line.split() == ["En", "attente", "de", "paiement", "1"] for line in lines)
    assert any(line.split() == ["Payée", "1"] for line in lines)
    assert any(line.split() == ["Annulée", "0"] for line in lines)
    assert "E-mails : 2 en attente, 0 en cours d'envoi, 1 en échec, 2 envoyé(s)." in lines


# ----------------------------------------------------------------------------- demo
def test_demo_loads_orders_in_every_status_and_prints_how_to_log_in(
    admin: Admin, app: Flask, clock: Clock
) -> None:
    result = admin("demo")

    assert result.exit_code == 0, result.output
    out = result.output
    assert "http://localhost/connexion" in out
    assert "demo@uniqu3.fr" in out
    assert app.config["DEMO_PASSWORD"] in out

    seller = db.session.scalar(select(Seller).where(Seller.email == "demo@uniqu3.fr"))
    assert seller is not None
    assert seller.shop_name == "L'Atelier Démo"
    assert seller.payment_instructions
    assert verify_password(seller.password_hash, app.config["DEMO_PASSWORD"])

    statuses = dict(db.session.execute(
        select(Order.status, func.count()).where(Order.seller_id == seller.id).group_by(Order.status)
    ).all())
    assert set(statuses) == {s.value for s in OrderStatus}
    assert 18 <= sum(statuses.values()) <= 25

    parcels = db.session.scalars(select(Shipment)).all()
    assert any(p.status == ShipmentStatus.AWAITING_RECEIPT and p.receipt_due_at > clock()
               for p in parcels)
    by_buyer = [p for p in parcels if p.received_by == ReceivedBy.BUYER]
    assert by_buyer and all(p.received_at < p.receipt_due_at and p.receipt_due_at > clock()
                            for p in by_buyer)
    auto = [p for p in parcels if p.received_by == ReceivedBy.AUTO]
    assert auto and all(p.receipt_due_at <= clock() for p in auto)
    # Orders are spread over the past weeks, never in the future.
    created = db.session.scalars(select(Order.created_at)).all()
    assert max(created) <= clock()
    assert min(created) <= clock() - timedelta(days=14)
    # Varied buyers, addresses and products.
    orders = db.session.scalars(select(Order)).all()
    assert len({o.buyer_email for o in orders}) == len(orders)
    assert len({o.shipping_address["city"] for o in orders}) >= 10
    assert len(set(db.session.scalars(select(OrderLine.sku)))) >= 10


def test_demo_twice_creates_nothing_new_and_says_so(admin: Admin) -> None:
    assert admin("demo").exit_code == 0
    counts = [db.session.scalar(select(func.count()).select_from(model))
              for model in (Seller, Order, Shipment, OutboxEmail)]

    again = admin("demo")

    assert again.exit_code == 0, again.output
    assert "déjà chargées" in again.output and "rien de nouveau" in again.output
    assert [db.session.scalar(select(func.count()).select_from(model))
            for model in (Seller, Order, Shipment, OutboxEmail)] == counts


def test_demo_with_a_deactivated_demo_seller_says_what_to_do(admin: Admin) -> None:
    admin("demo")
    admin("deactivate-seller", "demo@uniqu3.fr")
    result = admin("demo")
    assert result.exit_code == 1
    assert "activate-seller" in result.output


def test_demo_shows_a_refund_due_and_one_recorded(admin: Admin) -> None:
    assert admin("demo").exit_code == 0
    owing = db.session.scalars(select(Order).where(Order.refund_due_cents > 0)).all()
    assert [(o.external_id, o.status, o.refund_due_cents) for o in owing] == [
        ("DEMO-1024", OrderStatus.SHIPPED, 2 * 2200)]
    refunded = db.session.scalars(select(Refund)).all()
    assert [(r.order.external_id, r.method) for r in refunded] == [("DEMO-1021", "transfer")]
    assert refunded[0].order.refund_due_cents == 0
    assert refunded[0].amount_cents == refunded[0].order.total_cents


# ----------------------------------------------------------------------------- recount
def test_stats_says_when_the_tab_counts_went_wrong_and_recount_mends_them(
    admin: Admin, make_order: Callable[..., Order], wf: Workflow, seller: Seller
) -> None:
    wf.confirm_payment(make_order().id, actor=SELLER)
    make_order()
    assert "Compteurs des onglets de « Commandes » : exacts." in admin("stats").output.splitlines()
    assert admin("recount").output.splitlines() == [
        "Compteurs des onglets de « Commandes » : exacts, rien à corriger."]
    # Rows changed behind the application's back (a hand-made fix in the database).
    db.session.execute(update(Order).values(status=OrderStatus.CANCELLED))
    db.session.commit()
    stats = admin("stats").output.splitlines()
    assert any(line.split() == ["Annulée", "2"] for line in stats)  # stats reads the orders
    assert ("Compteurs des onglets de « Commandes » inexacts pour 1 vendeur(s) : flask admin recount "
            "les corrige.") in stats
    result = admin("recount")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "Compteurs des onglets de « Commandes » corrigés pour 1 vendeur(s)."]
    db.session.expire_all()
    assert (seller.orders_cancelled, seller.orders_paid, seller.orders_awaiting_payment) == (2, 0, 0)
    assert "Compteurs des onglets de « Commandes » : exacts." in admin("stats").output.splitlines()
