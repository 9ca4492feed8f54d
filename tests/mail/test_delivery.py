"""Outbox delivery: once each, nothing lost when SMTP is down, slow or refusing, retries."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from email.utils import getaddresses
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.mail import backoff, deliver, retry, retry_failed
from uniqu3.mail.delivery import LEASE
from uniqu3.models import Order, OutboxEmail, OutboxStatus
from uniqu3.workflow import Actor, Workflow

from .conftest import ScriptedSmtp, text_part


@pytest.fixture
def app_config(app_config: dict[str, Any], scripted_smtp: ScriptedSmtp) -> dict[str, Any]:
    return {**app_config, "MAIL_SERVER": scripted_smtp.host, "MAIL_PORT": scripted_smtp.port,
            "MAIL_TO_DEV_MAILBOX": False, "MAIL_TIMEOUT": 2}


def rows() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def statuses() -> list[str]:
    return [row.status for row in rows()]


# ----------------------------------------------------------------------------- the server is away
def test_smtp_down_keeps_every_email_then_delivers_each_once(
    make_order: Any, scripted_smtp: ScriptedSmtp, clock: Clock
) -> None:
    make_order()
    make_order()
    scripted_smtp.stop()  # connection refused

    report = deliver()
    assert sorted(report.retrying) == [1, 2, 3, 4] and not report.sent and not report.failed
    for row in rows():
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
        assert row.next_attempt_at == clock.now + timedelta(minutes=1)
        assert "Serveur SMTP indisponible" in row.last_error and "Connection refused" in row.last_error

    # Not due yet: nothing is tried, even with the server back.
    scripted_smtp.start()
    assert deliver() == type(report)()
    clock.advance(minutes=1)
    report = deliver()
    assert sorted(report.sent) == [1, 2, 3, 4]
    assert scripted_smtp.handler.connections == 1  # one connection for the batch
    assert deliver().sent == []
    received = [str(m["Message-ID"]) for m in scripted_smtp.messages]
    assert len(received) == len(set(received)) == 4
    assert all(row.status == OutboxStatus.SENT and row.attempts == 2 and row.last_error == ""
               for row in rows())


def test_an_outage_delays_but_never_gives_up(
    app: Flask, make_order: Any, scripted_smtp: ScriptedSmtp, clock: Clock
) -> None:
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    make_order()
    scripted_smtp.stop()
    waits = []
    for _ in range(4):
        before = clock.now
        deliver()
        row = rows()[0]
        waits.append(row.next_attempt_at - before)
        clock.now = row.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]  # exponential backoff
    assert statuses() == [OutboxStatus.PENDING] * 2  # more tries than the maximum, still queued
    scripted_smtp.start()
    assert len(deliver().sent) == 2


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(7) == timedelta(hours=1) and backoff(50) == timedelta(hours=1)


def test_a_server_that_never_answers_times_out(
    app: Flask, make_order: Any, hanging_server: tuple[str, int], scripted_smtp: ScriptedSmtp,
    clock: Clock,
) -> None:
    make_order()
    app.config.update(MAIL_SERVER=hanging_server[0], MAIL_PORT=hanging_server[1], MAIL_TIMEOUT=0.5)
    started = time.monotonic()
    report = deliver()
    assert time.monotonic() - started < 3
    assert sorted(report.retrying) == [1, 2]
    assert statuses() == [OutboxStatus.PENDING] * 2
    assert all("timed out" in row.last_error.lower() for row in rows())

    app.config.update(MAIL_SERVER=scripted_smtp.host, MAIL_PORT=scripted_smtp.port)
    clock.advance(minutes=1)
    assert sorted(deliver().sent) == [1, 2]
    assert len(scripted_smtp.messages) == 2


def test_a_message_that_times_out_is_sent_again_with_the_same_message_id(
    app: Flask, make_order: Any, scripted_smtp: ScriptedSmtp, clock: Clock
) -> None:
    """The documented at-least-once edge: the server may have kept the first copy."""
    app.config["MAIL_TIMEOUT"] = 0.5
    make_order()
    scripted_smtp.handler.data_script = [1.2]  # the first DATA gets no answer in time
    report = deliver()
    assert report.retrying == [1] and report.sent == [2]
    first_id = rows()[0].message_id
    clock.advance(minutes=1)
    assert deliver().sent == [1]
    time.sleep(0.8)  # let the slow server finish its first answer
    ids = [str(m["Message-ID"]) for m in scripted_smtp.messages]
    assert ids.count(first_id) in (1, 2) and len(set(ids)) == 2
    assert rows()[0].status == OutboxStatus.SENT


def test_a_closed_connection_is_reopened_for_the_rest_of_the_batch(
    make_order: Any, scripted_smtp: ScriptedSmtp, clock: Clock
) -> None:
    make_order()
    make_order()
    scripted_smtp.handler.data_script = ["421 4.3.2 Service shutting down"]
    report = deliver()
    assert report.retrying == [1] and report.sent == [2, 3, 4]
    assert scripted_smtp.handler.connections == 2
    row = rows()[0]
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1) and "421" in row.last_error


def test_a_server_answering_421_for_hours_delays_the_emails_but_never_fails_them(
    app: Flask, make_order: Any, scripted_smtp: ScriptedSmtp, clock: Clock
) -> None:
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    make_order()
    scripted_smtp.handler.data_reply = "421 4.3.2 Service not available"
    for _ in range(6):
        report = deliver()
        assert report.failed == [] and sorted(report.retrying) == [1, 2]
        clock.advance(hours=1, minutes=1)
    assert statuses() == [OutboxStatus.PENDING] * 2 and rows()[0].attempts == 6
    scripted_smtp.handler.data_reply = None
    assert sorted(deliver().sent) == [1, 2]


# ----------------------------------------------------------------------------- the server says no
def test_temporary_refusals_are_retried_then_fail_after_the_maximum(
    app: Flask, make_order: Any, scripted_smtp: ScriptedSmtp, clock: Clock
) -> None:
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    make_order()
    scripted_smtp.handler.rcpt_replies["camille@example.fr"] = "450 4.2.1 Mailbox busy, try later"
    assert deliver().retrying == [2]
    clock.advance(minutes=1)
    assert deliver().retrying == [2]
    clock.advance(minutes=2)
    report = deliver()
    assert report.failed == [2] and not report.retrying
    buyer_mail = rows()[1]
    assert (buyer_mail.status, buyer_mail.attempts) == (OutboxStatus.FAILED, 3)
    assert "450" in buyer_mail.last_error
    clock.advance(days=1)
    assert deliver().sent == []  # failed rows wait for an operator

    # `flask admin outbox` retry: the full number of tries again, and it goes.
    del scripted_smtp.handler.rcpt_replies["camille@example.fr"]
    assert retry_failed() == [2]
    row = rows()[1]
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.PENDING, 0, clock.now)
    assert "450" in row.last_error  # still visible until the next try
    assert deliver().sent == [2]
    assert [getaddresses([str(m["To"])])[0][1] for m in scripted_smtp.messages] == [
        "atelier@example.fr", "camille@example.fr"]


def test_a_permanent_refusal_fails_at_once_and_the_batch_goes_on(
    make_order: Any, scripted_smtp: ScriptedSmtp
) -> None:
    make_order()
    scripted_smtp.handler.rcpt_replies["camille@example.fr"] = "550 5.1.1 No such user"
    report = deliver()
    assert report.sent == [1] and report.failed == [2]
    row = rows()[1]
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1) and "550" in row.last_error
    assert row.message_id and row.subject  # what was tried stays on the row


def test_retry_puts_back_only_what_was_not_sent(make_order: Any, scripted_smtp: ScriptedSmtp) -> None:
    make_order()
    scripted_smtp.handler.rcpt_replies["camille@example.fr"] = "550 5.1.1 No such user"
    deliver()
    assert retry([1, 2, 999]) == [2]  # 1 was sent: never again
    assert statuses() == [OutboxStatus.SENT, OutboxStatus.PENDING]
    assert retry([]) == [] and retry_failed() == []


def test_an_email_whose_order_is_gone_fails_with_a_reason(
    make_order: Any, scripted_smtp: ScriptedSmtp
) -> None:
    order = make_order()
    db.session.delete(db.session.get(Order, order.id))
    db.session.commit()
    report = deliver()
    assert report.failed == [1, 2] and scripted_smtp.messages == []
    assert all("n'existe plus" in row.last_error for row in rows())


def test_a_malformed_address_fails_without_reaching_the_server(
    make_order: Any, scripted_smtp: ScriptedSmtp
) -> None:
    make_order()
    # No door takes such an address any more (workflow.rules); a row written before the rule
    # was enforced everywhere may still hold one.
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id == 2).values(to_email="camille@@example"))
    db.session.commit()
    report = deliver()
    assert report.sent == [1] and report.failed == [2]
    assert "Adresse e-mail invalide" in rows()[1].last_error


# ----------------------------------------------------------------------------- once and only once
def test_a_sent_email_is_never_sent_again(make_order: Any, scripted_smtp: ScriptedSmtp) -> None:
    make_order()
    assert deliver(ids=[2]).sent == [2]
    assert deliver(ids=[2]).sent == []
    assert deliver().sent == [1]
    assert deliver().sent == [] and len(scripted_smtp.messages) == 2


def test_a_row_left_sending_by_a_killed_worker_is_taken_again_after_the_lease(
    make_order: Any, scripted_smtp: ScriptedSmtp, clock: Clock
) -> None:
    make_order()
    db.session.execute(update(OutboxEmail).values(
        status=OutboxStatus.SENDING, claim_token="dead-worker", claimed_at=clock.now))
    db.session.commit()
    clock.advance(minutes=5)
    assert deliver().sent == []  # the other worker may still be sending it
    clock.advance(seconds=LEASE.total_seconds() - 5 * 60 + 1)
    assert deliver().sent == [1, 2]
    assert len(scripted_smtp.messages) == 2


def test_a_message_has_its_message_id_stored_before_it_is_sent(
    app: Flask, make_order: Any, scripted_smtp: ScriptedSmtp, clock: Clock
) -> None:
    """So a worker killed while sending leaves a row that goes again with the same Message-ID
    (mail clients fold the two copies); and no transaction is held while the server works."""
    make_order()
    engine = db.engine
    seen: list[list[Any]] = []

    def look() -> None:  # in the server's thread, while deliver() waits for its answer
        with engine.begin() as conn:  # a write: it would wait if deliver() held the database
            conn.execute(update(OutboxEmail).where(OutboxEmail.id == 0).values(attempts=0))
            seen.append(list(conn.execute(
                select(OutboxEmail.status, OutboxEmail.message_id).order_by(OutboxEmail.id))))

    scripted_smtp.handler.on_data = look
    assert deliver().sent == [1, 2]
    sent_ids = [str(m["Message-ID"]) for m in scripted_smtp.messages]
    assert [list(row) for row in seen[0]] == [[OutboxStatus.SENDING, mid] for mid in sent_ids]

    # What a killed worker leaves: still `sending`, its lease over.
    db.session.execute(update(OutboxEmail).values(status=OutboxStatus.SENDING, claim_token="dead",
                                                  claimed_at=clock.now - LEASE))
    db.session.commit()
    clock.advance(seconds=1)
    assert deliver().sent == [1, 2]
    assert [str(m["Message-ID"]) for m in scripted_smtp.messages[2:]] == sent_ids


def test_an_outcome_is_not_written_over_the_run_that_took_the_row_over(
    make_order: Any, scripted_smtp: ScriptedSmtp
) -> None:
    """A run whose lease ran out (stopped for minutes, say) finds the row another run's: it
    leaves the row as that run has it."""
    make_order()
    engine = db.engine

    def taken_over() -> None:  # while the first message arrives, the second row changes hands
        with engine.begin() as conn:
            conn.execute(update(OutboxEmail).where(OutboxEmail.id == 2).values(claim_token="other-run"))
        scripted_smtp.handler.on_data = None

    scripted_smtp.handler.on_data = taken_over
    report = deliver()
    assert report.sent == [1] and not report.retrying and not report.failed
    first, second = rows()
    assert first.status == OutboxStatus.SENT
    assert (second.status, second.claim_token, second.attempts) == (OutboxStatus.SENDING, "other-run", 0)


def test_two_deliverers_at_once_send_each_email_exactly_once(
    app: Flask, wf: Workflow, make_order: Any, scripted_smtp: ScriptedSmtp
) -> None:
    orders = [make_order() for _ in range(15)]
    for order in orders[:5]:
        wf.confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"))
    expected = len(rows())
    assert expected == 35
    sent: list[list[int]] = [[], [], []]
    errors: list[BaseException] = []
    go = threading.Barrier(3)

    def worker(n: int) -> None:
        try:
            with app.app_context():
                go.wait()
                while True:
                    report = deliver(limit=4)
                    if not (report.sent or report.retrying or report.failed):
                        break
                    sent[n].extend(report.sent)
                    assert not report.failed and not report.retrying
                db.session.remove()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    everything = sorted(sent[0] + sent[1] + sent[2])
    assert everything == sorted({row.id for row in rows()})
    received = [str(m["Message-ID"]) for m in scripted_smtp.messages]
    assert len(received) == len(set(received)) == expected
    assert set(statuses()) == {OutboxStatus.SENT}


# ----------------------------------------------------------------------------- safe headers
def test_a_name_with_a_line_break_cannot_add_a_header(
    make_seller: Any, make_order: Any, scripted_smtp: ScriptedSmtp
) -> None:
    shop = make_seller("lina@example.fr", shop_name="Lina\r\nX-Injected: yes")
    make_order(owner=shop, buyer_name="Camille\r\nBcc: evil@example.com")
    report = deliver()
    assert report.sent == [1, 2]
    envelopes = scripted_smtp.handler.received
    assert [e.rcpt_tos for e in envelopes] == [["lina@example.fr"], ["camille@example.fr"]]
    for envelope in envelopes:
        msg = envelope.message
        for part in msg.walk():  # the message's headers and each part's
            assert part["Bcc"] is None and part["X-Injected"] is None
        head = envelope.raw.split(b"\r\n\r\n", 1)[0]
        assert not any(line.startswith((b"Bcc", b"X-Injected")) for line in head.split(b"\r\n"))
        for header in ("To", "From", "Reply-To", "Subject"):
            value = msg[header]
            assert value is None or ("\r" not in str(value) and "\n" not in str(value))
    buyer = envelopes[1].message
    assert getaddresses([str(buyer["To"])]) == [("Camille Bcc: evil@example.com", "camille@example.fr")]
    assert getaddresses([str(buyer["Reply-To"])]) == [("Lina X-Injected: yes", "lina@example.fr")]
    assert "Bonjour Camille Bcc: evil@example.com," in text_part(buyer)  # a name, on one line


def test_lines_starting_with_a_dot_arrive_as_written(
    make_seller: Any, make_order: Any, scripted_smtp: ScriptedSmtp
) -> None:
    """SMTP ends a message with a line holding a dot: the message's own are doubled on the way."""
    shop = make_seller("lina@example.fr", payment_instructions="Virement :\n.\n.. IBAN FR76\n.")
    make_order(owner=shop)
    assert deliver().sent == [1, 2]
    assert "Virement :\n.\n.. IBAN FR76\n.\n" in text_part(scripted_smtp.messages[1]).replace("\r\n", "\n")


# ----------------------------------------------------------------------------- no SMTP configured
def test_without_smtp_emails_are_kept_for_the_dev_mailbox(
    app: Flask, make_order: Any, scripted_smtp: ScriptedSmtp
) -> None:
    app.config.update(MAIL_TO_DEV_MAILBOX=True)
    make_order()
    report = deliver()
    assert report.sent == [1, 2] and scripted_smtp.messages == []
    for row in rows():
        assert row.status == OutboxStatus.SENT and row.sent_at is not None
        assert "UQ-2026-000001" in row.subject
        assert "PROCHAINE ÉTAPE" in (row.body_text or "") and "<html" in (row.body_html or "")
        assert row.message_id and row.message_id.endswith("@uniqu3app.fr>")


# ----------------------------------------------------------------------------- login
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_server_login_is_used_and_a_wrong_password_keeps_emails_queued(
    app: Flask, make_order: Any, clock: Clock
) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from .conftest import ScriptedHandler, free_port

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"relay", b"s3cret")
        return AuthResult(success=good, handled=False)  # the server answers 535 itself

    handler = ScriptedHandler()
    server = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                        auth_require_tls=False, auth_required=True)
    server.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USERNAME="relay",
                          MAIL_PASSWORD="wrong")
        make_order()
        assert sorted(deliver().retrying) == [1, 2]
        assert all("535" in row.last_error for row in rows())
        app.config["MAIL_PASSWORD"] = "s3cret"
        clock.advance(minutes=1)
        assert sorted(deliver().sent) == [1, 2] and len(handler.received) == 2
    finally:
        server.stop()
