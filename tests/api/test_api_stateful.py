"""Schemathesis over the whole served document, statefully: it follows the document's links
from an order created to its payment, its parcels, their receipt requests and back to reading
it, with generated values at every step — and never gets a server error.

Marked `reliability`: part of every full run (CI), left out of a quick `-m "not reliability"`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from tests.reliability.conftest import knob
from uniqu3.api.openapi import document
from uniqu3.api.schemas.orders import EXAMPLE
from uniqu3.extensions import db
from uniqu3.models import Seller
from uniqu3.workflow.loading import line_ids_of

pytestmark = pytest.mark.reliability

#: Scenarios, each of up to STEPS calls following the links.
SCENARIOS = knob("API_STATEFUL_SCENARIOS", 40)
STEPS = 8

CHECKS = {
    # Valid by the schema but refused by a rule it cannot state (the seller must exist, a SKU of
    # the order, quantities left, the payment first): 422 is then the answer.
    "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "409", "422"]},
    # Keys are checked operation by operation by test_openapi.py's run (and tests/api's own):
    # in a stateful run this check takes the run's header for a generated one.
    "ignored_auth": {"enabled": False},
}


def test_the_api_followed_through_its_links_never_fails(app: Flask, auth: dict[str, str],
                                                        seller: Seller) -> None:
    # The key as the run's own header: generated calls carry it, the checks' probes take it away.
    config = schemathesis.Config.from_dict({"headers": auth, "checks": CHECKS})
    schema = schemathesis.openapi.from_dict(document(), config=config)
    schema.app = app
    seen: dict[str, int] = {}

    class Journey(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            positive = case.meta is not None and case.meta.generation.mode.is_positive
            if positive and case.operation.method.upper() == "POST" and case.operation.path == "/orders":
                # Orders that get recorded (the intake's own fuzzing is test_openapi.py's), so
                # that the links have something to walk on: the example, under a new id.
                case.body = {**EXAMPLE, "external_id": f"MKT-{uuid.uuid4().hex[:12]}",
                             "seller": seller.email}
            if positive and case.operation.path == "/orders/{reference}/shipments":
                # A parcel of an existing order's first line (generated SKUs name no line).
                with app.app_context():
                    found = line_ids_of(db.session, str(case.path_parameters["reference"]).upper())
                if found is not None and found[1]:
                    case.body = {"lines": [{"sku": next(iter(found[1])), "quantity": 1}],
                                 "carrier": "hand_delivery"}
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
    # The links were followed: orders were created, read back through them, and their payment
    # asked (whether it was confirmed depends on the generated bodies, which vary with the run).
    said = "; ".join(f"{k}: {v}" for k, v in sorted(seen.items()))
    for step in ("POST /orders 201", "GET /orders/{reference} 200"):
        assert seen.get(step), (step, said)
    assert any(k.startswith("POST /orders/{reference}/payment ") for k in seen), said
