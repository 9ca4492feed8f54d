"""E-mail delivery: `uniqu3.mail.deliver` against plain smtplib, to the same local SMTP server.

    python -m bench.email_delivery [--messages 1000] [--rounds 3]

A fresh SQLite database gets --messages / 2 orders (each writes E1 to the seller and E2 to
the buyer), each with its own prices (rendering formats an amount once per value: the same
prices in every order would flatter it). Each round puts every outbox row back to « pending »
as the workflow wrote it (no subject or bodies from the previous round), then:
- deliver: `deliver(limit=500)` until nothing is left (claim, render, one SMTP connection per
  call, outcomes written in batches: what the worker and the sweep run);
- smtplib: the same messages, rendered beforehand, sent by `smtplib.SMTP.sendmail` over one
  connection — the floor of what any sender can do with this server.
The SMTP server (aiosmtpd, discarding) runs in its own process. Spec: ≥ 100 messages/s;
target ≥ 50 % of smtplib, measured in the same round.
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from .common import print_block
from .services import add_seller, api_body, fresh_database, smtp_server

MODULE = "bench.email_delivery"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from uniqu3 import create_app
    from uniqu3.extensions import db
    from uniqu3.intake import parse_order
    from uniqu3.mail import delivery
    from uniqu3.mail.compose import Sender
    from uniqu3.mail.delivery import deliver
    from uniqu3.models import OutboxEmail, OutboxStatus
    from uniqu3.services import workflow
    from uniqu3.workflow import Actor

    with tempfile.TemporaryDirectory() as tmp, smtp_server() as (host, port):
        url = f"sqlite:///{Path(tmp) / 'mail.sqlite'}"
        fresh_database(url)
        # Placing the orders delivers to the dev mailbox; the rounds then send them for real.
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "MAIL_SERVER": host,
                          "MAIL_PORT": port, "MAIL_TO_DEV_MAILBOX": True, "DEV_MAILBOX": True})
        add_seller(app)
        with app.app_context():
            for n in range(args.messages // 2):
                data = parse_order(api_body(n))
                # Amounts differ from order to order, as in life (no formatting cache hit).
                lines = tuple(replace(x, unit_price_cents=x.unit_price_cents + n) for x in data.lines)
                workflow().place_order(replace(data, lines=lines), actor=Actor.api("bench"))
        app.config.update(MAIL_TO_DEV_MAILBOX=False, DEV_MAILBOX=False)

        def reset() -> None:
            # As the workflow writes them: what a delivery stores (subject, bodies) cleared too,
            # or every round would rewrite rows carrying the previous round's 12 KB of content.
            db.session.execute(update(OutboxEmail).values(
                status=OutboxStatus.PENDING, attempts=0, sent_at=None, claim_token=None, claimed_at=None,
                message_id=None, subject="", body_text=None, body_html=None, last_error="",
                next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
            db.session.commit()

        rounds: list[tuple[float, float]] = []
        with app.app_context():
            total = len(db.session.scalars(select(OutboxEmail.id)).all())
            for _ in range(args.rounds):
                reset()
                start = time.perf_counter()
                sent = 0
                while True:
                    report = deliver(limit=500)
                    if not (report.sent or report.retrying or report.failed):
                        break
                    sent += len(report.sent)
                deliver_s = time.perf_counter() - start
                assert sent == total, (sent, total)

                # The same messages, rendered as deliver renders them, sent by smtplib alone.
                sender = Sender.from_config(app.config["MAIL_DEFAULT_SENDER"], app.config["BASE_URL"])
                rows = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
                orders = delivery.load_orders(db.session, (r.order_id for r in rows), seller=True)
                jobs = [delivery._job(r, orders.get(r.order_id or 0), sender) for r in rows]
                start = time.perf_counter()
                with smtplib.SMTP(host, port) as conn:
                    for job in jobs:
                        conn.sendmail(sender.email, [job.to_email], job.raw)
                smtplib_s = time.perf_counter() - start
                rounds.append((total / deliver_s, total / smtplib_s))
                db.session.remove()

    ratios = [d / s for d, s in rounds]
    rate = statistics.median(d for d, _ in rounds)
    figures = [
        ("messages", f"{total} per round (E1 + E2 of {args.messages // 2} orders), {args.rounds} rounds"),
        ("deliver msg/s", ", ".join(f"{d:,.0f}" for d, _ in rounds)
         + f"; median {statistics.median(d for d, _ in rounds):,.0f}"),
        ("smtplib msg/s", ", ".join(f"{s:,.0f}" for _, s in rounds)
         + f"; median {statistics.median(s for _, s in rounds):,.0f}"),
        ("ratio deliver/smtplib", f"median {statistics.median(ratios):.0%} "
                                  f"(rounds: {', '.join(f'{r:.0%}' for r in ratios)})"),
        ("verdict", "ok" if rate >= 100 and statistics.median(ratios) >= 0.5
         else "UNDER (≥ 100 msg/s and ≥ 50 % of smtplib)"),
    ]
    print_block("E-mail delivery to a local SMTP server", figures, module=MODULE, argv=argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
