"""« Signaler un problème » at the same moment as the buyer's « J'ai bien reçu » (another tab or
device), the sweep at the deadline, and the seller's « Relancer la confirmation »: through HTTP
for the buyer, the workflow for the others, threads released together.

Whatever the order they run in, each parcel ends in one coherent state: never both in problem
and received, one receipt at most, one e-mail of each kind, no 5xx (PostgreSQL's row locks or
SQLite's single writer).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from tests.conftest import Clock
from tests.reliability.actors import Answer, ClientWeb, csrf_from
from tests.reliability.conftest import knob
from tests.reliability.scenario import awaiting_parcels
from tests.reliability.test_concurrency import together
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OutboxEmail, Seller, Shipment, ShipmentProblem, ShipmentStatus
from uniqu3.services import workflow
from uniqu3.sweep import run_sweep
from uniqu3.tokens import receipt_token
from uniqu3.workflow import Actor, Workflow, WorkflowError

pytestmark = pytest.mark.reliability


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


def _incoherent(parcel: int) -> list[str]:
    """What must never be, for one parcel after the race."""
    db.session.expire_all()
    shipment = db.session.get(Shipment, parcel)
    assert shipment is not None
    order = db.session.get(Order, shipment.order_id)
    assert order is not None
    kinds = Counter(db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.shipment_id == parcel)))
    events = Counter(db.session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.id)))
    open_reports = db.session.scalar(select(func.count()).select_from(ShipmentProblem).where(
        ShipmentProblem.shipment_id == parcel, ShipmentProblem.resolved_at.is_(None))) or 0
    wrong = []
    if shipment.status == ShipmentStatus.PROBLEM and shipment.received_at is not None:
        wrong.append("in problem and received")
    if (shipment.status == ShipmentStatus.PROBLEM) != (open_reports > 0) \
            or order.open_problems != (shipment.status == ShipmentStatus.PROBLEM):
        wrong.append(f"status {shipment.status} with {open_reports} open report(s), "
                     f"order.open_problems={order.open_problems}")
    receipts = events["receipt_confirmed"] + events["auto_received"]
    if receipts != (shipment.status == ShipmentStatus.RECEIVED):
        wrong.append(f"status {shipment.status} after {receipts} receipt(s)")
    if kinds["E6"] + kinds["E7"] // 2 != receipts or kinds["E7"] % 2:
        wrong.append(f"{receipts} receipt(s) but e-mails {dict(kinds)}")
    if kinds["P1"] != min(events["problem_reported"], 1) or kinds["P2"] != kinds["P1"]:
        wrong.append(f"{events['problem_reported']} report(s) but e-mails {dict(kinds)}")
    if kinds["E5"] != 1 + events["receipt_relaunched"]:
        wrong.append(f"{events['receipt_relaunched']} relaunch(es) but {kinds['E5']} E5")
    return [f"parcel {parcel}: {w}" for w in wrong]


def test_a_report_racing_the_confirmation_the_sweep_and_a_relaunch_ends_coherent(
    app: Flask, wf: Workflow, seller: Seller, clock: Clock,
) -> None:
    rounds = knob("PROBLEM_RACES", 8)
    parcels = awaiting_parcels(wf, seller.email, rounds, "MKT-PB")
    seller_email = seller.email
    db.session.remove()
    reporter, confirmer = ClientWeb(app.test_client()), ClientWeb(app.test_client())
    pages: Counter[int] = Counter()
    outcomes: Counter[str] = Counter()
    wrong: list[str] = []
    for parcel in parcels:
        token = receipt_token(parcel)
        with app.app_context():  # the deadline is passing right now
            db.session.execute(update(Shipment).where(Shipment.id == parcel)
                               .values(receipt_due_at=clock() - timedelta(seconds=1)))
            db.session.commit()
            db.session.remove()
        report_form = csrf_from(reporter.request("GET", f"/r/{token}/probleme").body)
        confirm_form = csrf_from(confirmer.request("GET", f"/r/{token}").body)

        def act(i: int, parcel: int = parcel, token: str = token, report_form: str = report_form,
                confirm_form: str = confirm_form) -> Any:
            if i == 0:
                return reporter.request("POST", f"/r/{token}/probleme", form={
                    "csrf_token": report_form, "reason": "not_received", "message": "Rien reçu."})
            if i == 1:
                return confirmer.request("POST", f"/r/{token}", form={"csrf_token": confirm_form})
            with app.app_context():
                try:
                    if i == 2:
                        return run_sweep()
                    try:  # the seller, answering a report they have just seen
                        return workflow().relaunch_receipt(parcel, actor=Actor.seller(seller_email))
                    except WorkflowError as refused:
                        return refused
                finally:
                    db.session.remove()

        results = together(4, act)
        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, WorkflowError)], \
            results
        pages.update(r.status for r in results if isinstance(r, Answer))
        wrong.extend(_incoherent(parcel))
        db.session.expire_all()
        outcomes[str(db.session.get(Shipment, parcel).status)] += 1  # type: ignore[union-attr]
    assert wrong == []
    assert not [status for status in pages if status >= 500], pages
    # The refusals are the page saying how things stand (409), never an error.
    assert set(pages) <= {200, 409}, pages
    assert sum(outcomes.values()) == rounds, outcomes


def test_many_reports_of_one_parcel_at_once_email_the_seller_once(
    app: Flask, wf: Workflow, seller: Seller,
) -> None:
    (parcel,) = awaiting_parcels(wf, seller.email, 1, "MKT-PB")
    db.session.remove()
    token = receipt_token(parcel)
    buyers = [ClientWeb(app.test_client()) for _ in range(knob("THREADS", 8))]
    forms = [csrf_from(b.request("GET", f"/r/{token}/probleme").body) for b in buyers]
    answers = together(len(buyers), lambda i: buyers[i].request("POST", f"/r/{token}/probleme", form={
        "csrf_token": forms[i], "reason": "damaged", "message": f"Précision n° {i}"}))
    assert {a.status for a in answers} == {200}, [(a.status, a.body[:200]) for a in answers]
    assert db.session.scalar(select(func.count()).select_from(ShipmentProblem)) == len(buyers)
    assert db.session.scalar(select(func.count()).where(OutboxEmail.kind == "P1")) == 1
    assert _incoherent(parcel) == []
