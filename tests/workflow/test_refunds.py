"""What an order owes back (cancelled, closed quantities, a lost parcel's items), and
« Remboursement effectué »: partial refunds add up, the stored amount due follows, every
refusal changes nothing, the buyer's e-mails say it in both languages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.i18n.conftest import visible_text
from tests.workflow.test_transitions import SELLER, history, lines_of, outbox, ship_all
from uniqu3.extensions import db
from uniqu3.mail.render import render_email
from uniqu3.models import Order, OutboxEmail, Refund
from uniqu3.workflow import InvalidInput, InvalidTransition, Workflow
from uniqu3.workflow.refunds import money_of


@pytest.fixture
def paid(wf: Workflow, make_order: Any) -> Order:
    return wf.confirm_payment(make_order().id, actor=SELLER).order


def fresh(order_id: int) -> Order:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order is not None
    return order


def refunds_of(order_id: int) -> list[Refund]:
    return list(db.session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)))


def due(order_id: int) -> tuple[int, int, int, int]:
    """(owed, refunded, due as computed, due as stored)."""
    order = fresh(order_id)
    money = money_of(order, refunds_of(order_id))
    return money.owed_cents, money.refunded_cents, money.due_cents, order.refund_due_cents


def refund(wf: Workflow, order: Order, cents: int, method: str = "transfer", **kwargs: Any) -> Any:
    return wf.record_refund(order.id, actor=SELLER, amount_cents=cents, method=method, **kwargs)


def test_an_order_owes_nothing_until_something_is_cancelled_or_closed(wf: Workflow, paid: Order) -> None:
    assert due(paid.id) == (0, 0, 0, 0)
    ship_all(wf, paid)
    assert due(paid.id) == (0, 0, 0, 0)


def test_a_cancelled_paid_order_owes_everything_paid(wf: Workflow, paid: Order) -> None:
    wf.cancel(paid.id, actor=SELLER, reason="Rupture")
    assert due(paid.id) == (7530, 0, 7530, 7530)
    e8 = db.session.scalars(select(OutboxEmail).where(OutboxEmail.order_id == paid.id,
                                                      OutboxEmail.kind == "E8")).one()
    assert e8.data["refund_cents"] == 7530


def test_a_cancelled_unpaid_order_owes_nothing(wf: Workflow, make_order: Any) -> None:
    order = make_order()
    wf.cancel(order.id, actor=SELLER)
    assert due(order.id) == (0, 0, 0, 0)
    with pytest.raises(InvalidTransition) as refused:
        refund(wf, order, 100)
    assert refused.value.message == ("Le paiement de cette commande n'est pas confirmé : rien n'est à "
                                     "rembourser.")


def test_closed_quantities_owe_their_amount_and_partial_refunds_add_up(wf: Workflow, paid: Order) -> None:
    by_sku = lines_of(paid)
    wf.ship(paid.id, actor=SELLER, carrier="colissimo", tracking_number="6A12345678901",
            quantities={by_sku["BAG-RED-01"].id: 1})
    wf.close_remainder(paid.id, actor=SELLER, reason="Rupture")
    assert due(paid.id) == (3490 + 550, 0, 4040, 4040)
    first = refund(wf, paid, 1000, reference="VIR-1", note="premier virement")
    assert first.changed
    assert due(paid.id) == (4040, 1000, 3040, 3040)
    refund(wf, paid, 3040, method="paypal")
    assert due(paid.id) == (4040, 4040, 0, 0)
    assert [(r.amount_cents, r.method, r.reference, r.note, r.actor) for r in refunds_of(paid.id)] == [
        (1000, "transfer", "VIR-1", "premier virement", "seller"), (3040, "paypal", "", "", "seller")]
    kind, actor, details = history(paid.id)[-1]
    assert (kind, actor, details["amount_cents"], details["refunded_cents"], details["due_cents"]) == (
        "refund_recorded", "seller", 3040, 4040, 0)
    assert [k for k, _, _ in outbox(paid.id)].count("R1") == 2
    with pytest.raises(InvalidTransition) as refused:
        refund(wf, paid, 1)
    assert refused.value.message == "Tout ce qui était à rembourser l'est déjà : 40,40\xa0€."


def test_a_lost_parcel_owes_its_items_until_they_are_shipped_again(wf: Workflow, paid: Order) -> None:
    by_sku = lines_of(paid)
    bag, card = by_sku["BAG-RED-01"], by_sku["CARD-01"]
    first = wf.ship(paid.id, actor=SELLER, carrier="colissimo", tracking_number="6A12345678901",
                    quantities={bag.id: 1, card.id: 1}).shipment
    assert first is not None
    wf.declare_lost(first.id, actor=SELLER)
    # The buyer holds neither the items nor their money: 34,90 + 5,50 owed, in the list's tab too.
    assert due(paid.id) == (4040, 0, 4040, 4040)
    money = money_of(fresh(paid.id), refunds_of(paid.id))
    assert money.owed_lost_cents == 4040
    kind, _, details = history(paid.id)[-1]
    assert (kind, details["amount_cents"]) == ("parcel_lost", 4040)
    p4 = db.session.scalars(select(OutboxEmail).where(OutboxEmail.order_id == paid.id,
                                                      OutboxEmail.kind == "P4")).one()
    assert p4.data["amount_cents"] == 4040
    text = visible_text(render_email(p4).text)
    assert "Montant de ces articles : 40,40 €. S'ils ne vous sont pas expédiés de nouveau" in text
    # The bag never shipped is not owed: shipping it leaves the lost bag and card owed.
    wf.ship(paid.id, actor=SELLER, carrier="colissimo", tracking_number="6A12345678902",
            quantities={bag.id: 1})
    assert due(paid.id) == (4040, 0, 4040, 4040)
    # Shipped again, they are no longer owed; the order is then entirely shipped.
    wf.ship(paid.id, actor=SELLER, carrier="colissimo", tracking_number="6A12345678903",
            quantities={bag.id: 1, card.id: 1})
    assert due(paid.id) == (0, 0, 0, 0)
    assert fresh(paid.id).status == "shipped"


def test_lost_items_closed_stay_owed_and_a_cancellation_owes_everything(wf: Workflow, paid: Order) -> None:
    shipment = ship_all(wf, paid)
    wf.request_receipt(shipment.id, actor=SELLER)
    wf.declare_lost(shipment.id, actor=SELLER)
    assert due(paid.id) == (7530, 0, 7530, 7530)
    wf.close_remainder(paid.id, actor=SELLER, reason="Plus de stock")  # closed instead: still owed
    assert fresh(paid.id).status == "cancelled"
    assert due(paid.id) == (7530, 0, 7530, 7530)


def test_lost_items_refunded_are_not_shipped_again(wf: Workflow, paid: Order) -> None:
    by_sku = lines_of(paid)
    bag, card = by_sku["BAG-RED-01"], by_sku["CARD-01"]
    shipment = ship_all(wf, paid)
    wf.declare_lost(shipment.id, actor=SELLER)
    refund(wf, paid, 3490, reference="VIR-PERDU")  # one bag refunded
    assert due(paid.id) == (7530, 3490, 4040, 4040)
    # A bag and the card may still go: what stays owed (a bag) is what was refunded.
    assert wf.ship(paid.id, actor=SELLER, carrier="colissimo", tracking_number="6A12345678902",
                   quantities={bag.id: 1, card.id: 1}).changed
    assert due(paid.id) == (3490, 3490, 0, 0)
    before = (due(paid.id), history(paid.id), outbox(paid.id),
              [line.remaining for line in fresh(paid.id).lines])
    with pytest.raises(InvalidInput) as refused:
        wf.ship(paid.id, actor=SELLER, carrier="colissimo", tracking_number="6A12345678903",
                quantities={bag.id: 1})
    assert (refused.value.code, refused.value.field) == ("refunded_as_lost", "lines")
    assert refused.value.message == (
        "Le client a déjà été remboursé de 34,90\xa0€ pour les articles perdus : ils ne peuvent plus être "
        "expédiés. Retirez-les de ce qui reste à expédier avec « Clore le reste ».")
    assert (due(paid.id), history(paid.id), outbox(paid.id),
            [line.remaining for line in fresh(paid.id).lines]) == before
    # Closed instead: the order is done, nothing more is owed or due.
    wf.close_remainder(paid.id, actor=SELLER, reason="Remboursé")
    assert fresh(paid.id).status == "shipped"
    assert due(paid.id) == (3490, 3490, 0, 0)


def test_a_double_submit_records_one_refund(wf: Workflow, paid: Order) -> None:
    wf.cancel(paid.id, actor=SELLER)
    key = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert refund(wf, paid, 500, request_key=key).changed
    assert not refund(wf, paid, 500, request_key=key).changed
    assert due(paid.id) == (7530, 500, 7030, 7030)


@pytest.mark.parametrize(("cents", "method", "field", "message"), [
    (0, "transfer", "amount", "Le montant remboursé doit être supérieur à 0."),
    (-100, "transfer", "amount", "Le montant remboursé doit être supérieur à 0."),
    (7531, "transfer", "amount", "Le montant dépasse ce qui reste à rembourser : 75,30\xa0€ au plus."),
    (100, "bitcoin", "method", "Choisissez le moyen de remboursement dans la liste."),
    (100, "", "method", "Choisissez le moyen de remboursement dans la liste."),
])
def test_a_bad_refund_is_refused_and_changes_nothing(
        wf: Workflow, paid: Order, cents: int, method: str, field: str, message: str) -> None:
    wf.cancel(paid.id, actor=SELLER)
    before = (due(paid.id), history(paid.id), outbox(paid.id))
    with pytest.raises(InvalidInput) as refused:
        refund(wf, paid, cents, method=method)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert (due(paid.id), history(paid.id), outbox(paid.id)) == before
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


def test_nothing_owed_on_a_paid_order_is_refused(wf: Workflow, paid: Order) -> None:
    with pytest.raises(InvalidTransition) as refused:
        refund(wf, paid, 100)
    assert refused.value.message.startswith("Rien n'est à rembourser sur cette commande")
    assert due(paid.id) == (0, 0, 0, 0)


def test_more_than_what_is_left_after_a_partial_refund_is_refused(wf: Workflow, paid: Order) -> None:
    wf.cancel(paid.id, actor=SELLER)
    refund(wf, paid, 7000)
    with pytest.raises(InvalidInput) as refused:
        refund(wf, paid, 531)
    assert refused.value.message == "Le montant dépasse ce qui reste à rembourser : 5,30\xa0€ au plus."
    assert due(paid.id) == (7530, 7000, 530, 530)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_buyer_reads_the_refund_and_what_is_left(wf: Workflow, paid: Order, locale: str) -> None:
    wf.cancel(paid.id, actor=SELLER)
    refund(wf, paid, 2500, reference="VIR-778")
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "R1")).one()
    row.locale = locale
    mail = render_email(row)
    words = {
        "fr": ["Remboursement effectué — commande", "vous a remboursé 25,00 €", "Virement", "VIR-778",
               "Remboursé en tout : 25,00 €", "Reste à vous rembourser : 50,30 €", "quelques jours",
               "Voir ma commande"],
        "en": ["Refund made — order", "refunded you €25.00", "Bank transfer", "VIR-778",
               "Refunded in all: €25.00", "Still to refund you: €50.30", "a few days", "See my order"],
    }[locale]
    for part in (mail.subject + "\n" + mail.text, mail.html):
        flat = visible_text(part)
        for word in words:
            assert word in flat, (locale, word)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_e8_of_a_paid_order_tells_the_buyer_about_the_refund(wf: Workflow, paid: Order, locale: str) -> None:
    wf.cancel(paid.id, actor=SELLER)
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E8")).one()
    row.locale = locale
    mail = render_email(row)
    said = {"fr": "vous remboursera 75,30 €. Vous recevrez un e-mail quand le remboursement sera effectué",
            "en": "will refund you €75.30. You will get an e-mail once the refund is made"}[locale]
    assert said in visible_text(mail.text) and said in visible_text(mail.html)
    assert "convenir du remboursement" not in mail.text
