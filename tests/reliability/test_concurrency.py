"""Requests at the same moment, through HTTP (the app's own request handling, each request
with its own database session, threads released together by a barrier).

Run on PostgreSQL (row locks) and on SQLite (one writer at a time, WAL and a busy timeout):
on both, exactly what is left ships, one receipt per parcel, no request fails with a 5xx
nor a « database is locked ».
"""

from __future__ import annotations

import html
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from tests.conftest import Clock
from tests.reliability.actors import Answer, ClientWeb, SellerAgent, csrf_from
from tests.reliability.conftest import Figures, knob
from tests.reliability.figures import BACKEND
from tests.reliability.scenario import awaiting_parcels, server_errors
from tests.seller.conftest import log_in
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OrderLine, OutboxEmail, Seller, Shipment, ShipmentStatus
from uniqu3.sweep import run_sweep
from uniqu3.tokens import receipt_token
from uniqu3.workflow import Actor, LineInput, Workflow

pytestmark = pytest.mark.reliability

THREADS = knob("THREADS", 20)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


def together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """`work(i)` in n threads released at once; returns each result (or the exception)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # kept and reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def logged_in_agent(app: Flask, seller: Seller) -> SellerAgent:
    client = app.test_client()
    log_in(client, seller)
    agent = SellerAgent(ClientWeb(client), seller.email, "")
    agent.token = csrf_from(agent.get("/parametres").body)
    return agent


def test_twenty_sessions_shipping_the_last_units_ship_exactly_what_is_left(
    app: Flask, wf: Workflow, seller: Seller, figures: Figures,
) -> None:
    actor = Actor.seller(seller.email)
    from tests.conftest import order_input

    order = wf.place_order(order_input(seller.email, "MKT-LAST", lines=(
        LineInput(sku="BAG-RED-01", title="Sac cabas rouge", quantity=5, unit_price_cents=3490),)),
        actor=Actor.api("shop")).order
    wf.confirm_payment(order.id, actor=actor)
    line_id = order.lines[0].id
    wf.ship(order.id, actor=actor, quantities={line_id: 2}, carrier="hand_delivery")
    left = 3
    agents = [logged_in_agent(app, seller) for _ in range(THREADS)]
    reference = order.reference
    db.session.remove()

    answers: list[Answer] = together(THREADS, lambda i: agents[i].ship(
        reference, {line_id: 1}, carrier="colissimo"))

    assert not [a for a in answers if isinstance(a, Exception)], answers
    statuses = Counter(a.status for a in answers)
    refusals = {html.unescape(a.body) for a in answers if a.status == 422}
    db.session.expire_all()
    line = db.session.get(OrderLine, line_id)
    figures.record_findings(
        "concurrent_ship_last_units",
        {"over_shipped": range(max(0, line.shipped_quantity - line.quantity)),  # units beyond the order
         "server_errors": server_errors(answers),
         "refusals_without_reason": [body[:300] for body in refusals if not any(reason in body for reason in (
             "déjà entièrement expédié", "dépasse ce qui reste", "déjà expédiés"))]},
        threads=THREADS, units_left=left, shipped=statuses[303], refused_cleanly=statuses[422])
    assert statuses == {303: left, 422: THREADS - left}, statuses
    assert line.shipped_quantity == 5
    assert db.session.scalar(select(func.count()).select_from(Shipment)) == 1 + left
    assert db.session.scalar(select(func.count()).where(OutboxEmail.kind == "E4")) == 1 + left


def test_the_buyer_confirming_while_sweeps_run_gives_one_receipt_and_one_email(
    app: Flask, wf: Workflow, seller: Seller, clock: Clock, figures: Figures,
) -> None:
    rounds = knob("RECEIPT_RACES", 8)
    parcels = awaiting_parcels(wf, seller.email, rounds, "MKT-RACE")
    db.session.remove()
    buyers = [ClientWeb(app.test_client()) for _ in range(2)]
    pages: Counter[int] = Counter()
    by: Counter[str] = Counter()
    received_twice: list[str] = []

    tokens = {parcel: receipt_token(parcel) for parcel in parcels}
    for parcel in parcels:
        # This parcel's deadline is passing as its buyer presses the button.
        with app.app_context():
            db.session.execute(update(Shipment).where(Shipment.id == parcel)
                               .values(receipt_due_at=clock() - timedelta(seconds=1)))
            db.session.commit()
            db.session.remove()
        # The buyers have the page open; they press the button as the sweeps start.
        forms = [csrf_from(buyer.request("GET", f"/r/{tokens[parcel]}").body) for buyer in buyers[:2]]

        def act(i: int, parcel: int = parcel, forms: list[str] = forms) -> Any:
            if i % 2:
                with app.app_context():
                    try:
                        return run_sweep()
                    finally:
                        db.session.remove()
            return buyers[i // 2].request("POST", f"/r/{tokens[parcel]}", form={"csrf_token": forms[i // 2]})

        results = together(4, act)
        assert not [r for r in results if isinstance(r, Exception)], results
        pages.update(r.status for r in results if isinstance(r, Answer))
        db.session.expire_all()
        shipment = db.session.get(Shipment, parcel)
        assert shipment.status == ShipmentStatus.RECEIVED
        by[str(shipment.received_by)] += 1
        kinds = sorted(db.session.scalars(select(OutboxEmail.kind).where(
            OutboxEmail.shipment_id == parcel, OutboxEmail.kind.in_(["E6", "E7"]))))
        receipts = db.session.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == shipment.order_id,
            OrderEvent.kind.in_(["receipt_confirmed", "auto_received"])))
        if receipts != 1 or kinds != (["E6"] if shipment.received_by == "buyer" else ["E7", "E7"]):
            received_twice.append(f"parcel {parcel}: {receipts} receipts, e-mails {kinds}")
    figures.record_findings(
        "concurrent_buyer_and_sweep",
        {"received_twice": received_twice,
         "server_errors": [status for status, n in pages.items() if status >= 500 for _ in range(n)]},
        parcels=rounds, requests=sum(pages.values()), received_by_buyer=by["buyer"],
        received_automatically=by["auto"])
    assert set(pages) == {200}, pages


def test_two_sellers_working_at_once_each_see_and_change_only_their_own_orders(
    app: Flask, wf: Workflow, make_seller: Callable[..., Seller], figures: Figures,
) -> None:
    from tests.conftest import order_input

    per_seller = knob("ORDERS_PER_SELLER", 6)
    sellers = [make_seller("a@example.fr", shop_name="Boutique A"),
               make_seller("b@example.fr", shop_name="Boutique B")]
    refs: dict[str, list[str]] = {}
    for s in sellers:
        refs[s.email] = [wf.place_order(order_input(s.email, f"MKT-{s.email[0]}-{i}"),
                                        actor=Actor.api("shop")).order.reference for i in range(per_seller)]
    agents = [logged_in_agent(app, s) for s in sellers for _ in range(2)]  # two tabs each
    db.session.remove()

    def work(i: int) -> list[Answer]:
        agent = agents[i]
        mine = refs[agent.email][i % 2::2]
        for ref in mine:
            agent.pay(ref)
            with app.app_context():
                lines = {line.id: line.quantity for line in db.session.scalars(
                    select(OrderLine).join(Order).where(Order.reference == ref))}
                db.session.remove()
            agent.ship(ref, lines, carrier="hand_delivery")
            agent.get(f"/commandes/{ref}")
            agent.get("/commandes?statut=expediees")
        return agent.answers

    results = together(len(agents), work)
    assert not [r for r in results if isinstance(r, Exception)], results
    answers = [a for r in results for a in r]
    db.session.expire_all()
    foreign: list[str] = []  # a seller's session that changed the other's orders
    seen: list[str] = []  # …or saw them
    for s in sellers:
        foreign += [f"{label} acted on an order of {s.email}" for label in db.session.scalars(
            select(OrderEvent.actor_label).join(Order).where(
                Order.seller_id == s.id, OrderEvent.kind.in_(["payment_confirmed", "shipped"])))
            if label != s.email]
    for agent in agents[::2]:
        page = agent.get("/commandes?statut=expediees").body
        other = next(e for e in refs if e != agent.email)
        assert all(ref in page for ref in refs[agent.email])
        seen += [f"{agent.email} sees {ref}" for ref in refs[other] if ref in page]
    figures.record_findings("concurrent_two_sellers",
                            {"foreign_changes": foreign, "foreign_orders_seen": seen,
                             "server_errors": server_errors(answers)},
                            sessions=len(agents), requests=len(answers), orders=2 * per_seller,
                            backend=BACKEND)
    assert {a.status for a in answers} <= {200, 303}, Counter(a.status for a in answers)
    for s in sellers:
        assert set(db.session.scalars(select(Order.status).where(Order.seller_id == s.id))) == {"shipped"}
