"""The database refusing a write in the middle of an action, at every write the action makes.

For each action (an order from the API, the seller's payment, cancellation, shipment,
receipt request, the buyer's confirmation, the sweep's automatic receipt), a first run
records every INSERT/UPDATE/DELETE it sends; then, for each of them in turn, the same action
on a fresh order in the same state meets a database that refuses exactly that write.

- A write of the action itself: the answer is an error page (500, « Rien n'a été modifié »),
  and nothing of it is left: no status change, no history entry, no e-mail, no parcel.
  Done again, it succeeds once.
- A write of the e-mail delivery that follows the commit: the action stands (the seller's
  answer is a success) and its e-mails still go out, once, with the next sweeps.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine

from tests.conftest import Clock
from tests.reliability.actors import Answer, ClientWeb, SellerAgent, buyer_confirms, order_body, post_order
from tests.reliability.conftest import Figures
from tests.seller.conftest import log_in
from uniqu3.extensions import db
from uniqu3.mail.delivery import LEASE
from uniqu3.models import Order, OrderEvent, OrderLine, OutboxEmail, OutboxStatus, Seller, Shipment
from uniqu3.sweep import run_sweep
from uniqu3.tokens import receipt_token
from uniqu3.workflow import Actor, Workflow

pytestmark = pytest.mark.reliability

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # Errors become the 500 page a seller would see, instead of propagating into the test.
    # The clock jumps past the delivery lease many times: the seller's session must outlast it.
    return {**app_config, "PROPAGATE_EXCEPTIONS": False, "SESSION_IDLE_MINUTES": 60 * 24 * 365}


@dataclass
class WriteFault:
    """Counts the write statements sent to the database (and the commits between them);
    refuses the `fail_at`-th write as the database would (a DB-API OperationalError)."""

    fail_at: int | None = None
    writes: list[str] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)  # "W <table>" / "COMMIT"

    def before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        words = statement.split()
        if not words or words[0].upper() not in WRITES:
            return
        target = (words[2] if words[0].upper() in ("INSERT", "DELETE") else words[1]).strip('"')
        self.writes.append(f"{words[0].upper()} {target}")
        self.timeline.append("W")
        if len(self.writes) == self.fail_at:
            raise conn.dialect.loaded_dbapi.OperationalError(
                f"injected: the database refused write {self.fail_at} ({self.writes[-1]})")

    def commit(self, conn: Any) -> None:
        self.timeline.append("COMMIT")

    def action_writes(self) -> int:
        """How many writes belong to the action: up to the commit that wrote its history entry."""
        history = self.writes.index("INSERT order_events") + 1
        done = 0
        for item in self.timeline:
            if item == "W":
                done += 1
            elif done >= history:
                return done
        return done


class Injector:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run(self, fault: WriteFault, action: Callable[[], Any]) -> Any:
        event.listen(self.engine, "before_cursor_execute", fault.before)
        event.listen(self.engine, "commit", fault.commit)
        try:
            return action()
        finally:
            event.remove(self.engine, "before_cursor_execute", fault.before)
            event.remove(self.engine, "commit", fault.commit)


def snapshot() -> tuple[Any, ...]:
    """Everything an action may change, across all orders."""
    db.session.expire_all()
    return (
        db.session.execute(select(Order.id, Order.status, Order.paid_at, Order.cancelled_at,
                                  Order.version, Order.updated_at).order_by(Order.id)).all(),
        db.session.execute(select(OrderLine.id, OrderLine.shipped_quantity).order_by(OrderLine.id)).all(),
        db.session.execute(select(Shipment.id, Shipment.status, Shipment.received_by, Shipment.receipt_due_at,
                                  Shipment.proof_ip).order_by(Shipment.id)).all(),
        db.session.scalars(select(OrderEvent.id).order_by(OrderEvent.id)).all(),
        db.session.scalars(select(OutboxEmail.id).order_by(OutboxEmail.id)).all(),
    )


@dataclass
class Action:
    """An action to break: how to bring a fresh order to its starting state, how to do it,
    what success looks like."""

    name: str
    prepare: Callable[[], Any]
    act: Callable[[Any], Any]
    ok: int
    event_kind: str


@pytest.fixture
def actions(app: Flask, wf: Workflow, seller: Seller, clock: Clock, storefront_key: str) -> list[Action]:
    actor = Actor.seller(seller.email)
    client = app.test_client()
    log_in(client, seller)
    agent = SellerAgent(ClientWeb(client), seller.email, "")
    from tests.reliability.actors import csrf_from

    agent.token = csrf_from(agent.get("/parametres").body)
    api = ClientWeb(app.test_client())
    buyer = ClientWeb(app.test_client())
    counter = iter(range(1, 100_000))

    def placed() -> Order:
        from tests.conftest import order_input

        data = order_input(seller.email, f"MKT-DB-{next(counter)}")
        return wf.place_order(data, actor=Actor.api("shop")).order

    def paid() -> Order:
        order = placed()
        wf.confirm_payment(order.id, actor=actor)
        return order

    def shipped() -> Shipment:
        order = paid()
        shipment = wf.ship(order.id, actor=actor, carrier="hand_delivery",
                           quantities={line.id: line.quantity for line in order.lines}).shipment
        assert shipment is not None
        return shipment

    def awaiting() -> Shipment:
        shipment = shipped()
        wf.request_receipt(shipment.id, actor=actor)
        return shipment

    def overdue() -> Shipment:
        shipment = awaiting()
        db.session.execute(update(Shipment).where(Shipment.id == shipment.id)
                           .values(receipt_due_at=clock() - timedelta(minutes=1)))
        db.session.commit()
        return shipment

    def reference(shipment: Shipment) -> str:
        return str(db.session.scalar(select(Order.reference).where(Order.id == shipment.order_id)))

    def lines(order: Order) -> dict[int, int]:
        return {line_id: qty for line_id, qty in db.session.execute(
            select(OrderLine.id, OrderLine.quantity).where(OrderLine.order_id == order.id))}

    def sweep(_: Any) -> Answer:
        try:
            run_sweep()
        except Exception as exc:  # the job fails; RQ retries it, the next sweep does it anyway
            db.session.rollback()
            return Answer(500, {}, repr(exc))
        return Answer(200, {}, "")

    def api_order(external_id: str) -> Answer:
        return post_order(api, storefront_key, order_body(external_id, seller.email))

    return [
        Action("api_order", lambda: f"MKT-DBAPI-{next(counter)}", api_order, 201, "order_placed"),
        Action("pay", placed, lambda o: agent.pay(o.reference, "virement reçu"), 303, "payment_confirmed"),
        Action("cancel", placed, lambda o: agent.cancel(o.reference, "rupture"), 303, "cancelled"),
        Action("ship", paid, lambda o: agent.ship(o.reference, lines(o), carrier="colissimo"), 303,
               "shipped"),
        Action("request_receipt", shipped, lambda s: agent.request_receipt(reference(s), 1), 303,
               "receipt_requested"),
        Action("buyer_confirms", awaiting, lambda s: buyer_confirms(buyer, receipt_token(s.id)), 200,
               "receipt_confirmed"),
        Action("sweep_auto_receipt", overdue, sweep, 200, "auto_received"),
    ]


def count_events(kind: str) -> int:
    return int(db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == kind))
               or 0)


def finish_deliveries(clock: Clock) -> None:
    """The lease of rows a broken delivery left `sending` ends; the next sweep sends all."""
    clock.advance(seconds=LEASE.total_seconds() + 60)
    run_sweep()


def test_a_write_refused_anywhere_in_an_action_leaves_nothing_half_done(
    app: Flask, actions: list[Action], clock: Clock, figures: Figures,
) -> None:
    with app.app_context():
        injector = Injector(db.engine)
    tried: dict[str, dict[str, int]] = {}
    half_done: list[str] = []  # a refused action that left some of its writes behind
    stuck: list[str] = []  # e-mails never sent after a fault
    for action in actions:
        # The reference run: which writes the action makes, and where its transaction ends.
        reference = WriteFault()
        start = action.prepare()
        answer = injector.run(reference, lambda: action.act(start))  # noqa: B023
        assert answer.status == action.ok, (action.name, answer.body[:500])
        in_action = reference.action_writes()
        assert "INSERT order_events" in reference.writes[:in_action]
        assert any(w == "INSERT outbox_emails" for w in reference.writes[:in_action])
        finish_deliveries(clock)
        outcome = {"writes": len(reference.writes), "action_writes": in_action, "refused_whole": 0,
                   "committed_then_delivered": 0}

        for n in range(1, len(reference.writes) + 1):
            start = action.prepare()
            before = snapshot()
            events_before = count_events(action.event_kind)
            answer = injector.run(WriteFault(fail_at=n), lambda: action.act(start))  # noqa: B023
            where = f"{action.name}: write {n}/{len(reference.writes)} ({reference.writes[n - 1]})"
            if n <= in_action:
                assert answer.status == 500, (where, answer.status, answer.body[:300])
                if action.name not in ("api_order", "sweep_auto_receipt"):
                    assert "Rien n'a été modifié" in html.unescape(answer.body), where
                if snapshot() != before:
                    half_done.append(where)
                retry = action.act(start)
                assert retry.status == action.ok, (where, retry.body[:300])
                outcome["refused_whole"] += 1
            else:
                assert answer.status == action.ok, (where, answer.status, answer.body[:300])
                outcome["committed_then_delivered"] += 1
            assert count_events(action.event_kind) == events_before + 1, where
            finish_deliveries(clock)
            db.session.expire_all()
            stuck += [f"{where}: {r.kind} {r.status}" for r in db.session.scalars(
                select(OutboxEmail).where(OutboxEmail.status != OutboxStatus.SENT))]
        tried[action.name] = outcome

    # Every e-mail exists once per event (unique dedupe keys) and was sent.
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == \
        db.session.scalar(select(func.count(func.distinct(OutboxEmail.dedupe_key))))
    total = sum(o["writes"] for o in tried.values())
    figures.record_findings("database_refuses_a_write", {"half_done": half_done, "emails_stuck": stuck},
                            faults_injected=total, actions=len(tried),
                            refused_whole=sum(o["refused_whole"] for o in tried.values()),
                            committed_then_delivered=sum(o["committed_then_delivered"]
                                                         for o in tried.values()),
                            per_action=tried)


@pytest.mark.parametrize("path", ["/commandes", "/parametres", "/o/anything", "/connexion"])
def test_with_the_database_out_of_reach_every_page_answers_a_plain_500(
    app: Flask, seller: Seller, path: str, figures: Figures,
) -> None:
    """Every statement fails (the server is down): the answer is still a page that says so."""
    client = app.test_client()
    log_in(client, seller)

    def refuse(conn: Any, *args: Any) -> None:
        raise conn.dialect.loaded_dbapi.OperationalError("injected: the database server is down")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    plain_500 = response.status_code == 500 and "Rien n'a été modifié" in html.unescape(
        response.get_data(as_text=True))
    figures.record_findings("database_out_of_reach_pages",
                            {"other_answers": [] if plain_500 else [f"{path}: {response.status_code}"]},
                            pages=1, plain_500=int(plain_500))
