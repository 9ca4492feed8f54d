"""Requests per API key are limited (API_RATE_LIMIT): over it, 429 with `Retry-After`, for
that key only; the counters are the login throttle's (`limits`, in Redis when set)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import ORDERS_URL, bearer
from tests.conftest import Clock
from uniqu3.models import Order


@pytest.fixture
def app_config(database_url: str, clock: Clock) -> dict[str, Any]:
    return {"SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock, "API_RATE_LIMIT": "3/minute"}


def test_a_key_over_its_rate_gets_429_with_retry_after(
    client: FlaskClient, auth: dict[str, str], make_key: Callable[..., str], make_order: Callable[..., Order],
) -> None:
    order = make_order()
    assert [client.get(ORDERS_URL, headers=auth).status_code for _ in range(3)] == [200] * 3
    over = client.post(f"/api/v1/orders/{order.reference}/payment", headers=auth)
    assert over.status_code == 429
    assert over.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert order.paid_at is None  # refused before anything was done
    # Another key has its own count.
    assert client.get(ORDERS_URL, headers=bearer(make_key("label software"))).status_code == 200


def test_requests_without_a_valid_key_are_not_counted_against_it(
    client: FlaskClient, auth: dict[str, str],
) -> None:
    for _ in range(5):
        assert client.get(ORDERS_URL, headers=bearer("uq_live_abcdefghij_" + "x" * 40)).status_code == 401
    assert client.get(ORDERS_URL, headers=auth).status_code == 200
    # The document is public and not counted either.
    for _ in range(5):
        assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get(ORDERS_URL, headers=auth).status_code == 200


@pytest.mark.redis
def test_with_redis_the_count_is_shared_by_every_process(
    redis_url: str, database_url: str, clock: Clock, make_key: Callable[..., str],
) -> None:
    from redis import Redis

    from uniqu3 import create_app

    Redis.from_url(redis_url).flushdb()
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock, "API_RATE_LIMIT": "3/minute",
              "RATELIMIT_STORAGE_URI": redis_url}
    key = bearer(make_key())
    first, second = create_app(config).test_client(), create_app(config).test_client()
    answers = [client.get(ORDERS_URL, headers=key).status_code for client in (first, second) * 2]
    assert answers == [200, 200, 200, 429]


@pytest.mark.parametrize("rate", ["lots", "1000", "10/fortnight"])
def test_a_rate_that_means_nothing_is_refused_at_start(rate: str) -> None:
    from uniqu3 import create_app
    from uniqu3.config import ConfigError

    with pytest.raises(ConfigError, match="API_RATE_LIMIT"):
        create_app({"API_RATE_LIMIT": rate, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
