"""Accounts under attack, and a stalled SMTP server without Redis.

The login throttle against one account guessed from many addresses, IPv6 addresses of one
network, and guesses sent all at once (in memory and in the suite's own Redis): how many
guesses were actually checked. « Mot de passe oublié » for an address with and without an
account: the answers compared. Without Redis, API orders while the SMTP server accepts and
then hangs: answered before the server answers, delivered once it does.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from jobs.background import deliverer
from tests.api.conftest import order_body
from tests.conftest import smtp_sink
from tests.reliability.conftest import Figures, RedisServer, wait_until
from tests.seller.conftest import csrf_token
from uniqu3 import apikeys, create_app
from uniqu3.extensions import db
from uniqu3.models import OutboxEmail, OutboxStatus, Seller

pytestmark = pytest.mark.reliability

ACCOUNT_LIMIT, CLIENT_ACCOUNT_LIMIT, CLIENT_LIMIT = 10, 5, 20


def _attempt(client: FlaskClient, email: str, password: str, address: str) -> int:
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/connexion", environ_base=environ).get_data(as_text=True))
    return client.post("/connexion", data={"email": email, "password": password, "csrf_token": token},
                       environ_base=environ).status_code


def _checked(statuses: list[int]) -> int:
    """Guesses whose password was actually checked (422), as opposed to refused (429)."""
    return statuses.count(422)


def test_one_account_guessed_from_many_addresses_is_locked(app: Flask, seller: Seller,
                                                           figures: Figures) -> None:
    statuses = [_attempt(app.test_client(), seller.email, "wrong guess", f"198.51.100.{n}")
                for n in range(1, 41) for _ in range(2)]
    refused = app.test_client()
    environ = {"REMOTE_ADDR": "192.0.2.77"}
    token = csrf_token(refused.get("/connexion", environ_base=environ).get_data(as_text=True))
    owner = refused.post("/connexion", data={"email": seller.email, "password": "correct horse battery",
                                             "csrf_token": token}, environ_base=environ)
    figures.record_findings(
        "login_throttle_one_account",
        {"checked_beyond_limit": [s for s in statuses[ACCOUNT_LIMIT:] if s != 429],
         "no_way_through_shown": [] if "Mot de passe oublié" in owner.get_data(as_text=True) else ["429"]},
        addresses=40, guesses=len(statuses), checked=_checked(statuses), refused=statuses.count(429))
    assert statuses[:ACCOUNT_LIMIT] == [422] * ACCOUNT_LIMIT
    assert owner.status_code == 429 and "Retry-After" in owner.headers
    # Other accounts are not concerned.
    assert _attempt(app.test_client(), "autre@example.fr", "wrong guess", "192.0.2.77") == 422


def test_ipv6_addresses_of_one_network_count_as_one_client(app: Flask, seller: Seller,
                                                           figures: Figures) -> None:
    one_account = [_attempt(app.test_client(), seller.email, "wrong guess", f"2001:db8:1:2::{n:x}")
                   for n in range(1, 8)]
    other_network = _attempt(app.test_client(), seller.email, "wrong guess", "2001:db8:1:3::1")
    any_account = [_attempt(app.test_client(), f"essai{n}@example.fr", "x", f"2001:db8:9:9:{n:x}::1")
                   for n in range(1, 23)]
    figures.record_findings(
        "login_throttle_ipv6",
        {"checked_beyond_limit": [s for s in one_account[CLIENT_ACCOUNT_LIMIT:] + any_account[CLIENT_LIMIT:]
                                  if s != 429]},
        addresses=len(one_account) + len(any_account), checked=_checked(one_account) + _checked(any_account))
    assert one_account == [422] * 5 + [429] * 2
    assert other_network == 422  # another /64 is another client
    assert any_account == [422] * 20 + [429] * 2


def _parallel_guesses(app: Flask, email: str, count: int) -> Counter[int]:
    clients = [app.test_client() for _ in range(count)]
    tokens = [csrf_token(c.get("/connexion").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(count)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def guess(client: FlaskClient, token: str) -> None:
        barrier.wait()
        status = client.post("/connexion", data={"email": email, "password": "wrong guess",
                                                 "csrf_token": token}).status_code
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_parallel_guesses_from_one_address_are_counted_atomically(
    app_config: dict[str, Any], request: pytest.FixtureRequest, seller: Seller, figures: Figures,
    storage: str,
) -> None:
    if storage == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        app = create_app({**app_config, "RATELIMIT_STORAGE_URI": server.url})
    else:
        app = create_app(app_config)
    statuses = _parallel_guesses(app, seller.email, 20)
    beyond = max(0, statuses[422] - CLIENT_ACCOUNT_LIMIT)
    figures.record_findings(f"login_throttle_parallel_{storage}",
                            {"let_through_beyond_limit": ["422"] * beyond},
                            guesses=20, checked=statuses[422], refused=statuses[429])
    assert statuses == Counter({422: 5, 429: 15})


def test_a_reset_request_answers_the_same_with_or_without_an_account(app: Flask, seller: Seller,
                                                                     figures: Figures) -> None:
    client = app.test_client()
    answers = {}
    for email in (seller.email, "personne@example.fr"):
        token = csrf_token(client.get("/mot-de-passe-oublie").get_data(as_text=True))
        response = client.post("/mot-de-passe-oublie", data={"email": email, "csrf_token": token})
        answers[email] = (response.status_code, response.get_data(as_text=True).replace(email, "X"))
    wait_until(lambda: deliverer(app).idle(), 10, "the background lookup")
    known, unknown = answers.values()
    sent_to = [row.to_email for row in db.session.query(OutboxEmail).filter_by(kind="A1")]
    figures.record_findings("reset_same_answer",
                            {"different_answers": [] if known == unknown else ["answers differ"],
                             "emails_to_unknown": [e for e in sent_to if e != seller.email]},
                            requests=2, emails=len(sent_to))
    assert sent_to == [seller.email]


# ----------------------------------------------------------------------------- a hung SMTP server
@pytest.fixture
def hanging_smtp() -> Iterator[tuple[int, threading.Event, list[bytes]]]:
    """A real SMTP server that takes each message in, then does not answer until `release` is
    set (a stalled relay)."""
    release = threading.Event()
    with smtp_sink(lambda: release.wait(60)) as sink:
        try:
            yield sink.port, release, sink.messages
        finally:
            release.set()  # before the server stops: it waits for its handlers


def test_without_redis_a_hung_smtp_server_never_holds_a_request(
    app_config: dict[str, Any], make_seller: Any, hanging_smtp: tuple[int, threading.Event, list[bytes]],
    figures: Figures,
) -> None:
    """The « single small install »: an action commits and answers; its e-mails are sent by the
    web process's thread afterwards (here once the stalled server wakes up)."""
    port, release, received = hanging_smtp
    app = create_app({**app_config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_TIMEOUT": 60,
                      "MAIL_TO_DEV_MAILBOX": False})
    seller = make_seller("lina@example.fr")
    with app.app_context():
        _, key = apikeys.create_key(db.session, name="shop", now=app.config["CLOCK"]())
    orders = 3
    safety = threading.Timer(30, release.set)  # what the request would otherwise wait for
    safety.start()
    held: list[str] = []
    try:
        for n in range(orders):
            response = app.test_client().post("/api/v1/orders", json=order_body(
                external_id=f"MKT-HUNG-{n}", seller=seller.email), headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 201
            if release.is_set():
                held.append(f"order {n} answered after the SMTP server")
            if app.test_client().get("/connexion").status_code != 200 or release.is_set():
                held.append(f"login page after order {n}")
    finally:
        safety.cancel()
    release.set()
    wait_until(lambda: len(received) >= 2 * orders, 30, "the e-mails once the server answers")
    with app.app_context():
        def all_sent() -> bool:
            db.session.expire_all()
            return all(row.status == OutboxStatus.SENT for row in db.session.query(OutboxEmail))

        wait_until(all_sent, 30, "the outbox rows marked sent")
        emails = db.session.query(OutboxEmail).count()
    figures.record_findings("smtp_hung_without_redis", {"requests_held": held,
                                                        "lost": ["e-mail"] * (emails - len(received))},
                            requests=2 * orders, emails=emails, delivered=len(received))
