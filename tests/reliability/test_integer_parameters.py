"""Every integer that comes from outside and could reach SQL, at any size: list cursors,
parcel and e-mail numbers in URLs, the ship form's line ids and quantities, the outbox CLI's
ids. Beyond what the database column holds, it names nothing: never a 500 or a traceback
(PostgreSQL's DataError, SQLite's OverflowError)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.conftest import Figures, knob
from tests.seller import conftest as seller_fixtures
from tests.seller.conftest import HTMX, SellerClient
from uniqu3.models import Order
from uniqu3.seller.queries import TABS

pytestmark = pytest.mark.reliability

# The seller pages' fixtures: a logged-in seller, orders in a given status.
login, sc, order_in = seller_fixtures.login, seller_fixtures.sc, seller_fixtures.order_in

EXAMPLES = knob("FUZZ_EXAMPLES", 25)
# The edges of every integer type a database or Python has, and far beyond them.
EDGES = [0, 1, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**23, 10**39]
big_integers = st.one_of(st.sampled_from(EDGES), st.integers(0, 10**40))
INTEGERS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def server_errors(responses: list[Any]) -> list[str]:
    return [f"{r.request.method} {r.request.path}: {r.status_code}"
            for r in responses if r.status_code >= 500]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


@pytest.mark.parametrize("tab", [tab.slug for tab in TABS])
@pytest.mark.parametrize("direction", ["apres", "avant"])
def test_a_cursor_beyond_64_bits_is_an_invalid_cursor(sc: SellerClient, order_in: Callable[..., Order],
                                                      tab: str, direction: str) -> None:
    order_in("paid")
    invalid = sc.get(f"/commandes?statut={tab}&{direction}=not-a-cursor", htmx=True)
    for cursor in ("1-99999999999999999999999", "99999999999999999999999-1", f"1-{2**31}"):
        response = sc.get(f"/commandes?statut={tab}&{direction}={cursor}", htmx=True)
        assert response.status_code == 200, (cursor, response.status_code)
        assert response.get_data(as_text=True) == invalid.get_data(as_text=True)


@INTEGERS
@given(micros=big_integers, ident=big_integers, tab=st.sampled_from([tab.slug for tab in TABS]),
       direction=st.sampled_from(["apres", "avant"]), htmx=st.booleans())
def test_list_cursors_of_any_size(sc: SellerClient, figures: Figures, micros: int, ident: int, tab: str,
                                  direction: str, htmx: bool) -> None:
    response = sc.get(f"/commandes?statut={tab}&{direction}={micros}-{ident}", htmx=htmx)
    figures.record_findings("integer_parameters", {"server_errors": server_errors([response])}, requests=1)
    assert response.status_code == 200


@INTEGERS
@given(number=big_integers, email_id=big_integers, line_id=big_integers, quantity=big_integers)
def test_integers_in_urls_and_forms_of_any_size(sc: SellerClient, order_in: Callable[..., Order],
                                                figures: Figures, number: int, email_id: int, line_id: int,
                                                quantity: int) -> None:
    order = order_in("shipped")
    answers = [
        sc.post(f"/commandes/{order.reference}/colis/{number}/reception"),
        sc.post(f"/commandes/{order.reference}/colis/{number}/reception", htmx=True),
        sc.get(f"/dev/mailbox/{email_id}"),
        sc.get(f"/dev/mailbox/{email_id}/html"),
        sc.post(f"/commandes/{order.reference}/expedition",
                {f"qty_{line_id}": str(quantity), "carrier": "hand_delivery"}),
    ]
    figures.record_findings("integer_parameters", {"server_errors": server_errors(answers)},
                            requests=len(answers))


def test_outbox_retry_of_an_id_beyond_the_column_says_it_is_unknown(runner: FlaskCliRunner,
                                                                   app: Flask) -> None:
    for raw in ("99999999999", str(2**63), "1" + "0" * 30):
        result = runner.invoke(args=["admin", "outbox", "--retry", raw])
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "introuvable" in result.output, result.output


def test_the_htmx_list_with_a_huge_cursor_is_not_a_500(sc: SellerClient) -> None:
    """The attack's own URL."""
    response = sc.client.get("/commandes?apres=1-99999999999999999999999", headers=HTMX)
    assert response.status_code == 200
