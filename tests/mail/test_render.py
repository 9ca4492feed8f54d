"""Rendering details: the recipient's language, escaping, parcels without tracking."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from tests.conftest import Clock, ship_all
from uniqu3.extensions import db
from uniqu3.mail import render_email
from uniqu3.mail.render import TEMPLATES, email_context, render_parts, tidy_text
from uniqu3.models import OutboxEmail
from uniqu3.workflow import Actor, ParcelDetails, Workflow
from uniqu3.workflow.accounts import Accounts

SELLER = Actor.seller("atelier@example.fr")


def outbox(kind: str) -> OutboxEmail:
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind)
                             .order_by(OutboxEmail.id.desc())).first()
    assert row is not None
    return row


def test_each_email_is_rendered_in_its_recipients_language(make_seller: Any, make_order: Any) -> None:
    english = make_seller("shop@example.com", shop_name="Shop", locale="en")
    make_order(owner=english)
    seller_mail = render_email(outbox("E1"))
    assert "€34.90" in seller_mail.text and '<html lang="en">' in seller_mail.html
    buyer_mail = render_email(outbox("E2"))  # the buyer's e-mails stay French
    assert "34,90\u00a0€" in buyer_mail.text and '<html lang="fr">' in buyer_mail.html


def test_names_are_text_not_markup(make_seller: Any, make_order: Any) -> None:
    shop = make_seller("shop@example.fr", shop_name="<b>Shop</b>")
    make_order(owner=shop, buyer_name='<img src="https://tracker.example/p.gif">Eve')
    for kind in ("E1", "E2"):
        html = render_email(outbox(kind)).html
        assert "<img" not in html and "&lt;img src=" in html
        assert "<b>Shop</b>" not in html and "&lt;b&gt;Shop&lt;/b&gt;" in html
    text = render_email(outbox("E2")).text
    assert 'Bonjour <img src="https://tracker.example/p.gif">Eve,' in text  # plain text: as typed


def test_without_payment_instructions_the_buyer_is_told_to_ask(
    make_seller: Any, make_order: Any
) -> None:
    shop = make_seller("shop@example.fr", payment_instructions="")
    make_order(owner=shop)
    text = render_email(outbox("E2")).text
    assert "vous indiquera comment régler votre commande de 75,30\u00a0€" in text
    assert "répondre à cet e-mail pour le lui demander" in text
    mail = render_email(outbox("E2"))
    for part in (mail.text, mail.html):  # nowhere does it refer to instructions that do not exist
        assert "ci-dessus" not in part
    assert "vous enverra ses instructions de paiement" in text  # the seller will send them


def test_with_payment_instructions_the_next_step_refers_to_them(make_seller: Any, make_order: Any) -> None:
    make_order(owner=make_seller("shop@example.fr"))
    text = render_email(outbox("E2")).text
    assert "Réglez votre commande en suivant les instructions de paiement ci-dessus." in text


def test_french_elides_que_before_a_shop_name_starting_with_a_vowel(make_seller: Any,
                                                                  make_order: Any) -> None:
    for n, (shop, expected) in enumerate([("Atelier Lyon", "Dès qu'Atelier Lyon aura reçu"),
                                          ("Épicerie Fine", "Dès qu'Épicerie Fine aura reçu"),
                                          ("Boutique Lina", "Dès que Boutique Lina aura reçu")]):
        make_order(owner=make_seller(f"shop{n}@example.fr", shop_name=shop))
        mail = render_email(outbox("E2"))
        assert expected in mail.text and expected.replace("'", "&#39;") in mail.html, shop
    english = outbox("E2")
    english.locale = "en"
    assert "As soon as Boutique Lina has received" in render_email(english).text


def test_a_parcel_handed_over_has_no_tracking(wf: Workflow, make_order: Any) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity for line in order.lines},
            carrier="hand_delivery")
    mail = render_email(outbox("E4"))
    # Handed over, not « en route »: the buyer has it already.
    assert mail.subject == f"Votre commande {order.reference} vous a été remise"
    assert "Transporteur : Remise en main propre" in mail.text
    assert "Numéro de suivi" not in mail.text and "Suivre le colis" not in mail.text
    for body in (mail.text, mail.html):
        assert "Votre commande vous a été remise" in body and "en route" not in body
        assert f"vous a remis en main propre votre commande {order.reference} le" in body
        assert "Avec ce colis, vous avez reçu toute votre commande." in body
        assert "expédi" not in body.lower()
    assert "Remis le : vendredi 20 novembre 2026" in mail.text
    english = outbox("E4")
    english.locale = "en"
    mail = render_email(english)
    assert mail.subject == f"Your order {order.reference} has been handed to you"
    assert "Handed over on: Friday, November 20, 2026" in mail.text and "on its way" not in mail.text


def test_another_carrier_without_a_link_tells_the_buyer_where_to_follow(wf: Workflow,
                                                                         make_order: Any) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    wf.ship(order.id, actor=SELLER, quantities={order.lines[1].id: 1}, carrier="other",
            tracking_number="AB-1234", carrier_label="Coursier Lyonnais")
    mail = render_email(outbox("E4"))
    for body in (mail.text, mail.html):
        assert "Autre transporteur" not in body and "Suivre le colis" not in body
        assert "Suivez ce colis sur le site de Coursier Lyonnais avec ce numéro." in body
    assert "Transporteur : Coursier Lyonnais" in mail.text and "AB-1234" in mail.text


def test_another_carrier_keeps_the_sellers_label_and_link(wf: Workflow, make_order: Any) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    wf.ship(order.id, actor=SELLER, quantities={order.lines[1].id: 1}, carrier="other",
            tracking_number="AB-1234", carrier_label="Coursier Lyonnais",
            carrier_url="https://coursier.example/suivi?n={number}")
    mail = render_email(outbox("E4"))
    assert "Transporteur : Coursier Lyonnais" in mail.text
    assert "https://coursier.example/suivi?n=AB-1234" in mail.text
    assert "1 × Carte brodée (réf. CARD-01)" in mail.text
    assert "ENCORE À VENIR" in mail.text and "2 × Sac cabas rouge (réf. BAG-RED-01)" in mail.text


def test_every_email_renders_as_the_apps_own_templates_would(
    wf: Workflow, clock: Clock, make_seller: Any, make_order: Any
) -> None:
    """E-mails have a Jinja environment per language (translations bound, constant texts
    translated when compiled): in both languages, the same text and HTML as Flask's."""
    shop = make_seller("shop@example.fr", shop_name="L'Atelier <b>100 %</b> & Cie")
    actor = Actor.seller(shop.email)
    order = make_order(owner=shop, buyer_name="Camille %(ref)s <i>Martin</i>")
    wf.confirm_payment(order.id, actor=actor)
    first = wf.ship(order.id, actor=actor, quantities={order.lines[0].id: 1}, carrier="colissimo",
                    tracking_number="6A12345678901").shipment
    second = wf.ship(order.id, actor=actor, quantities={line.id: line.remaining for line in order.lines},
                     carrier="mondial_relay", tracking_number="12345678").shipment
    assert first is not None and second is not None
    wf.request_receipt(first.id, actor=actor)
    wf.request_receipt(second.id, actor=actor)
    wf.confirm_receipt(first.id)
    clock.advance(days=8)
    wf.auto_receive_due()
    wf.cancel(make_order(owner=shop).id, actor=actor, reason="Rupture de stock")
    third = make_order(owner=shop, external_id="MKT-3")
    wf.confirm_payment(third.id, actor=actor)
    parcel = wf.ship(third.id, actor=actor, quantities={line.id: line.quantity for line in third.lines},
                     carrier="colissimo", tracking_number="6A12345678902").shipment
    assert parcel is not None
    wf.request_receipt(parcel.id, actor=actor)
    clock.advance(days=5)
    wf.remind_due()
    wf.report_problem(parcel.id, reason="damaged", message="Carton <b>ouvert</b> %(ref)s\nVase cassé")
    wf.message_buyer(parcel.id, actor=actor, message="Désolée <i>!</i>\nJe renvoie un vase.")
    wf.edit_shipment(third.id, 1, ParcelDetails("other", "AB-1234", carrier_label="Coursier <b>Lyon</b>",
                                                carrier_url="https://coursier.example/s?n={number}"),
                     actor=actor)
    wf.declare_lost(parcel.id, actor=actor)
    fourth = make_order(owner=shop, external_id="MKT-4")
    wf.confirm_payment(fourth.id, actor=actor)
    wf.undo_payment(fourth.id, actor=actor, reason="Chèque <b>refusé</b> %(ref)s")
    fifth = make_order(owner=shop, external_id="MKT-5")
    wf.confirm_payment(fifth.id, actor=actor)
    wf.close_remainder(fifth.id, actor=actor, reason="Rupture <b>de stock</b>",
                       quantities={fifth.lines[1].id: 1})
    wf.record_refund(fifth.id, actor=actor, amount_cents=100, method="paypal", reference="PP <i>1</i>")
    accounts = Accounts(db.session, clock=clock)
    accounts.request_password_reset(shop.email)
    accounts.set_password(shop, expected_hash=shop.password_hash, new_hash="another hash", how="reset")

    rows = list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    assert {row.kind for row in rows} == set(TEMPLATES)
    for row in rows:
        for locale in ("fr", "en"):
            row.locale = locale
            name, context = email_context(row)
            mail = render_parts(name, context)
            with force_locale(locale):
                text = tidy_text(render_template(f"email/{name}.txt", **context))
                html = render_template(f"email/{name}.html", **context)
            assert (mail.subject, mail.text, mail.html) == (context["subject"], text, html), \
                (row.kind, locale)
    db.session.rollback()


def test_the_words_of_a_report_and_of_the_seller_are_quoted_as_typed(
    wf: Workflow, clock: Clock, make_order: Any
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    parcel = ship_all(wf, order, actor=SELLER)
    wf.request_receipt(parcel.id, actor=SELLER)
    wf.report_problem(parcel.id, reason="not_received", message='Rien <script>x</script>\nreçu "ici"')
    seller_mail = render_email(outbox("P1"))
    assert seller_mail.subject == f"Problème signalé par le client — commande {order.reference}"
    assert "<script>" not in seller_mail.html and "&lt;script&gt;x&lt;/script&gt;" in seller_mail.html
    assert "> Rien <script>x</script>\n> reçu \"ici\"" in seller_mail.text
    assert "Motif : Colis non reçu" in seller_mail.text
    assert "PROCHAINE ÉTAPE" in seller_mail.text and "Relancer la confirmation" in seller_mail.text
    buyer_mail = render_email(outbox("P2"))
    assert "ne sera pas considéré comme reçu automatiquement" in buyer_mail.text
    assert "/r/" in buyer_mail.text
    clock.advance(minutes=5)
    wf.message_buyer(parcel.id, actor=SELLER, message="Je vérifie auprès de La Poste.")
    message = render_email(outbox("P3"))
    assert "> Je vérifie auprès de La Poste." in message.text
    assert "répondez simplement à cet e-mail" in message.text


def test_a_parcel_of_an_order_still_partly_to_ship_is_confirmed_with_the_pages_words(
        make_order: Any, wf: Workflow) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    bag = min(order.lines, key=lambda line: line.position)
    parcel = wf.ship(order.id, actor=SELLER, quantities={bag.id: 2}, carrier="colissimo",
                     tracking_number="6A12345678901").shipment
    assert parcel is not None
    wf.request_receipt(parcel.id, actor=SELLER)
    # One parcel so far, the card still to come: the buyer confirms this parcel, not the order,
    # with the button the receipt page shows (« J'ai bien reçu ce colis »).
    mail = render_email(outbox("E5"))
    for part in (mail.text, mail.html.replace("&#39;", "'")):
        assert "J'ai bien reçu ce colis" in part and "J'ai bien reçu ma commande" not in part
    assert "Ouvrez le lien « J'ai bien reçu ce colis » ci-dessus" in mail.text
    wf.edit_shipment(order.id, 1, ParcelDetails("colissimo", "6A12345678902"), actor=SELLER)
    corrected = render_email(outbox("E4U"))
    assert "J'ai bien reçu ce colis :" in corrected.text
