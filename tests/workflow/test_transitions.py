"""Every transition of the order workflow, with the history and e-mails it writes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import order_input, ship_all
from uniqu3.extensions import db
from uniqu3.models import Order, OrderEvent, OrderLine, OutboxEmail, Seller, Shipment
from uniqu3.workflow import Actor, Workflow, WorkflowError, signals
from uniqu3.workflow.errors import InvalidInput

SELLER = Actor.seller("atelier@example.fr")


def history(order_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    rows = db.session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    )
    return [(e.kind, e.actor, e.details) for e in rows]


def outbox(order_id: int) -> list[tuple[str, str, str]]:
    rows = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.order_id == order_id).order_by(OutboxEmail.id)
    )
    return [(e.kind, e.recipient_role, e.to_email) for e in rows]


def lines_of(order: Order) -> dict[str, OrderLine]:
    return {line.sku: line for line in order.lines}


@pytest.fixture
def paid(wf: Workflow, make_order: Any) -> Order:
    order = make_order()
    return wf.confirm_payment(order.id, actor=SELLER).order


# ----------------------------------------------------------------------------- placing
def test_place_order_records_order_history_and_both_emails(wf: Workflow, seller: Any) -> None:
    result = wf.place_order(order_input(seller.email), actor=Actor.api("storefront"))
    order = result.order
    assert result.changed
    assert order.reference == f"UQ-2026-{order.id:06d}"
    assert order.status == "awaiting_payment"
    assert order.total_cents == 2 * 3490 + 550
    assert [(l.sku, l.quantity, l.unit_price_cents, l.shipped_quantity) for l in order.lines] == [
        ("BAG-RED-01", 2, 3490, 0), ("CARD-01", 1, 550, 0)]
    assert history(order.id) == [("order_placed", "api", {
        "source": "api", "external_id": "MKT-1001", "lines": 2, "total_cents": 7530})]
    assert outbox(order.id) == [
        ("E1", "seller", "atelier@example.fr"), ("E2", "buyer", "camille@example.fr")]


def test_an_order_whose_transaction_failed_does_not_stop_the_next_one(
    wf: Workflow, seller: Any, make_order: Any, clock: Any
) -> None:
    # E-mails already recorded under the keys of the next orders' ids make the placing fail
    # after the order row was written (the outbox keeps one e-mail per order and kind).
    after = make_order().id
    blocking = [f"E1:order:{after + i}" for i in range(1, 20)]
    db.session.execute(insert(OutboxEmail), [
        {"dedupe_key": key, "kind": "E1", "to_email": "x@example.fr", "recipient_role": "seller",
         "next_attempt_at": clock(), "created_at": clock()} for key in blocking])
    db.session.commit()
    with pytest.raises(IntegrityError):
        wf.place_order(order_input(seller.email, "MKT-FAILS"), actor=Actor.api())
    db.session.rollback()
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.dedupe_key.in_(blocking)))
    db.session.commit()

    # Same session (a CLI import, a retry): the next order is recorded and reads back whole.
    order = wf.place_order(order_input(seller.email, "MKT-NEXT"), actor=Actor.api()).order

    assert (order.external_id, order.reference) == ("MKT-NEXT", f"UQ-2026-{order.id:06d}")
    assert [line.sku for line in order.lines] == ["BAG-RED-01", "CARD-01"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2
    assert [kind for kind, _, _ in outbox(order.id)] == ["E1", "E2"]


def test_seller_emails_go_to_the_notification_address(wf: Workflow, make_seller: Any) -> None:
    owner = make_seller("shop@example.fr", notification_email="alerts@example.fr")
    order = wf.place_order(order_input(owner.email), actor=Actor.api()).order
    assert outbox(order.id)[0] == ("E1", "seller", "alerts@example.fr")


def test_same_order_twice_is_a_replay_without_a_second_email(wf: Workflow, seller: Any) -> None:
    first = wf.place_order(order_input(seller.email), actor=Actor.api()).order
    again = wf.place_order(order_input(seller.email), actor=Actor.api())
    assert not again.changed
    assert again.order.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert len(outbox(first.id)) == 2


def test_same_external_id_with_other_content_is_a_conflict(wf: Workflow, seller: Any) -> None:
    wf.place_order(order_input(seller.email), actor=Actor.api())
    with pytest.raises(Exception) as refused:
        wf.place_order(order_input(seller.email, buyer_name="Quelqu'un d'autre"), actor=Actor.api())
    assert refused.value.code == "external_id_conflict"
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_same_external_id_for_two_sellers_is_two_orders(wf: Workflow, seller: Any,
                                                        make_seller: Any) -> None:
    other = make_seller("autre@example.fr")
    a = wf.place_order(order_input(seller.email), actor=Actor.api()).order
    b = wf.place_order(order_input(other.email), actor=Actor.api()).order
    assert a.id != b.id


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"currency": "USD"}, "currency", "euro"),
    ({"lines": ()}, "lines", "de 1 à 200 lignes"),
    ({"external_id": "  "}, "external_id", "obligatoire"),
    ({"buyer_email": "cämille@example.fr"}, "buyer.email", "e-mail invalide"),
])
def test_invalid_orders_are_refused_and_nothing_is_written(
    wf: Workflow, seller: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(Exception) as refused:
        wf.place_order(order_input(seller.email, **overrides), actor=Actor.api())
    assert refused.value.field == field
    assert message in refused.value.message
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_duplicate_sku_and_bad_quantity_are_refused(wf: Workflow, seller: Any) -> None:
    from uniqu3.workflow import LineInput

    dup = (LineInput("A", "a", 1, 100), LineInput("A", "a", 1, 100))
    with pytest.raises(Exception, match="apparaît deux fois"):
        wf.place_order(order_input(seller.email, lines=dup), actor=Actor.api())
    with pytest.raises(Exception, match="Quantité invalide") as refused:
        wf.place_order(order_input(seller.email, lines=(LineInput("A", "a", 10_000, 1),)),
                       actor=Actor.api())
    assert refused.value.field == "lines[0].quantity"


def test_unknown_or_inactive_seller_is_refused(wf: Workflow, make_seller: Any) -> None:
    with pytest.raises(Exception, match="Vendeur inconnu"):
        wf.place_order(order_input("nobody@example.fr"), actor=Actor.api())
    make_seller("off@example.fr", active=False)
    with pytest.raises(Exception, match="Vendeur inconnu"):
        wf.place_order(order_input("off@example.fr"), actor=Actor.api())


# ----------------------------------------------------------------------------- payment
def test_confirm_payment(wf: Workflow, make_order: Any, clock: Any) -> None:
    order = make_order()
    result = wf.confirm_payment(order.id, actor=SELLER, note="Virement réf. 42")
    assert result.changed
    assert result.order.status == "paid"
    assert result.order.paid_at == clock.now
    assert result.order.payment_note == "Virement réf. 42"
    assert history(order.id)[-1] == ("payment_confirmed", "seller", {"note": "Virement réf. 42"})
    assert outbox(order.id)[-1] == ("E3", "buyer", "camille@example.fr")


def test_confirm_payment_twice_is_idempotent(wf: Workflow, paid: Order) -> None:
    again = wf.confirm_payment(paid.id, actor=SELLER)
    assert not again.changed
    assert [k for k, *_ in history(paid.id)].count("payment_confirmed") == 1
    assert [k for k, *_ in outbox(paid.id)].count("E3") == 1


def test_confirm_payment_of_a_cancelled_order_is_refused(wf: Workflow, make_order: Any) -> None:
    order = make_order()
    wf.cancel(order.id, actor=SELLER)
    with pytest.raises(Exception, match="annulée") as refused:
        wf.confirm_payment(order.id, actor=SELLER)
    assert refused.value.code == "already_cancelled"
    assert db.session.get(Order, order.id).paid_at is None


def test_unknown_order_is_not_found(wf: Workflow) -> None:
    with pytest.raises(Exception, match="introuvable") as refused:
        wf.confirm_payment(999_999, actor=SELLER)
    assert refused.value.code == "order_not_found"


# ----------------------------------------------------------------------------- cancellation
def test_cancel_before_payment_and_after_payment(wf: Workflow, make_order: Any, paid: Order) -> None:
    order = make_order()
    result = wf.cancel(order.id, actor=SELLER, reason="Rupture de stock")
    assert result.order.status == "cancelled"
    assert history(order.id)[-1] == ("cancelled", "seller", {"reason": "Rupture de stock"})
    assert outbox(order.id)[-1] == ("E8", "buyer", "camille@example.fr")
    assert wf.cancel(paid.id, actor=SELLER).order.status == "cancelled"


def test_cancel_twice_is_idempotent(wf: Workflow, make_order: Any) -> None:
    order = make_order()
    wf.cancel(order.id, actor=SELLER)
    assert not wf.cancel(order.id, actor=SELLER).changed
    assert [k for k, *_ in outbox(order.id)].count("E8") == 1


def test_cancel_after_a_shipment_is_refused(wf: Workflow, paid: Order) -> None:
    line = lines_of(paid)["CARD-01"]
    wf.ship(paid.id, actor=SELLER, quantities={line.id: 1}, carrier="hand_delivery")
    with pytest.raises(Exception, match="déjà été expédié"):
        wf.cancel(paid.id, actor=SELLER)
    assert db.session.get(Order, paid.id).status == "partially_shipped"


# ----------------------------------------------------------------------------- shipping
def test_partial_then_complete_shipment(wf: Workflow, paid: Order, clock: Any) -> None:
    bag, card = lines_of(paid)["BAG-RED-01"], lines_of(paid)["CARD-01"]
    first = wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="colissimo",
                    tracking_number="6a 1234 5678 901", shipped_on=date(2026, 11, 20))
    assert first.order.status == "partially_shipped"
    parcel = first.shipment
    assert parcel is not None
    assert (parcel.number, parcel.carrier, parcel.tracking_number) == (1, "colissimo", "6A12345678901")
    assert parcel.tracking_url and "6A12345678901" in parcel.tracking_url
    assert parcel.status == "shipped"
    assert history(paid.id)[-1] == ("shipped", "seller", {
        "shipment_id": parcel.id, "number": 1, "carrier": parcel.carrier_label,
        "tracking_number": "6A12345678901", "shipped_on": "2026-11-20",
        "items": [{"sku": "BAG-RED-01", "quantity": 1}]})
    e4 = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E4")).one()
    assert e4.shipment_id == parcel.id
    assert e4.data["remaining"] == [
        {"sku": "BAG-RED-01", "title": "Sac cabas rouge", "quantity": 1},
        {"sku": "CARD-01", "title": "Carte brodée", "quantity": 1}]

    second = wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1, card.id: 1},
                     carrier="chronopost", tracking_number="XY123456789FR")
    assert second.order.status == "shipped"
    assert second.shipment is not None and second.shipment.number == 2
    assert [(l.sku, l.shipped_quantity) for l in second.order.lines] == [("BAG-RED-01", 2), ("CARD-01", 1)]
    assert [k for k, *_ in outbox(paid.id)].count("E4") == 2


def test_ship_before_payment_is_refused(wf: Workflow, make_order: Any) -> None:
    order = make_order()
    with pytest.raises(Exception, match="paiement doit être confirmé"):
        ship_all(wf, order)
    assert db.session.scalar(select(func.count()).select_from(Shipment)) == 0


def test_ship_a_cancelled_order_is_refused(wf: Workflow, make_order: Any) -> None:
    order = make_order()
    wf.cancel(order.id, actor=SELLER)
    with pytest.raises(Exception, match="annulée"):
        ship_all(wf, order)


def test_ship_when_everything_shipped_is_refused(wf: Workflow, paid: Order) -> None:
    ship_all(wf, paid)
    order = db.session.get(Order, paid.id)
    with pytest.raises(Exception, match="déjà expédiés"):
        wf.ship(paid.id, actor=SELLER, quantities={order.lines[0].id: 1}, carrier="hand_delivery")


@pytest.mark.parametrize(("qty", "message"), [
    (3, "^Il reste 2 articles à expédier pour cette ligne.$"),
    (-1, "^Une quantité ne peut pas être négative : 0 laisse cette ligne hors du colis.$"),
])
def test_wrong_quantities_are_refused(wf: Workflow, paid: Order, qty: int, message: str) -> None:
    bag = lines_of(paid)["BAG-RED-01"]
    with pytest.raises(Exception, match=message) as refused:
        wf.ship(paid.id, actor=SELLER, quantities={bag.id: qty}, carrier="hand_delivery")
    assert refused.value.field == f"qty_{bag.id}"
    assert db.session.get(OrderLine, bag.id).shipped_quantity == 0
    assert db.session.get(Order, paid.id).status == "paid"


def test_no_line_selected_is_refused(wf: Workflow, paid: Order) -> None:
    with pytest.raises(Exception, match="au moins une référence"):
        wf.ship(paid.id, actor=SELLER, quantities={line.id: 0 for line in paid.lines},
                carrier="hand_delivery")


def test_line_of_another_order_is_refused(wf: Workflow, paid: Order, make_order: Any) -> None:
    other = make_order()
    with pytest.raises(Exception, match="n'appartient pas"):
        wf.ship(paid.id, actor=SELLER, quantities={other.lines[0].id: 1}, carrier="hand_delivery")


def test_ship_date_in_the_future_or_before_the_order_is_refused(wf: Workflow, paid: Order,
                                                                clock: Any) -> None:
    bag = lines_of(paid)["BAG-RED-01"]
    tomorrow = clock.now.date() + timedelta(days=1)
    with pytest.raises(Exception, match="dans le futur") as refused:
        wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="hand_delivery",
                shipped_on=tomorrow)
    assert refused.value.field == "shipped_on"
    with pytest.raises(Exception, match="précéder"):
        wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="hand_delivery",
                shipped_on=clock.now.date() - timedelta(days=3))


def test_tracking_number_rules(wf: Workflow, paid: Order) -> None:
    bag = lines_of(paid)["BAG-RED-01"]
    with pytest.raises(Exception, match="obligatoire") as refused:
        wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="colissimo", tracking_number="")
    assert refused.value.field == "tracking_number"
    with pytest.raises(Exception, match="ne ressemble pas"):
        wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="colissimo",
                tracking_number="hello")
    with pytest.raises(Exception, match="transporteur") as refused:
        wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="pigeon")
    assert refused.value.field == "carrier"
    # Untracked: no number needed.
    result = wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="hand_delivery")
    assert result.shipment is not None and result.shipment.tracking_url is None
    # The same tracking number twice on one order is refused.
    wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="colissimo",
            tracking_number="6A12345678901")
    card = lines_of(db.session.get(Order, paid.id))["CARD-01"]
    with pytest.raises(Exception, match="déjà enregistré"):
        wf.ship(paid.id, actor=SELLER, quantities={card.id: 1}, carrier="colissimo",
                tracking_number="6A12345678901")


def test_other_carrier_with_its_own_url(wf: Workflow, paid: Order) -> None:
    bag = lines_of(paid)["BAG-RED-01"]
    result = wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="other",
                     tracking_number="ab-123", carrier_label="Coursier Lyon",
                     carrier_url="https://suivi.example.fr/?n={number}")
    assert result.shipment is not None
    assert result.shipment.carrier_label == "Coursier Lyon"
    assert result.shipment.tracking_url == "https://suivi.example.fr/?n=AB-123"
    with pytest.raises(Exception) as refused:
        wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="other",
                tracking_number="ab-124", carrier_url="javascript:alert(1)")
    assert refused.value.field == "carrier_url"


def test_other_carrier_needs_its_name(wf: Workflow, paid: Order) -> None:
    bag = lines_of(paid)["BAG-RED-01"]
    for label in ("", "   ", "\x07"):
        with pytest.raises(InvalidInput) as refused:
            wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="other",
                    tracking_number="AB-123", carrier_label=label)
        assert refused.value.field == "carrier_label"
        assert str(refused.value) == "Indiquez le nom du transporteur."
    assert db.session.get(Order, paid.id).shipments == []


def test_double_submit_of_the_ship_form_ships_once(wf: Workflow, paid: Order) -> None:
    bag = lines_of(paid)["BAG-RED-01"]
    kwargs: dict[str, Any] = dict(actor=SELLER, quantities={bag.id: 1}, carrier="hand_delivery",
                                  request_key="form-1")
    first = wf.ship(paid.id, **kwargs)
    again = wf.ship(paid.id, **kwargs)
    assert not again.changed
    assert again.shipment is not None and first.shipment is not None
    assert again.shipment.id == first.shipment.id
    assert db.session.get(OrderLine, bag.id).shipped_quantity == 1
    # Even when the first submit shipped everything.
    rest = wf.ship(paid.id, actor=SELLER, quantities={l.id: l.remaining for l in
                                                      db.session.get(Order, paid.id).lines},
                   carrier="hand_delivery", request_key="form-2")
    replay = wf.ship(paid.id, actor=SELLER, quantities={bag.id: 1}, carrier="hand_delivery",
                     request_key="form-2")
    assert not replay.changed and replay.shipment is not None and rest.shipment is not None
    assert replay.shipment.id == rest.shipment.id


# ----------------------------------------------------------------------------- receipt
def test_request_receipt_sets_the_due_time_and_emails_the_buyer(wf: Workflow, paid: Order,
                                                               clock: Any) -> None:
    parcel = ship_all(wf, paid)
    seen: list[dict[str, Any]] = []

    def listener(sender: Any, **kw: Any) -> None:
        seen.append(kw)

    signals.receipt_requested.connect(listener)
    try:
        result = wf.request_receipt(parcel.id, actor=SELLER)
    finally:
        signals.receipt_requested.disconnect(listener)
    shipment = result.shipment
    assert shipment is not None
    assert shipment.status == "awaiting_receipt"
    assert shipment.receipt_requested_at == clock.now
    assert shipment.receipt_due_at == clock.now + timedelta(days=7)
    assert seen == [{"shipment_id": parcel.id, "due_at": clock.now + timedelta(days=7)}]
    assert history(paid.id)[-1][0] == "receipt_requested"
    e5 = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E5")).one()
    assert e5.data["due_at"] == (clock.now + timedelta(days=7)).isoformat()
    # A second press changes nothing.
    assert not wf.request_receipt(parcel.id, actor=SELLER).changed
    assert db.session.scalar(select(func.count()).where(OutboxEmail.kind == "E5")) == 1


def test_buyer_confirms_receipt_with_proof(wf: Workflow, paid: Order, clock: Any) -> None:
    parcel = ship_all(wf, paid)
    wf.request_receipt(parcel.id, actor=SELLER)
    clock.advance(days=2)
    result = wf.confirm_receipt(parcel.id, ip="203.0.113.9", user_agent="Mozilla/5.0")
    shipment = result.shipment
    assert result.changed and shipment is not None
    assert (shipment.status, shipment.received_by) == ("received", "buyer")
    assert shipment.received_at == clock.now
    assert (shipment.proof_ip, shipment.proof_user_agent) == ("203.0.113.9", "Mozilla/5.0")
    assert result.order.status == "received"
    assert history(paid.id)[-1] == ("receipt_confirmed", "buyer", {
        "shipment_id": parcel.id, "number": 1, "ip": "203.0.113.9"})
    assert outbox(paid.id)[-1] == ("E6", "seller", "atelier@example.fr")
    # Pressing again: nothing new.
    again = wf.confirm_receipt(parcel.id, ip="1.1.1.1")
    assert not again.changed
    assert again.shipment is not None and again.shipment.proof_ip == "203.0.113.9"
    assert [k for k, *_ in outbox(paid.id)].count("E6") == 1


def test_confirm_receipt_before_activation_is_refused(wf: Workflow, paid: Order) -> None:
    parcel = ship_all(wf, paid)
    with pytest.raises(Exception, match="pas encore activée"):
        wf.confirm_receipt(parcel.id)
    assert db.session.get(Shipment, parcel.id).status == "shipped"


def test_unknown_parcel_is_not_found(wf: Workflow) -> None:
    with pytest.raises(Exception, match="Colis introuvable"):
        wf.confirm_receipt(424242)
    with pytest.raises(Exception, match="Colis introuvable"):
        wf.request_receipt(424242, actor=SELLER)


def test_order_stays_shipped_until_every_parcel_is_received(wf: Workflow, paid: Order) -> None:
    bag, card = lines_of(paid)["BAG-RED-01"], lines_of(paid)["CARD-01"]
    one = wf.ship(paid.id, actor=SELLER, quantities={bag.id: 2}, carrier="hand_delivery").shipment
    two = wf.ship(paid.id, actor=SELLER, quantities={card.id: 1}, carrier="hand_delivery").shipment
    assert one is not None and two is not None
    wf.request_receipt(one.id, actor=SELLER)
    assert wf.confirm_receipt(one.id).order.status == "shipped"
    wf.request_receipt(two.id, actor=SELLER)
    assert wf.confirm_receipt(two.id).order.status == "received"


def test_request_receipt_on_a_received_parcel_is_refused(wf: Workflow, paid: Order) -> None:
    parcel = ship_all(wf, paid)
    wf.request_receipt(parcel.id, actor=SELLER)
    wf.confirm_receipt(parcel.id)
    with pytest.raises(Exception, match="déjà reçu"):
        wf.request_receipt(parcel.id, actor=SELLER)


# ----------------------------------------------------------------------------- automatic receipt
def test_auto_receipt_after_the_deadline_exactly_once(wf: Workflow, paid: Order, clock: Any) -> None:
    parcel = ship_all(wf, paid)
    wf.request_receipt(parcel.id, actor=SELLER)
    clock.advance(days=7, seconds=-1)
    assert wf.auto_receive_due().received == []
    assert wf.auto_receive(parcel.id) is False
    clock.advance(seconds=1)
    assert wf.auto_receive_due().received == [parcel.id]
    shipment = db.session.get(Shipment, parcel.id)
    assert (shipment.status, shipment.received_by, shipment.received_at) == (
        "received", "auto", clock.now)
    assert db.session.get(Order, paid.id).status == "received"
    assert history(paid.id)[-1][:2] == ("auto_received", "system")
    assert outbox(paid.id)[-2:] == [("E7", "seller", "atelier@example.fr"),
                                    ("E7", "buyer", "camille@example.fr")]
    # The scheduled job and the sweep again: nothing more.
    assert wf.auto_receive(parcel.id) is False
    assert wf.auto_receive_due().received == []
    assert [k for k, *_ in outbox(paid.id)].count("E7") == 2
    # The buyer pressing later sees it as received automatically.
    late = wf.confirm_receipt(parcel.id)
    assert not late.changed and late.shipment is not None and late.shipment.received_by == "auto"


def test_sweep_reads_only_what_is_due_in_batches(wf: Workflow, seller: Any, clock: Any) -> None:
    parcels = []
    for n in range(5):
        order = wf.place_order(order_input(seller.email, f"B-{n}"), actor=Actor.api()).order
        wf.confirm_payment(order.id, actor=SELLER)
        parcels.append(ship_all(wf, db.session.get(Order, order.id), carrier="hand_delivery"))
    for parcel in parcels[:3]:
        wf.request_receipt(parcel.id, actor=SELLER)
    clock.advance(days=8)
    assert wf.auto_receive_due(limit=2).received == [parcels[0].id, parcels[1].id]
    assert wf.auto_receive_due().received == [parcels[2].id]
    statuses = [db.session.get(Shipment, p.id).status for p in parcels]
    assert statuses == ["received"] * 3 + ["shipped"] * 2


def test_emails_are_announced_only_after_commit(wf: Workflow, make_order: Any) -> None:
    announced: list[list[int]] = []

    def listener(sender: Any, ids: list[int]) -> None:
        # Visible from another connection: the rows are committed.
        from sqlalchemy.orm import Session

        with Session(db.engine) as other:
            found = other.scalars(select(OutboxEmail.id).where(OutboxEmail.id.in_(ids))).all()
        announced.append(sorted(found))

    signals.emails_queued.connect(listener)
    try:
        order = make_order()
        with pytest.raises(WorkflowError):
            wf.confirm_payment(order.id + 1000, actor=SELLER)
    finally:
        signals.emails_queued.disconnect(listener)
    assert len(announced) == 1 and len(announced[0]) == 2


# ----------------------------------------------------------------------------- list version
def orders_version(seller_id: int) -> int:
    return db.session.scalar(select(Seller.orders_version).where(Seller.id == seller_id))


def test_each_change_moves_its_sellers_orders_version_and_nothing_else_does(
    wf: Workflow, seller: Any, make_seller: Any, make_order: Any, clock: Any
) -> None:
    other = make_seller("autre@example.fr")
    versions = [orders_version(seller.id)]
    order = make_order()
    versions.append(orders_version(seller.id))
    wf.confirm_payment(order.id, actor=SELLER)
    versions.append(orders_version(seller.id))
    shipment = ship_all(wf, order)
    versions.append(orders_version(seller.id))
    wf.request_receipt(shipment.id, actor=SELLER)
    versions.append(orders_version(seller.id))
    clock.advance(days=8)
    wf.auto_receive_due()
    versions.append(orders_version(seller.id))
    assert versions == [0, 1, 2, 3, 4, 5]
    # Refusals and repeats write nothing; another seller's orders are theirs.
    with pytest.raises(WorkflowError):
        wf.cancel(order.id, actor=SELLER)
    with pytest.raises(WorkflowError):
        wf.request_receipt(shipment.id, actor=SELLER)
    wf.place_order(order_input(seller.email, order.external_id), actor=Actor.api("storefront"))
    make_order(other)
    assert orders_version(seller.id) == 5
    assert orders_version(other.id) == 1
