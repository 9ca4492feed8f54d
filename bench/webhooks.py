"""Webhook delivery: `uniqu3.webhooks.delivery.deliver` to a local receiver.

    python -m bench.webhooks [--orders 500] [--rounds 3]

A fresh SQLite database gets --orders orders, each paid: two events per order
(`order.created`, then `order.paid`, which must wait for it), for one endpoint. Each round
puts every delivery back to « pending », then runs `deliver(limit=500)` until nothing is left
(claim, one signed POST per event over a kept connection, each outcome written): what the
worker and the sweep run. The receiver (tests/webhook_receiver.py: a threaded http.server that
verifies every signature with the `standardwebhooks` package) runs in its own process and
says at the end how many requests it verified. Spec: ≥ 100 events/s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from .common import print_block
from .services import SELLER_EMAIL, add_seller, free_port, fresh_database, wait_for_port

MODULE = "bench.webhooks"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from uniqu3 import create_app
    from uniqu3.extensions import db
    from uniqu3.models import WebhookDelivery, WebhookDeliveryStatus
    from uniqu3.services import workflow
    from uniqu3.webhooks.delivery import deliver
    from uniqu3.webhooks.endpoints import create_endpoint
    from uniqu3.workflow import Actor, Address, LineInput, OrderInput, signals

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'webhooks.sqlite'}"
        fresh_database(url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "MAIL_TO_DEV_MAILBOX": True,
                          "DEV_MAILBOX": True, "WEBHOOK_ALLOW_PRIVATE": True})
        add_seller(app)
        with app.app_context():
            endpoint = create_endpoint(db.session(), f"http://127.0.0.1:{port}/hooks", seller=None,
                                       event_types=(), allow_private=True)
            secret = endpoint.secret
            address = Address(name="Camille Martin", line1="12 rue des Lilas", line2="", postal_code="69003",
                              city="Lyon", country="FR")
            # The rounds deliver them: nothing is sent while they are written.
            with signals.webhooks_queued.muted():
                for n in range(args.orders):
                    order = workflow().place_order(OrderInput(
                        external_id=f"MKT-{n:07d}", seller_email=SELLER_EMAIL, buyer_name="Camille Martin",
                        buyer_email=f"camille{n}@example.fr", billing_address=address,
                        shipping_address=address, currency="EUR",
                        lines=(LineInput(sku="BAG-RED-01", title="Sac cabas rouge", quantity=2,
                                         unit_price_cents=3490 + n),)), actor=Actor.api("bench")).order
                    workflow().confirm_payment(order.id, actor=Actor.seller(SELLER_EMAIL))
            total = db.session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0

        receiver = subprocess.Popen([sys.executable, "-m", "tests.webhook_receiver", str(port), secret],
                                    stdout=subprocess.PIPE, text=True)
        rates: list[float] = []
        try:
            wait_for_port(port)
            with app.app_context():
                for _ in range(args.rounds):
                    db.session.execute(update(WebhookDelivery).values(
                        status=WebhookDeliveryStatus.PENDING, attempts=0, claim_token=None, claimed_at=None,
                        next_attempt_at=datetime.now(UTC) - timedelta(seconds=1), delivered_at=None))
                    db.session.commit()
                    start = time.perf_counter()
                    delivered = 0
                    while True:
                        report = deliver(limit=500)
                        if not report.handled:
                            break
                        delivered += len(report.delivered)
                    rates.append(total / (time.perf_counter() - start))
                    assert delivered == total, (delivered, total)
                    db.session.remove()
        finally:
            receiver.terminate()
            got = json.loads(receiver.communicate(timeout=30)[0].strip().splitlines()[-1])
    assert got["accepted"] == total * args.rounds and got["unverified"] == 0, got
    assert got["distinct"] == total, got  # the same webhook-id every round: one per event

    rate = statistics.median(rates)
    figures = [
        ("events", f"{total} per round ({args.orders} orders × order.created + order.paid), "
                   f"{args.rounds} rounds, one endpoint"),
        ("delivered events/s", ", ".join(f"{r:,.0f}" for r in rates) + f"; median {rate:,.0f}"),
        ("receiver", f"{got['accepted']} requests accepted, {got['unverified']} with a bad signature"),
        ("verdict", "ok" if rate >= 100 else "UNDER (≥ 100 events/s)"),
    ]
    print_block("Webhook delivery to a local receiver", figures, module=MODULE, argv=argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
