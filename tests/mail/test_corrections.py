"""The buyer's e-mails of a seller's corrections, in French and English: « Suivi de votre colis mis
à jour » (E4U) with the new link and the next step for the parcel's state, and « Paiement pas
encore confirmé » (E3U)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from uniqu3.extensions import db
from uniqu3.mail import render_email
from uniqu3.models import OutboxEmail
from uniqu3.workflow import Actor, ParcelDetails, Workflow

SELLER = Actor.seller("atelier@example.fr")
NEW_LINK = "https://www.laposte.fr/outils/suivre-vos-envois?code=6A98765432109"


def last(kind: str, locale: str = "fr") -> Any:
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind)
                             .order_by(OutboxEmail.id.desc())).first()
    assert row is not None
    row.locale = locale
    return render_email(row)


def shipped(wf: Workflow, make_order: Any) -> Any:
    order = wf.confirm_payment(make_order().id, actor=SELLER).order
    shipment = wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity for line in order.lines},
                       carrier="colissimo", tracking_number="6A12345678901").shipment
    assert shipment is not None
    return order, shipment


def correct(wf: Workflow, order: Any) -> None:
    wf.edit_shipment(order.id, 1, ParcelDetails("colissimo", "6A98765432109"), actor=SELLER)


def test_a_corrected_parcel_sends_the_new_link_in_both_languages(wf: Workflow, make_order: Any) -> None:
    order, _ = shipped(wf, make_order)
    correct(wf, order)
    mail = last("E4U")
    assert mail.subject == f"Suivi de votre colis mis à jour — commande {order.reference}"
    for body in (mail.text, mail.html):
        assert "a corrigé les informations d" in body and "envoi du colis n° 1 de votre commande" in body
        assert NEW_LINK in body and "6A12345678901" not in body
    assert "Numéro de suivi : 6A98765432109" in mail.text
    # The next step of a parcel on its way: follow it, the receipt request comes later.
    assert "PROCHAINE ÉTAPE" in mail.text
    assert "Suivez l'acheminement du colis avec le nouveau lien de suivi ci-dessus." in mail.text
    english = last("E4U", "en")
    assert english.subject == f"Your parcel’s tracking has been updated — order {order.reference}"
    assert "corrected the shipping details of parcel no. 1" in english.text
    assert "Follow the parcel with the new tracking link above." in english.text and NEW_LINK in english.text


def test_a_parcel_awaiting_receipt_keeps_its_deadline_and_both_buttons(wf: Workflow, make_order: Any) -> None:
    order, shipment = shipped(wf, make_order)
    wf.request_receipt(shipment.id, actor=SELLER)
    correct(wf, order)
    mail = last("E4U")
    assert "il sera considéré comme reçu le vendredi 27 novembre 2026 à 10:30" in mail.text
    assert "/r/" in mail.text and "Signaler un problème :" in mail.text
    english = last("E4U", "en")
    assert "it will be considered received on Friday, November 27, 2026" in english.text


def test_a_parcel_in_problem_says_the_report_stays_open(wf: Workflow, make_order: Any) -> None:
    order, shipment = shipped(wf, make_order)
    wf.request_receipt(shipment.id, actor=SELLER)
    wf.report_problem(shipment.id, reason="not_received", message="Rien reçu")
    correct(wf, order)
    assert "Votre signalement sur ce colis reste ouvert" in last("E4U").text
    assert "Your report about this parcel stays open" in last("E4U", "en").text


def test_an_undone_payment_tells_the_buyer_and_how_to_pay(wf: Workflow, make_order: Any) -> None:
    order = wf.confirm_payment(make_order().id, actor=SELLER).order
    wf.undo_payment(order.id, actor=SELLER, reason="Le virement a été rejeté\npar la banque")
    mail = last("E3U")
    assert mail.subject == f"Paiement pas encore confirmé — commande {order.reference}"
    assert "ce paiement n'est finalement pas confirmé" in mail.text
    assert "votre commande attend de nouveau son paiement (75,30\u00a0€)" in mail.text
    assert "> Le virement a été rejeté\n> par la banque" in mail.text
    assert "COMMENT PAYER" in mail.text and "PROCHAINE ÉTAPE" in mail.text
    assert "Vous avez déjà payé ? Répondez à cet e-mail" in mail.text
    english = last("E3U", "en")
    assert english.subject == f"Payment not confirmed yet — order {order.reference}"
    assert "That was a mistake: the payment is not confirmed after all" in english.text
    assert "Already paid? Reply to this e-mail" in english.text
