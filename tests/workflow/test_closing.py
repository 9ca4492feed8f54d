"""« Clore le reste »: what it closes, the status that follows, the buyer's e-mail, and every
refusal (which changes nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ship_all
from tests.i18n.conftest import visible_text
from tests.workflow.test_transitions import SELLER, history, lines_of, outbox
from uniqu3.extensions import db
from uniqu3.mail.render import render_email
from uniqu3.models import Order, OutboxEmail
from uniqu3.workflow import InvalidInput, InvalidTransition, Workflow, WorkflowError, derive_status


@pytest.fixture
def paid(wf: Workflow, make_order: Any) -> Order:
    return wf.confirm_payment(make_order().id, actor=SELLER).order


def ship(wf: Workflow, order: Order, **quantities: int) -> None:
    by_sku = lines_of(order)
    wf.ship(order.id, actor=SELLER, carrier="colissimo", tracking_number=f"6A{len(history(order.id)):011d}",
            quantities={by_sku[sku.replace("_", "-")].id: q for sku, q in quantities.items()})


def fresh(order_id: int) -> Order:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order is not None
    return order


def state(order_id: int) -> tuple[Any, ...]:
    order = fresh(order_id)
    return (order.status, order.cancelled_at, [(line.shipped_quantity, line.closed_quantity)
                                               for line in order.lines],
            history(order_id), outbox(order_id))


def closure_email(order_id: int) -> OutboxEmail:
    rows = db.session.query(OutboxEmail).filter_by(order_id=order_id, kind="C1").all()
    assert len(rows) == 1
    return rows[0]


def test_closing_what_is_left_after_a_parcel_makes_the_order_shipped(wf: Workflow, paid: Order) -> None:
    ship(wf, paid, BAG_RED_01=1, CARD_01=1)
    by_sku = lines_of(fresh(paid.id))
    result = wf.close_remainder(paid.id, actor=SELLER, reason="Rupture de stock")
    assert result.changed
    order = fresh(paid.id)
    assert order.status == "shipped" and order.cancelled_at is None
    bag = lines_of(order)["BAG-RED-01"]
    assert (bag.shipped_quantity, bag.closed_quantity, bag.remaining) == (1, 1, 0)
    kind, actor, details = history(paid.id)[-1]
    assert (kind, actor, details["items"], details["amount_cents"], details["reason"],
            details["cancelled"]) == ("remainder_closed", "seller", [{"sku": "BAG-RED-01", "quantity": 1}],
                                      3490, "Rupture de stock", False)
    assert outbox(paid.id)[-1] == ("C1", "buyer", "camille@example.fr")
    mail = closure_email(paid.id)
    assert mail.data["items"] == [{"sku": "BAG-RED-01", "title": by_sku["BAG-RED-01"].title, "quantity": 1,
                                   "amount_cents": 3490}]


def test_chosen_lines_and_quantities_leave_the_rest_to_ship(wf: Workflow, paid: Order) -> None:
    by_sku = lines_of(paid)
    wf.close_remainder(paid.id, actor=SELLER, reason="Plus de cartes",
                       quantities={by_sku["CARD-01"].id: 1, by_sku["BAG-RED-01"].id: 0})
    order = fresh(paid.id)
    assert order.status == "paid"
    assert [(l.sku, l.closed_quantity, l.remaining) for l in order.lines] == [
        ("BAG-RED-01", 0, 2), ("CARD-01", 1, 0)]
    # What is closed cannot ship; the rest ships and the order is then « Expédiée ».
    with pytest.raises(InvalidInput) as refused:
        wf.ship(order.id, actor=SELLER, carrier="colissimo", tracking_number="6A12345678901",
                quantities={by_sku["CARD-01"].id: 1})
    assert refused.value.message == "CARD-01 n'a plus rien à expédier : le reste est clos."
    ship_all(wf, fresh(paid.id))
    assert fresh(paid.id).status == "shipped"


def test_closing_everything_before_any_parcel_cancels_the_order(wf: Workflow, paid: Order) -> None:
    wf.close_remainder(paid.id, actor=SELLER, reason="Atelier fermé")
    order = fresh(paid.id)
    assert order.status == "cancelled" and order.cancelled_at is not None
    assert order.cancel_reason == "Atelier fermé"
    assert history(paid.id)[-1][2]["cancelled"] is True
    assert closure_email(paid.id).data["cancelled"] is True


def test_after_a_lost_parcel_its_items_can_be_closed(wf: Workflow, paid: Order) -> None:
    shipment = ship_all(wf, paid)
    wf.declare_lost(shipment.id, actor=SELLER)
    wf.close_remainder(paid.id, actor=SELLER, reason="Plus en stock")
    order = fresh(paid.id)
    # Nothing reached the buyer and nothing is left: cancelled.
    assert order.status == "cancelled"
    assert [(l.shipped_quantity, l.closed_quantity) for l in order.lines] == [(0, 2), (0, 1)]


def test_a_double_submit_closes_once(wf: Workflow, paid: Order) -> None:
    ship(wf, paid, BAG_RED_01=1)
    key = "0b9a4c1e-2d3f-4a5b-8c6d-7e8f9a0b1c2d"
    first = wf.close_remainder(paid.id, actor=SELLER, reason="Rupture", request_key=key)
    again = wf.close_remainder(paid.id, actor=SELLER, reason="Rupture", request_key=key)
    assert first.changed and not again.changed
    assert [kind for kind, _, _ in history(paid.id)].count("remainder_closed") == 1
    assert [kind for kind, _, _ in outbox(paid.id)].count("C1") == 1


@pytest.mark.parametrize(("quantities", "reason", "field", "message"), [
    ({}, "Rupture", "lines", "Choisissez au moins un article à clore, avec sa quantité."),
    ({"BAG-RED-01": 0, "CARD-01": 0}, "Rupture", "lines",
     "Choisissez au moins un article à clore, avec sa quantité."),
    ({"BAG-RED-01": 3}, "Rupture", "close_BAG-RED-01", "Il reste 2 articles à expédier pour cette ligne."),
    ({"CARD-01": 2}, "Rupture", "close_CARD-01", "Il reste 1 article à expédier pour cette ligne."),
    ({"BAG-RED-01": -1}, "Rupture", "close_BAG-RED-01",
     "Une quantité ne peut pas être négative : 0 laisse cette ligne hors du colis."),
    ({"BAG-RED-01": 1}, "   ", "reason", "Indiquez le motif : le client le lira dans l'e-mail."),
    (None, "", "reason", "Indiquez le motif : le client le lira dans l'e-mail."),
])
def test_a_bad_closure_is_refused_and_changes_nothing(
        wf: Workflow, paid: Order, quantities: dict[str, int] | None, reason: str, field: str,
        message: str) -> None:
    by_sku = lines_of(paid)
    before = state(paid.id)
    chosen = None if quantities is None else {by_sku[sku].id: q for sku, q in quantities.items()}
    with pytest.raises(InvalidInput) as refused:
        wf.close_remainder(paid.id, actor=SELLER, reason=reason, quantities=chosen)
    line_ids = {f"close_{sku}": f"close_{line.id}" for sku, line in by_sku.items()}
    assert refused.value.field == line_ids.get(field, field)
    assert refused.value.message == message
    assert state(paid.id) == before


def test_an_unknown_line_is_refused(wf: Workflow, paid: Order, make_order: Any) -> None:
    other = make_order()
    with pytest.raises(InvalidInput):
        wf.close_remainder(paid.id, actor=SELLER, reason="x", quantities={other.lines[0].id: 1})


def test_closing_is_refused_on_an_unpaid_cancelled_or_fully_shipped_order(
        wf: Workflow, make_order: Any, paid: Order) -> None:
    unpaid = make_order()
    cancelled = make_order()
    wf.cancel(cancelled.id, actor=SELLER)
    ship_all(wf, paid)
    expected = {
        unpaid.id: "Le paiement n'est pas confirmé : rien n'est à clore. Pour abandonner la commande, "
                   "annulez-la.",
        cancelled.id: "Cette commande est annulée : il n'y a rien à clore.",
        paid.id: "Tout est déjà expédié ou clos : il ne reste rien à clore.",
    }
    for order_id, message in expected.items():
        before = state(order_id)
        with pytest.raises(InvalidTransition) as refused:
            wf.close_remainder(order_id, actor=SELLER, reason="Rupture")
        assert refused.value.message == message
        assert state(order_id) == before


def test_closing_everything_twice_is_refused_the_second_time(wf: Workflow, paid: Order) -> None:
    ship(wf, paid, CARD_01=1)
    wf.close_remainder(paid.id, actor=SELLER, reason="Rupture")
    with pytest.raises(WorkflowError, match="il ne reste rien à clore"):
        wf.close_remainder(paid.id, actor=SELLER, reason="Rupture")


def test_the_status_function_counts_closed_quantities() -> None:
    def status(*lines: tuple[int, int, int], parcels: tuple[str, ...] = ()) -> str:
        return derive_status(cancelled=False, paid=True, lines=lines, shipment_statuses=parcels)  # type: ignore[arg-type]

    assert status((2, 0, 1)) == "paid"
    assert status((2, 0, 2)) == "cancelled"
    assert status((2, 1, 0)) == "partially_shipped"
    assert status((2, 1, 1), parcels=("shipped",)) == "shipped"
    assert status((2, 1, 1), parcels=("received",)) == "received"
    assert status((2, 1, 0), (1, 0, 1)) == "partially_shipped"
    assert status((2, 2, 0), (1, 0, 1), parcels=("received",)) == "received"


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_buyer_reads_the_items_the_amount_and_the_next_step(
        wf: Workflow, paid: Order, locale: str) -> None:
    ship(wf, paid, BAG_RED_01=1, CARD_01=1)
    wf.close_remainder(paid.id, actor=SELLER, reason="Rupture de stock")
    row = closure_email(paid.id)
    row.locale = locale
    mail = render_email(row)
    words = {
        "fr": ["Articles non expédiés — commande", "1 × Sac cabas rouge", "Montant de ces articles : 34,90",
               "Motif : Rupture de stock", "vous remboursera 34,90", "Voir ma commande"],
        "en": ["Items not shipped — order", "1 × Sac cabas rouge", "Amount of these items: €34.90",
               "Reason: Rupture de stock", "will refund you €34.90", "See my order"],
    }[locale]
    for part in (mail.subject + "\n" + mail.text, mail.html):
        flat = visible_text(part)
        for word in words:
            assert word in flat, (locale, word, flat)


def test_closing_everything_tells_the_buyer_the_order_is_cancelled(wf: Workflow, paid: Order) -> None:
    wf.close_remainder(paid.id, actor=SELLER, reason="Atelier fermé")
    mail = render_email(closure_email(paid.id))
    assert mail.subject.startswith("Commande ") and mail.subject.endswith(" annulée")
    assert "la commande est annulée" in mail.text
    assert "Le reste de votre commande" not in mail.text

