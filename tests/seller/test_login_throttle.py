"""The login throttle across addresses: one account guessed from many addresses, IPv6
addresses of one network, and many guesses at once (counted atomically, in memory and in
Redis)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD
from uniqu3.models import Seller

from .conftest import csrf_token


def _attempt(client: FlaskClient, email: str, password: str, address: str) -> Any:
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/connexion", environ_base=environ).get_data(as_text=True))
    return client.post("/connexion", data={"email": email, "password": password, "csrf_token": token},
                       environ_base=environ)


def test_one_account_guessed_from_many_addresses_is_locked(app: Flask, seller: Seller) -> None:
    statuses = [_attempt(app.test_client(), seller.email, "wrong guess", f"198.51.100.{n}").status_code
                for n in range(1, 41) for _ in range(2)]
    # 10 guesses an hour at one account, wherever they come from.
    assert statuses[:10] == [422] * 10
    assert set(statuses[10:]) == {429}
    refused = _attempt(app.test_client(), seller.email, PASSWORD, "192.0.2.77")  # even the owner, now…
    assert refused.status_code == 429
    body = refused.get_data(as_text=True)
    assert "Mot de passe oublié" in body  # …who is told the way through: the reset e-mail
    assert "Retry-After" in refused.headers
    # Other accounts are not concerned.
    assert _attempt(app.test_client(), "autre@example.fr", "wrong guess", "192.0.2.77").status_code == 422


def test_ipv6_addresses_of_one_network_count_as_one(app: Flask, seller: Seller) -> None:
    statuses = [_attempt(app.test_client(), seller.email, "wrong guess", f"2001:db8:1:2::{n:x}").status_code
                for n in range(1, 8)]
    assert statuses == [422] * 5 + [429] * 2
    # Another /64 is another client.
    assert _attempt(app.test_client(), seller.email, "wrong guess", "2001:db8:1:3::1").status_code == 422


def test_ipv6_networks_are_limited_across_accounts(app: Flask) -> None:
    statuses = [_attempt(app.test_client(), f"essai{n}@example.fr", "x", f"2001:db8:9:9:{n:x}::1").status_code
                for n in range(1, 23)]
    assert statuses == [422] * 20 + [429] * 2


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


def test_parallel_guesses_from_one_address_are_counted_atomically(app: Flask, seller: Seller) -> None:
    assert _parallel_guesses(app, seller.email, 20) == Counter({422: 5, 429: 15})


@pytest.mark.redis
def test_parallel_guesses_are_counted_atomically_in_redis(app_config: dict[str, Any], redis_url: str,
                                                          seller: Seller) -> None:
    app = _redis_app(app_config, redis_url)
    assert _parallel_guesses(app, seller.email, 20) == Counter({422: 5, 429: 15})


def test_the_right_password_does_not_count_as_a_guess(app: Flask, seller: Seller) -> None:
    for _ in range(12):
        assert _attempt(app.test_client(), seller.email, PASSWORD, "192.0.2.5").status_code == 303
    assert _attempt(app.test_client(), seller.email, "wrong guess", "192.0.2.5").status_code == 422


def _redis_app(app_config: dict[str, Any], redis_url: str) -> Flask:
    from uniqu3 import create_app

    return create_app({**app_config, "RATELIMIT_STORAGE_URI": redis_url})
