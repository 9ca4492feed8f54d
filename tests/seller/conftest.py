"""Helpers for the seller pages: a logged-in client with its CSRF token, and htmx headers."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, Seller
from uniqu3.seller.list_cache import EXTENSION_KEY, RenderedLists
from uniqu3.workflow import Actor, Workflow

HTMX = {"HX-Request": "true"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, with its own database session and `g`, as in
    production, even while the test holds an app context open for its fixtures."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)  # streamed bodies are read inside the request
        return contextvars.Context().run(FlaskClient.open, self, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_requests(app: Flask) -> None:
    app.test_client_class = IsolatedClient


def rendered_lists_of(app: Flask) -> RenderedLists:
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@dataclass
class SellerClient:
    """A test client logged in as one seller (session set directly: argon2 is slow)."""

    client: FlaskClient
    seller: Seller
    _token: str = ""

    def stay_active(self) -> None:
        """The seller was busy elsewhere while the test clock moved on: a fresh idle stamp."""
        log_in(self.client, self.seller)

    @property
    def token(self) -> str:
        if not self._token:
            self._token = csrf_token(self.client.get("/parametres").get_data(as_text=True))
        return self._token

    def get(self, url: str, *, htmx: bool = False, **kwargs: Any) -> Any:
        return self.client.get(url, headers=HTMX if htmx else None, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False,
             csrf: bool = True, **kwargs: Any) -> Any:
        form = dict(data or {})
        headers = dict(HTMX) if htmx else {}
        if csrf:
            if htmx:
                headers["X-CSRFToken"] = self.token  # as the page's data-hx-headers send it
            else:
                form.setdefault("csrf_token", self.token)
        return self.client.post(url, data=form, headers=headers, **kwargs)


def log_in(client: FlaskClient, seller: Seller, *, seen: int | None = None) -> None:
    """What a successful login leaves in the session."""
    app = client.application
    stamp = seen if seen is not None else int(app.config["CLOCK"]().timestamp())
    with client.session_transaction() as session:
        session["_user_id"] = seller.get_id()
        session["_fresh"] = True
        session["seen"] = stamp
        session.permanent = True


@pytest.fixture
def login(app: Flask) -> Callable[..., SellerClient]:
    def make(seller: Seller) -> SellerClient:
        client = app.test_client()
        log_in(client, seller)
        return SellerClient(client, seller)

    return make


@pytest.fixture
def sc(login: Callable[..., SellerClient], seller: Seller) -> SellerClient:
    """The default seller, logged in."""
    return login(seller)


@dataclass
class QueryCounter:
    statements: list[str]

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter([])

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def order_in(make_order: Callable[..., Any], wf: Workflow) -> Callable[..., Order]:
    """An order brought to a status through the workflow, as a seller would."""

    def make(status: str, owner: Seller | None = None, **overrides: Any) -> Order:
        order = make_order(owner, **overrides)
        seller = Actor.seller("atelier@example.fr")
        if status == OrderStatus.AWAITING_PAYMENT:
            return order
        if status == OrderStatus.CANCELLED:
            return wf.cancel(order.id, actor=seller).order
        wf.confirm_payment(order.id, actor=seller)
        if status == OrderStatus.PAID:
            return order
        first, *rest = sorted(order.lines, key=lambda line: line.position)
        wf.ship(order.id, actor=seller, quantities={first.id: first.quantity}, carrier="colissimo",
                tracking_number=f"6A{order.id:011d}")
        if status == OrderStatus.PARTIALLY_SHIPPED:
            return order
        wf.ship(order.id, actor=seller, quantities={line.id: line.quantity for line in rest},
                carrier="mondial_relay", tracking_number=f"{order.id:08d}")
        if status == OrderStatus.SHIPPED:
            return order
        for shipment in order.shipments:
            wf.request_receipt(shipment.id, actor=seller)
            wf.confirm_receipt(shipment.id, ip="203.0.113.7", user_agent="Firefox")
        assert status == OrderStatus.RECEIVED
        return order

    return make
