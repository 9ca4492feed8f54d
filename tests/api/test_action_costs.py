"""What an action over the API answers and costs: the order exactly as `GET` shows it next
(the workflow's objects are kept as committed, not read again), in a fixed number of SQL
statements whatever the order's size. Each request runs in its own app context and database
session, as in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.seller.conftest import IsolatedClient, count_queries  # noqa: F401  (a fixture)
from uniqu3.extensions import db
from uniqu3.models import Order, Shipment
from uniqu3.webhooks import endpoints
from uniqu3.workflow import LineInput, Workflow

PARCEL = {"lines": [{"sku": "BAG-RED-01", "quantity": 1}, {"sku": "CARD-01", "quantity": 1}],
          "carrier": "colissimo", "tracking_number": "6A12345678901"}
#: Two lines, then ten: the first two are PARCEL's, each left partly to ship after it.
TWO_LINES = (LineInput("BAG-RED-01", "Sac cabas rouge", 3, 3490),
             LineInput("CARD-01", "Carte brodée", 2, 550))
TEN_LINES = (*TWO_LINES, *(LineInput(f"SKU-{n}", f"Article {n}", 3, 990) for n in range(8)))


pytestmark = pytest.mark.redis


@pytest.fixture
def app_config(app_config: dict[str, Any], redis_url: str) -> dict[str, Any]:
    """The production path: e-mails and deadlines as jobs on Redis, none sent by the request."""
    return {**app_config, "REDIS_URL": redis_url, "RQ_CONNECTION": redis_url, "RQ_ASYNC": True}


@pytest.fixture
def api(app: Flask, make_key: Callable[..., str]) -> FlaskClient:
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_key()}"
    assert client.get("/api/v1/orders").status_code == 200  # the key's first use is recorded
    return client


def post(api: FlaskClient, order: Order | str, action: str, body: Any = None, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    reference = order if isinstance(order, str) else order.reference
    response = api.post(f"/api/v1/orders/{reference}/{action}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.get_json()


def shipment_id(order: Order, number: int = 1) -> int:
    found = db.session.scalar(select(Shipment.id).where(Shipment.order_id == order.id,
                                                         Shipment.number == number))
    assert found is not None
    return found


def in_problem(api: FlaskClient, wf: Workflow, order: Order) -> None:
    post(api, order, "payment")
    post(api, order, "shipments", PARCEL)
    post(api, order, "shipments/1/receipt-request")
    wf.report_problem(shipment_id(order), reason="not_received", message="Rien reçu")


#: Each action endpoint: what comes first, then the action (path, body).
ACTIONS: list[tuple[str, Callable[[FlaskClient, Workflow, Order], None], str, Any]] = [
    ("payment", lambda api, wf, o: None, "payment", {"note": "Virement"}),
    ("shipment", lambda api, wf, o: post(api, o, "payment"), "shipments", PARCEL),
    ("receipt request", lambda api, wf, o: (post(api, o, "payment"), post(api, o, "shipments", PARCEL)),
     "shipments/1/receipt-request", None),
    ("cancellation", lambda api, wf, o: None, "cancellation", {"reason": "Rupture"}),
    ("remainder closure", lambda api, wf, o: post(api, o, "payment"), "remainder-closure",
     {"reason": "Rupture", "lines": [{"sku": "CARD-01", "quantity": 1}]}),
    ("message", in_problem, "shipments/1/messages", {"message": "Le transporteur enquête."}),
    ("relaunch", in_problem, "shipments/1/receipt-relaunch", None),
    ("loss", in_problem, "shipments/1/loss", None),
    ("loss in transit", lambda api, wf, o: (post(api, o, "payment"), post(api, o, "shipments", PARCEL)),
     "shipments/1/loss", None),
]


#: The actions that change nothing when sent again without a key (a parcel, a closure or a
#: message would be another one).
REPEATABLE = {"payment", "shipments/1/receipt-request", "cancellation", "shipments/1/receipt-relaunch",
              "shipments/1/loss"}


@pytest.mark.parametrize(("setup", "action", "body"), [case[1:] for case in ACTIONS],
                         ids=[case[0] for case in ACTIONS])
@pytest.mark.parametrize("webhook", [False, True], ids=["no webhook", "webhook"])
def test_an_action_answers_the_order_as_get_shows_it_next(
    api: FlaskClient, wf: Workflow, make_order: Callable[..., Order], setup: Any, action: str, body: Any,
    webhook: bool,
) -> None:
    if webhook:  # the event's body is read in the action's transaction
        endpoints.create_endpoint(db.session, "http://127.0.0.1:9/hook", seller=None, event_types=(),
                                  allow_private=True)
    order = make_order()
    setup(api, wf, order)
    answer = post(api, order, action, body, key=f"{action}-1")
    assert answer == api.get(f"/api/v1/orders/{order.reference}").get_json()
    # Again with its key: the stored answer; without: the order as it is, nothing done twice.
    assert post(api, order, action, body, key=f"{action}-1") == answer
    if action in REPEATABLE:
        again = post(api, order, action, body)
        assert again == api.get(f"/api/v1/orders/{order.reference}").get_json()


def count(api: FlaskClient, counting: Callable[[], Any], reference: str, action: str, body: Any,
          key: str | None) -> int:
    db.session.remove()  # the request finds nothing loaded, as in production
    with counting() as counter:
        post(api, reference, action, body, key=key)
    return int(counter.count)


@pytest.mark.parametrize("keyed", [True, False], ids=["Idempotency-Key", "no key"])
def test_payment_parcel_and_receipt_request_cost_fixed_statements(
    api: FlaskClient, make_order: Callable[..., Order], count_queries: Callable[[], Any],  # noqa: F811
    keyed: bool,
) -> None:
    """The bench's three actions: payment, a parcel of two lines, its receipt request; the
    same for an order of 2 lines whose parcel is its second as for one of 10 lines whose parcel
    is its fourth."""
    costs = {}
    cases = [(make_order(lines=TWO_LINES).reference, 1), (make_order(lines=TEN_LINES).reference, 3)]
    for reference, earlier_parcels in cases:
        def key(name: str) -> str | None:
            return f"{reference}-{name}" if keyed else None  # noqa: B023

        pay = count(api, count_queries, reference, "payment", {"note": "Virement"}, key("pay"))
        for n in range(earlier_parcels):
            sku = "BAG-RED-01" if earlier_parcels == 1 else f"SKU-{n}"
            post(api, reference, "shipments", {"lines": [{"sku": sku, "quantity": 1}], "carrier": "dpd",
                                               "tracking_number": f"0987654321{n:04d}"})
        ship = count(api, count_queries, reference, "shipments", PARCEL, key("ship"))
        receipt = count(api, count_queries, reference, f"shipments/{earlier_parcels + 1}/receipt-request",
                        None, key("receipt"))
        costs[earlier_parcels] = (pay, ship, receipt)
    assert costs[1] == costs[3]
    # Payment: the key, the order's id, its lock and load (the order with its seller, its lines,
    # parcels and refunds), the payment, the history, the E3 (and whether one was sent before),
    # the status, the webhook endpoints, the seller's list version. A parcel: the order's id and
    # lines, the lock and load (the parcels' lines and reports too), each line's quantity (the
    # new one returned), the search text, the parcel and each of its lines (the refunds, which
    # refuse lost items already refunded, come with the load), the history, the E4, the status,
    # the endpoints, the version. The receipt request: the lock by the parcel's id, the
    # load, the parcel's change, the history, the E5, the status, the endpoints, the version.
    # Each answer is the workflow's order, with the e-mails of its parcels' proofs read (one
    # query, none while every parcel is still `shipped`: never asked nor reported). An
    # Idempotency-Key adds its row and its answer. PostgreSQL inserts the parcel's lines in one
    # statement (SQLAlchemy's « insertmanyvalues »); SQLite, one by one.
    with api.application.app_context():
        lines_inserts = 1 if db.engine.dialect.name == "postgresql" else 2
    parcel = 20 + lines_inserts
    assert costs[1] == ((17, parcel, 18) if keyed else (15, parcel - 2, 16)), costs
