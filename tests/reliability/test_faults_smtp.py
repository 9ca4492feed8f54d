"""The SMTP server down (connection refused) or refusing (421) for hours, then back: the
seller never sees an error, nothing is given up while the server cannot be reached, and
once it is back every e-mail arrives exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Clock
from tests.reliability.actors import ClientWeb, SellerAgent, buyer_confirms, order_body, post_order
from tests.reliability.conftest import Figures, Sink
from tests.reliability.scenario import lines_of, outbox_rows, outbox_statuses, server_errors, shipment_ids
from uniqu3.extensions import db
from uniqu3.models import OutboxStatus, Seller
from uniqu3.sweep import run_sweep
from uniqu3.tokens import receipt_token

pytestmark = pytest.mark.reliability

OUTAGE_HOURS = 10


@pytest.fixture
def app_config(app_config: dict[str, Any], sink: Sink) -> dict[str, Any]:
    return {**app_config, **sink.config, "PROPAGATE_EXCEPTIONS": False}


@pytest.mark.parametrize("outage", ["down", "refusing"])
def test_an_smtp_outage_delays_every_email_and_loses_none(
    outage: str, app: Flask, client: FlaskClient, sink: Sink, seller: Seller, clock: Clock,
    storefront_key: str, figures: Figures,
) -> None:
    if outage == "down":
        sink.stop()  # the port refuses connections
    else:
        sink.refusing = True  # the server answers, but 421 to every message
    web = ClientWeb(client)
    agent = SellerAgent(ClientWeb(app.test_client()), seller.email, PASSWORD)
    buyer = ClientWeb(app.test_client())

    # A working day during the outage: orders come in, the seller works, a buyer confirms.
    created = [post_order(web, storefront_key, order_body(f"MKT-SMTP-{i}", seller.email)) for i in range(6)]
    assert [a.status for a in created] == [201] * 6
    refs = [a.json()["reference"] for a in created]
    assert agent.log_in().status == 303
    for ref in refs[:5]:
        assert agent.pay(ref).status == 303
    assert agent.cancel(refs[5], "rupture de stock").status == 303
    for ref in refs[:4]:
        assert agent.ship(ref, lines_of(db.session, ref)).status == 303
    parcels = [shipment_ids(db.session, ref)[0] for ref in refs[:3]]
    for ref in refs[:3]:
        assert agent.request_receipt(ref, 1).status == 303
    assert buyer_confirms(buyer, receipt_token(parcels[0])).status == 200

    # Sweeps every hour of the outage (the 7-day deadline of the 2nd and 3rd parcels passes).
    clock.advance(days=7, minutes=5)
    sweeps = 0
    for _ in range(OUTAGE_HOURS):
        clock.advance(hours=1, minutes=1)
        report = run_sweep()
        sweeps += 1
        assert report.emails_sent == 0 and report.emails_failed == 0
    rows = outbox_rows(db.session)
    assert sink.count() == 0
    given_up = [f"{r.kind} #{r.id}" for r in rows if r.status == OutboxStatus.FAILED]
    assert {r.status for r in rows} <= {OutboxStatus.PENDING, OutboxStatus.FAILED}, \
        outbox_statuses(db.session)
    tries = max(r.attempts for r in rows)
    assert tries > app.config["OUTBOX_MAX_ATTEMPTS"]  # more tries than a refused e-mail gets

    # The server is back: the next sweep sends everything, once.
    if outage == "down":
        sink.start()
    else:
        sink.refusing = False
    clock.advance(hours=1, minutes=1)
    report = run_sweep()
    again = run_sweep()
    rows = outbox_rows(db.session)
    received = sink.message_ids()
    figures.record_findings(
        f"smtp_outage_{outage}",
        {"lost": [r.message_id or r.id for r in rows if received[str(r.message_id)] == 0],
         "duplicates": [m for m, n in received.items() for _ in range(n - 1)],
         "given_up": given_up,
         "server_errors": server_errors(agent.answers + created),
         "unknown_messages": sorted(set(received) - {str(r.message_id) for r in rows})},
        emails=len(rows), delivered_once=sum(1 for r in rows if received[str(r.message_id)] == 1),
        sweeps_during_outage=sweeps, max_attempts_seen=tries, seller_requests=len(agent.answers),
        outage_hours=OUTAGE_HOURS, refused_by_server=sink.refused)
    expected = 6 * 2 + 5 + 1 + 4 + 3 + 1 + 2 * 2  # E1+E2, E3, E8, E4, E5, E6, E7 ×2
    assert len(rows) == expected
    assert report.emails_sent == expected and again.emails_sent == 0
    assert {r.status for r in rows} == {OutboxStatus.SENT}

