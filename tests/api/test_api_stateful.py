"""Schemathesis over the served document, statefully: from an order created it follows the
document's links — payment, parcels, their receipt requests and corrections, cancellation,
refunds — and back to reading it, with generated values wherever a link gives none. Every
answer conforms to the document (status, headers, body) and none is a server error.

Scenarios start from a new order, each in a database holding only the seller and the key
(Hypothesis replays a scenario and needs the same answers); the other operations are reached
through the links only, with the reference and the parcel number they carry and the bodies
they give (a parcel of the order's first line, its ship date, a refund of what is due). Calls
with made-up references are test_openapi.py's run over every operation.

Marked `reliability`: part of every full run (CI), left out of a quick `-m "not reliability"`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.generation.stateful.control import TransitionController
from sqlalchemy import text

from tests.conftest import wait_for_background
from tests.reliability.conftest import knob
from uniqu3.api.openapi import document
from uniqu3.api.schemas.orders import EXAMPLE
from uniqu3.extensions import Base, db
from uniqu3.models import Seller

pytestmark = pytest.mark.reliability

#: Scenarios, each of up to STEPS calls following the links.
SCENARIOS = knob("API_STATEFUL_SCENARIOS", 40)
STEPS = 20

#: Where scenarios start: a new order.
ROOTS = ("POST /orders",)
#: What each scenario keeps of the previous ones: the seller and the key.
KEPT = frozenset({"sellers", "api_keys"})

CHECKS = {
    # Valid by the schema but refused by a rule it cannot state (paid first, quantities left,
    # nothing owed): 422 names it. 404: a link's reference or parcel number, sometimes replaced
    # by a generated one. Any other status for a valid request (401, 409, 429…) fails.
    "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "422"]},
    # Keys are checked operation by operation by test_openapi.py's run (and tests/api's own):
    # in a stateful run this check takes the run's header for a generated one.
    "ignored_auth": {"enabled": False},
}

#: What the links must have reached in a run: the whole journey of an order, its corrections
#: and its refund.
REACHED = (
    "POST /orders 201",
    "POST /orders/{reference}/payment 200",
    "POST /orders/{reference}/shipments 201",
    "POST /orders/{reference}/shipments/{number}/receipt-request 200",
    "PATCH /orders/{reference}/shipments/{number} 200",
    "POST /orders/{reference}/payment/cancellation 200",
    "POST /orders/{reference}/cancellation 200",
    "POST /orders/{reference}/refunds 201",
    "GET /orders/{reference} 200",
)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # Hundreds of calls in a few seconds with one key: the rate is test_rate_limit.py's.
    return {**app_config, "API_RATE_LIMIT": "100000/minute"}


class FromANewOrder(TransitionController):
    """Scenarios start from ROOTS only: every other operation is called through a link."""

    def allow_root_transition(self, source: str, bundles: Any) -> bool:
        return source in ROOTS and super().allow_root_transition(source, bundles)


def forget_the_orders(app: Flask) -> None:
    """Every table but KEPT emptied, their ids started again: each scenario starts from the same
    state (Hypothesis replays a scenario to shrink it, and needs the same answers), its order is
    UQ-2026-000001."""
    tables = [table for table in reversed(Base.metadata.sorted_tables) if table.name not in KEPT]
    # No transaction left open to wait for: the previous scenario's e-mails sent, the fixtures'
    # session closed.
    wait_for_background(app)
    db.session.close()
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))  # a lock held elsewhere fails, not hangs
            conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY"))
        else:
            for table in tables:
                conn.execute(table.delete())
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence WHERE name NOT IN ('sellers', 'api_keys')"))


def test_the_api_followed_through_its_links_never_fails(app: Flask, auth: dict[str, str],
                                                        seller: Seller) -> None:
    # The key as the run's own header: generated calls carry it, the checks' probes take it away.
    # The document's own links only: links inferred from the shapes lead to parcels by made-up
    # numbers.
    config = schemathesis.Config.from_dict({"headers": auth, "checks": CHECKS,
                                            "phases": {"stateful": {"inference": {"algorithms": []}}}})
    schema = schemathesis.openapi.from_dict(document(), config=config)
    schema.app = app
    seen: dict[str, int] = {}
    seller_email = seller.email  # read now: each scenario closes the fixtures' session
    machine = schema.as_state_machine()
    assert set(ROOTS) <= machine._root_labels, machine._root_labels

    class Journey(machine):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.control = FromANewOrder(self._transitions, frozenset(ROOTS))

        def setup(self) -> None:
            forget_the_orders(app)

        def before_call(self, case: Any) -> None:
            positive = case.meta is not None and case.meta.generation.mode.is_positive
            if positive and case.operation.method.upper() == "POST" and case.operation.path == "/orders":
                # Orders that get recorded (the intake's own fuzzing is test_openapi.py's), so
                # that the links have something to walk on: the example, under a new id.
                case.body = {**EXAMPLE, "external_id": f"MKT-{uuid.uuid4().hex[:12]}",
                             "seller": seller_email}
            if case.headers and "Idempotency-Key" in case.headers:
                # Generated keys repeat ("0"): each call its own, or every other call is a 409.
                case.headers["Idempotency-Key"] = uuid.uuid4().hex

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": app}

        def after_call(self, response: Any, case: Any) -> None:
            key = f"{case.operation.method.upper()} {case.operation.path} {response.status_code}"
            seen[key] = seen.get(key, 0) + 1
            assert response.status_code < 500, (key, response.text[:500])

    # Derandomized: the same scenarios every run (a run that finds a failure finds it again).
    Journey.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                                  derandomize=True, suppress_health_check=list(HealthCheck)))
    said = "; ".join(f"{k}: {v}" for k, v in sorted(seen.items()))
    for step in REACHED:
        assert seen.get(step), (step, said)
    assert not any(key.endswith((" 401", " 409", " 429")) for key in seen), said
