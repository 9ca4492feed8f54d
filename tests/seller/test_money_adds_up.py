"""The money of an order adds up to the cent wherever it is shown, over random orders, parcels,
closures, lost parcels, cancellations and refunds (Hypothesis): the order page, the slip, the
buyer's e-mails, the CSV export and the API say the same amounts, what is due plus what was
refunded is what must be given back, and the refunds never exceed what was paid."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.api.conftest import api_key, bearer, make_key  # noqa: F401  (fixtures)
from tests.conftest import order_input
from tests.i18n.conftest import visible_text
from uniqu3.extensions import db
from uniqu3.mail.render import render_email
from uniqu3.models import Order, OutboxEmail, Refund, ShipmentStatus
from uniqu3.money import format_money
from uniqu3.tokens import order_token
from uniqu3.workflow import Actor, InvalidInput, InvalidTransition, LineInput, Workflow, WorkflowError

from .conftest import SellerClient

SELLER = Actor.seller("atelier@example.fr")
_ids = itertools.count(1)

QUANTITIES = st.lists(st.integers(0, 4), min_size=3, max_size=3)
STEPS = st.lists(st.one_of(
    st.tuples(st.just("ship"), QUANTITIES),
    st.tuples(st.just("close"), QUANTITIES),
    st.tuples(st.just("lost"), st.integers(0, 3)),
    # None: all that is due (or 1 cent when nothing is), as a seller refunding in full does.
    st.tuples(st.just("refund"), st.one_of(st.integers(-100, 20_000), st.none())),
    st.tuples(st.just("cancel"), st.none()),
), max_size=8)
LINES = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 9_999)), min_size=1, max_size=3)


@dataclass
class Expected:
    """What the order must owe, computed here from what was done (not by the code under test):
    the closed quantities, and a lost parcel's items until they are shipped again."""

    paid: bool
    total: int
    prices: dict[int, int]
    ordered: dict[int, int]
    closed: dict[int, int] = field(default_factory=dict)
    shipped: dict[int, int] = field(default_factory=dict)  # in parcels not lost
    lost: dict[int, int] = field(default_factory=dict)  # in lost parcels, in all
    cancelled: bool = False
    refunded: int = 0

    def left(self, line_id: int, shipping: int = 0) -> int:
        return self.ordered[line_id] - self.shipped.get(line_id, 0) - shipping - self.closed.get(line_id, 0)

    def owed_with(self, shipping: dict[int, int]) -> int:
        """Owed once `shipping` (line id -> quantity) is shipped too."""
        if not self.paid:
            return 0
        if self.cancelled:
            return self.total
        return sum(self.prices[i] * (self.closed.get(i, 0)
                                     + min(self.lost.get(i, 0), self.left(i, shipping.get(i, 0))))
                   for i in self.prices)

    @property
    def owed(self) -> int:
        return self.owed_with({})

    @property
    def lost_owed(self) -> int:
        if self.cancelled:
            return 0
        return self.owed - sum(q * self.prices[i] for i, q in self.closed.items())

    @property
    def due(self) -> int:
        return self.owed - self.refunded


def reload(order_id: int) -> Order:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order is not None
    return order


def play(wf: Workflow, order_id: int, kind: str, arg: Any, expected: Expected) -> None:
    order = reload(order_id)
    if kind in ("ship", "close"):
        chosen = {line.id: min(q, line.remaining) for line, q in zip(order.lines, arg, strict=False)}
        if kind == "ship":
            # Lost items already refunded are not shipped again (the seller closes them).
            refused = (expected.paid and not expected.cancelled and any(chosen.values())
                       and expected.owed_with(chosen) < expected.refunded)
            try:
                wf.ship(order_id, actor=SELLER, quantities=chosen, carrier="hand_delivery")
            except WorkflowError as error:
                assert (error.code == "refunded_as_lost") == refused, (chosen, expected, error)
                raise
            assert not refused, (chosen, expected)
            for line_id, q in chosen.items():
                expected.shipped[line_id] = expected.shipped.get(line_id, 0) + q
            return
        wf.close_remainder(order_id, actor=SELLER, reason="Rupture de stock", quantities=chosen)
        for line_id, q in chosen.items():
            expected.closed[line_id] = expected.closed.get(line_id, 0) + q
        # Nothing shipped and nothing left: the closure cancelled the order.
        expected.cancelled = all(expected.shipped.get(i, 0) == 0 and expected.left(i) == 0
                                 for i in expected.ordered)
    elif kind == "lost":
        open_parcels = [s for s in order.shipments if s.status != ShipmentStatus.LOST
                        and s.status != ShipmentStatus.RECEIVED]
        if open_parcels:
            parcel = open_parcels[arg % len(open_parcels)]
            items = [(item.order_line_id, item.quantity) for item in parcel.lines]
            wf.declare_lost(parcel.id, actor=SELLER)
            for line_id, q in items:
                expected.shipped[line_id] -= q
                expected.lost[line_id] = expected.lost.get(line_id, 0) + q
    elif kind == "refund":
        arg = arg if arg is not None else max(expected.due, 1)
        refusal = not expected.paid or expected.due == 0 or not 0 < arg <= expected.due
        try:
            wf.record_refund(order_id, actor=SELLER, amount_cents=arg, method="transfer")
        except (InvalidInput, InvalidTransition):
            assert refusal, (arg, expected)
            return
        assert not refusal, (arg, expected)
        expected.refunded += arg
    elif kind == "cancel":
        wf.cancel(order_id, actor=SELLER)
        expected.cancelled = True


def money(cents: int) -> str:
    return format_money(cents, "EUR", "fr").replace("\xa0", " ")


def in_cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def flat(html: str) -> str:
    return " ".join(html.replace("&#39;", "'").replace("\xa0", " ").replace("\u202f", " ").split())


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=LINES, paid=st.booleans(), steps=STEPS)
# Lost items refunded, then offered for shipping again (refused), then closed: rare at random.
@example(lines=[(2, 1_000), (1, 250)], paid=True, steps=[
    ("ship", [2, 0, 0]), ("lost", 0), ("ship", [0, 1, 0]), ("refund", None), ("ship", [1, 0, 0]),
    ("close", [2, 0, 0]), ("refund", 1)])
def test_the_money_adds_up_everywhere(sc: SellerClient, wf: Workflow, api_key: str,  # noqa: F811
                                      lines: list[tuple[int, int]], paid: bool,
                                      steps: list[tuple[str, Any]]) -> None:
    n = next(_ids)
    data = order_input(sc.seller.email, f"MKT-MONEY-{n}", lines=tuple(
        LineInput(sku=f"SKU-{n}-{i}", title=f"Article {i}", quantity=q, unit_price_cents=p)
        for i, (q, p) in enumerate(lines)))
    order = wf.place_order(data, actor=Actor.api("storefront")).order
    if paid:
        wf.confirm_payment(order.id, actor=SELLER)
    order = reload(order.id)
    expected = Expected(paid, order.total_cents, {line.id: line.unit_price_cents for line in order.lines},
                        {line.id: line.quantity for line in order.lines})
    for kind, arg in steps:
        # A refusal changes nothing: the amounts below are checked all the same.
        with contextlib.suppress(WorkflowError):
            play(wf, order.id, kind, arg, expected)
        stored = reload(order.id)
        assert stored.refund_due_cents == expected.due
        assert expected.refunded <= (stored.total_cents if paid else 0)
        assert [line.closed_quantity for line in stored.lines] == [
            expected.closed.get(line.id, 0) for line in stored.lines]
        assert [line.shipped_quantity for line in stored.lines] == [
            expected.shipped.get(line.id, 0) for line in stored.lines]

    order = reload(order.id)
    refunds = db.session.query(Refund).filter_by(order_id=order.id).all()
    assert sum(r.amount_cents for r in refunds) == expected.refunded
    assert expected.due + expected.refunded == expected.owed
    assert expected.due >= 0

    # The order page: what is owed, refunded and due, and each line's closed quantity.
    page = flat(sc.get(f"/commandes/{order.reference}").get_data(as_text=True))
    if expected.owed or expected.refunded:
        assert f"À rembourser au client</dt><dd>{money(expected.owed)}" in page
        assert f"Déjà remboursé</dt><dd>{money(expected.refunded)}" in page
        due = re.escape(money(expected.due))
        assert re.search(rf"Reste à rembourser</dt><dd( class=\"due\")?>{due}", page)
        if expected.lost_owed:
            assert f"dont articles perdus : {money(expected.lost_owed)}" in page
        else:
            assert "dont articles perdus" not in page
    else:
        assert "À rembourser au client" not in page
    if any(expected.closed.values()):
        # A row of the items' table ends with « Clos » then « Reste » (none left of a cancelled order).
        left = "" if order.is_cancelled else r'<td(?: class="todo")?>\d+</td>'
        cells = rf'<td(?: class="closed")?>(\d+)</td>{left}</tr>'
        closed = [int(v) for v in re.findall(cells, page)]
        assert closed == [line.closed_quantity for line in order.lines]

    # The buyer's page: what was refunded, and what is still to come.
    buyer = flat(sc.client.get(f"/o/{order_token(order.id)}").get_data(as_text=True))
    if expected.refunded:
        assert f"Remboursé en tout</dt><dd>{money(expected.refunded)}" in buyer
    if expected.due:
        assert f"Reste à vous rembourser</dt><dd><strong>{money(expected.due)}" in buyer
    else:
        assert "Reste à vous rembourser" not in buyer

    # The slip lists what is left to ship, nothing closed.
    slip = sc.get(f"/commandes/{order.reference}/preparation").get_data(as_text=True)
    assert [int(q) for q in re.findall(r'<td class="qty-big">(\d+)</td>', slip)] == [
        line.remaining for line in order.lines if line.remaining]

    # The API.
    body = sc.client.get(f"/api/v1/orders/{order.reference}", headers=bearer(api_key)).get_json()
    cents = [in_cents(r["amount"]) for r in body["refunds"]]
    assert (in_cents(body["refund_owed"]), in_cents(body["refund_due"]), sum(cents)) == (
        expected.owed, expected.due, expected.refunded)
    assert in_cents(body["refund_due"]) + sum(cents) == in_cents(body["refund_owed"])
    assert sum(cents) <= (in_cents(body["totals"]["amount"]) if paid else 0)
    assert [line["closed_quantity"] for line in body["lines"]] == [
        line.closed_quantity for line in order.lines]

    # The CSV export: the order's rows carry its amounts.
    text = sc.get(f"/commandes/export.csv?statut=toutes&q={order.reference}").get_data(as_text=True)
    rows = [row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";")
            if row and row[0] == order.reference]
    assert len(rows) == len(order.lines)
    for row, line in zip(rows, order.lines, strict=True):
        assert row[-4:] == [str(line.closed_quantity), *(f"{c // 100},{c % 100:02d}" for c in (
            expected.owed, expected.refunded, expected.due))]

    # The buyer's e-mails: each closure's amount is its items', each refund's running total.
    mails = db.session.query(OutboxEmail).filter_by(order_id=order.id).order_by(OutboxEmail.id).all()
    closures = [m for m in mails if m.kind == "C1"]
    assert sum(int(m.data["amount_cents"]) for m in closures) == sum(
        q * expected.prices[line_id] for line_id, q in expected.closed.items())
    for mail in closures:
        price = {line.sku: line.unit_price_cents for line in order.lines}
        items = sum(i["quantity"] * price[i["sku"]] for i in mail.data["items"])
        assert f"Montant de ces articles : {money(items)}" in visible_text(render_email(mail).text)
    for mail in (m for m in mails if m.kind == "P4"):
        price = {line.sku: line.unit_price_cents for line in order.lines}
        items = sum(i["quantity"] * price[i["sku"]] for i in mail.data["items"])
        if items:
            assert f"Montant de ces articles : {money(items)}." in visible_text(render_email(mail).text)
    running = 0
    for mail in (m for m in mails if m.kind == "R1"):
        running += int(mail.data["amount_cents"])
        assert f"Remboursé en tout : {money(running)}" in visible_text(render_email(mail).text)
    assert running == expected.refunded
