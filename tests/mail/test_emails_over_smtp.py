"""E1–E8 through a real SMTP server, as the seller and the buyer receive them.

One order goes through the whole workflow (placed, paid, shipped in two parcels, receipt
asked for both, the buyer confirms one by following the e-mail's link, the other is
received automatically after the deadline) and another one is cancelled.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner

from tests.buyer.conftest import csrf_token, page_text
from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.mail import deliver
from uniqu3.models import OutboxEmail, OutboxStatus, Shipment, ShipmentStatus
from uniqu3.tokens import order_id_from_token
from uniqu3.workflow import Actor, Address, Workflow

from .conftest import html_part, html_words, links, text_part

BILLING = Address(name="Camille Martin", line1="3 place Bellecour", line2="Bâtiment B",
                  postal_code="69002", city="Lyon", country="FR")
SHIPPING = Address(name="Camille Martin", line1="12 rue des Lilas", line2="",
                   postal_code="69003", city="Lyon", country="FR")
NOTIFY = "commandes@atelier-lina.fr"
SENDER_DOMAIN = "uniqu3app.fr"


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **smtp_config}


def path_of(url: str) -> str:
    assert url.startswith("http://localhost/"), url  # BASE_URL of the testing profile
    return urlsplit(url).path


def one(messages: list[EmailMessage], subject_start: str, to: str | None = None) -> EmailMessage:
    found = [m for m in messages if str(m["Subject"]).startswith(subject_start)
             and (to is None or parseaddr(str(m["To"]))[1] == to)]
    assert len(found) == 1, (subject_start, [str(m["Subject"]) for m in messages])
    return found[0]


def check_envelope(msg: EmailMessage, *, to: str, buyer: bool, when: Any) -> None:
    assert [addr for _, addr in getaddresses([str(msg["To"])])] == [to]
    assert msg.get_content_type() == "multipart/alternative"
    assert text_part(msg).strip() and html_part(msg).strip()
    assert re.fullmatch(rf"<[^<>@\s]+@{re.escape(SENDER_DOMAIN)}>", str(msg["Message-ID"]))
    assert parsedate_to_datetime(str(msg["Date"])) == when
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"] is None and msg["Precedence"] is None
    reply_to = msg["Reply-To"]
    if buyer:
        assert parseaddr(str(reply_to)) == ("L'Atelier de Lina", NOTIFY)
        assert "L'Atelier de Lina" in str(msg["From"])
    else:
        assert reply_to is None
    # No remote images, no tracking pixels.
    assert "<img" not in html_part(msg).lower()


def next_step_at_bottom(msg: EmailMessage, *, after: list[str], link: str, instruction: str) -> str:
    """The instructions come last, after the e-mail's content, with the link to follow.

    `link` is the start of the link (a buyer link is signed with the time: compare the order
    it opens); returns the link found.
    """
    text = text_part(msg)
    step = text.index("PROCHAINE ÉTAPE")
    assert all(text.index(fact) < step for fact in after), "content after the next step"
    assert instruction in text[step:]
    assert text[step:].count("\n") < 25  # only the instructions and a footer line follow
    found = [u for u in links(text[step:]) if u.startswith(link)]
    assert found, f"no {link}… link in the next step"
    html = html_part(msg)
    html_step = html.index("Prochaine étape")
    assert f'href="{link}' in html[html_step:] and instruction in html_words(html[html_step:])
    return found[-1]


def opens_order(url: str, order_id: int) -> bool:
    return order_id_from_token(urlsplit(url).path.removeprefix("/o/")) == order_id


def test_the_eight_emails_as_received(
    client: FlaskClient, wf: Workflow, clock: Clock, make_seller: Any, make_order: Any,
    smtp_server: Any,
) -> None:
    seller = make_seller("lina@example.fr", shop_name="L'Atelier de Lina", notification_email=NOTIFY,
                         payment_instructions="Virement : IBAN FR76 3000 6000 0112 3456 7890 189")
    order = make_order(owner=seller, billing_address=BILLING, shipping_address=SHIPPING)
    ref, order_id = order.reference, order.id
    line_ids = {line.sku: line.id for line in order.lines}
    seller_actor = Actor.seller(seller.email)

    wf.confirm_payment(order_id, actor=seller_actor, note="Virement reçu, réf. VIR-8841")
    first = wf.ship(order_id, actor=seller_actor, quantities={line_ids["BAG-RED-01"]: 1},
                    carrier="colissimo", tracking_number="6A12345678901").shipment
    second = wf.ship(order_id, actor=seller_actor,
                     quantities={line_ids["BAG-RED-01"]: 1, line_ids["CARD-01"]: 1},
                     carrier="mondial_relay", tracking_number="12345678").shipment
    assert first is not None and second is not None
    first_id, second_id = first.id, second.id
    wf.request_receipt(first_id, actor=seller_actor)
    wf.request_receipt(second_id, actor=seller_actor)

    sent_at = clock.now
    report = deliver()
    assert len(report.sent) == 7 and not report.retrying and not report.failed
    batch1 = smtp_server.parsed()
    assert len(batch1) == 7

    # --- E1: the seller's new order
    e1 = one(batch1, f"Nouvelle commande {ref}")
    check_envelope(e1, to=NOTIFY, buyer=False, when=sent_at)
    text = text_part(e1)
    for fact in ("Sac cabas rouge (réf. BAG-RED-01)", "2 × 34,90 € = 69,80 €",
                 "Carte brodée (réf. CARD-01)", "1 × 5,50 € = 5,50 €", "Total de la commande : 75,30 €",
                 "3 place Bellecour", "Bâtiment B", "69002 Lyon", "12 rue des Lilas", "69003 Lyon",
                 "France", "Camille Martin <camille@example.fr>"):
        assert fact in text, fact
    assert text.index("Adresse de facturation") < text.index("3 place Bellecour") \
        < text.index("Adresse de livraison") < text.index("12 rue des Lilas")
    words = html_words(html_part(e1))
    for fact in ("BAG-RED-01", "34,90 €", "69,80 €", "75,30 €", "3 place Bellecour", "12 rue des Lilas",
                 "camille@example.fr"):
        assert fact in words, fact
    dashboard = f"http://localhost/commandes/{ref}"
    next_step_at_bottom(e1, after=["Total de la commande", "camille@example.fr"], link=dashboard,
                        instruction="« Confirmer le paiement »")

    # --- E2: the buyer's recap with the seller's payment instructions
    e2 = one(batch1, f"Votre commande {ref} chez L'Atelier de Lina est enregistrée")
    check_envelope(e2, to="camille@example.fr", buyer=True, when=sent_at)
    text = text_part(e2)
    assert "Bonjour Camille Martin," in text
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in text
    assert "Total de la commande : 75,30 €" in text and "2 × 34,90 €" in text
    assert "IBAN FR76" in html_words(html_part(e2))
    order_link = next_step_at_bottom(e2, after=["IBAN FR76"], link="http://localhost/o/",
                                     instruction="Réglez votre commande en suivant les instructions")
    assert opens_order(order_link, order_id)

    # --- E3: payment received (the seller's note stays private)
    e3 = one(batch1, f"Paiement reçu — commande {ref}")
    check_envelope(e3, to="camille@example.fr", buyer=True, when=sent_at)
    assert "a bien reçu votre paiement de 75,30 €" in text_part(e3)
    assert "VIR-8841" not in text_part(e3) and "VIR-8841" not in html_part(e3)
    assert opens_order(next_step_at_bottom(e3, after=["75,30 €"], link="http://localhost/o/",
                                           instruction="prépare maintenant votre commande"), order_id)

    # --- E4 ×2: each parcel with its items, tracking and what is still to come
    e4a = one(batch1, f"Colis n° 1 expédié — commande {ref}")
    check_envelope(e4a, to="camille@example.fr", buyer=True, when=sent_at)
    text = text_part(e4a)
    contents = text[text.index("CONTENU DU COLIS"):text.index("EXPÉDITION")]
    assert "1 × Sac cabas rouge (réf. BAG-RED-01)" in contents and "CARD-01" not in contents
    assert "Transporteur : Colissimo (La Poste)" in text
    assert "Numéro de suivi : 6A12345678901" in text
    assert "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901" in text
    assert 'href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"' in html_part(e4a)
    assert "Expédié le : vendredi 20 novembre 2026" in text
    to_come = text[text.index("ENCORE À VENIR"):]
    assert "1 × Sac cabas rouge (réf. BAG-RED-01)" in to_come and "1 × Carte brodée (réf. CARD-01)" in to_come
    next_step_at_bottom(e4a, after=["ENCORE À VENIR", "12 rue des Lilas"], link="http://localhost/o/",
                        instruction="vous demandera par e-mail de confirmer sa réception")
    e4b = one(batch1, f"Colis n° 2 expédié — commande {ref}")
    text = text_part(e4b)
    assert "Mondial Relay" in text and "12345678" in text
    assert "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition=12345678" in text
    assert "toute votre commande est expédiée" in text and "ENCORE À VENIR" not in text

    # --- E5 ×2: the one-press link and the deadline (in Paris time)
    e5s = [m for m in batch1 if str(m["Subject"]) == f"Confirmez la réception de votre commande {ref}"]
    assert len(e5s) == 2
    e5 = next(m for m in e5s if "6A12345678901" in text_part(m))
    check_envelope(e5, to="camille@example.fr", buyer=True, when=sent_at)
    text = text_part(e5)
    receipt_links = [u for u in links(text) if "/r/" in u and not u.endswith("/probleme")]
    assert len(set(receipt_links)) == 1
    receipt_link = receipt_links[0]
    assert f'href="{receipt_link}"' in html_part(e5)
    due = "vendredi 27 novembre 2026 à 10:30"  # 09:30 UTC + 7 days, winter time in Paris
    assert f"Vous avez jusqu'au {due} (heure de Paris)" in text
    # What the seller knows: it should have arrived; and what to do if it has not.
    assert (f"Le colis n° 1 de votre commande {ref} chez L'Atelier de Lina devrait vous avoir été "
            "livré.") in text
    assert "vous a été livré" not in text
    assert ("Vous ne l'avez pas reçu, ou il y a un problème (article abîmé, manquant ou non conforme) ? "
            f"Ne confirmez pas : signalez-le avant le {due} ; L'Atelier de Lina en est prévenu et le colis "
            "ne sera pas marqué reçu automatiquement.") in text
    [problem_link] = {u for u in links(text) if u.endswith("/probleme")}
    assert problem_link == f"{receipt_link}/probleme" and f'href="{problem_link}"' in html_part(e5)
    assert "J'ai bien reçu ce colis" in html_words(html_part(e5))
    next_step_at_bottom(e5, after=["CONTENU DU COLIS", "6A12345678901"], link="http://localhost/o/",
                        instruction=f"le colis sera considéré comme reçu le {due}.")

    # --- the links work: the order page, and the receipt page (GET changes nothing)
    page = client.get(path_of(order_link))
    assert page.status_code == 200 and ref in page.text and "L'Atelier de Lina" in page_text(page.text)
    assert client.get(path_of(dashboard)).status_code in (200, 302, 404)  # the seller team's page
    assert urlsplit(dashboard).path == f"/commandes/{ref}"
    opened = client.get(path_of(receipt_link))
    assert opened.status_code == 200 and "J'ai bien reçu ce colis" in page_text(opened.text)
    db.session.expire_all()
    assert db.session.get(Shipment, first_id).status == ShipmentStatus.AWAITING_RECEIPT

    clock.advance(hours=2)
    confirmed_at = clock.now
    pressed = client.post(path_of(receipt_link), data={"csrf_token": csrf_token(opened.text)},
                          headers={"User-Agent": "Mozilla/5.0 (Android) Firefox/130"},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert pressed.status_code == 200 and "Merci" in pressed.text
    again = client.post(path_of(receipt_link), data={"csrf_token": csrf_token(opened.text)})
    assert "déjà confirmée le 20/11/2026 à 12:30" in page_text(again.text)
    db.session.expire_all()
    proof = db.session.get(Shipment, first_id)
    assert (proof.status, proof.received_by, proof.received_at) == ("received", "buyer", confirmed_at)
    assert (proof.proof_ip, proof.proof_user_agent) == ("203.0.113.7", "Mozilla/5.0 (Android) Firefox/130")

    # --- the deadline passes for the second parcel; another order is cancelled
    clock.advance(days=8)
    assert wf.auto_receive_due().received == [second_id]
    other = make_order(owner=seller, external_id="MKT-CANCEL")
    wf.cancel(other.id, actor=seller_actor, reason="Article plus disponible en rouge")

    second_batch_at = clock.now
    report = deliver()
    assert len(report.sent) == 6 and not report.retrying and not report.failed
    batch2 = smtp_server.parsed()[7:]
    assert len(batch2) == 6

    # --- E6: the seller's proof
    e6 = one(batch2, f"Réception confirmée par le client — commande {ref}")
    check_envelope(e6, to=NOTIFY, buyer=False, when=second_batch_at)
    text = text_part(e6)
    assert ("Camille Martin a confirmé avoir reçu le colis n° 1 de la commande "
            f"{ref}, le vendredi 20 novembre 2026 à 12:30 (heure de Paris).") in text
    assert "preuve de réception" in text and "l'adresse IP et le navigateur utilisés sont enregistrés" in text
    proof_link = f"http://localhost/commandes/{ref}/colis/1/preuve"
    assert f"Voir la preuve de réception du colis n° 1 :\r\n{proof_link}" in text
    assert f'href="{proof_link}"' in html_part(e6)
    next_step_at_bottom(e6, after=["preuve de réception", "6A12345678901"], link=dashboard,
                        instruction="tous les colis sont reçus")

    # --- E7 ×2: received automatically, told to both
    e7s = one(batch2, f"Colis marqué reçu automatiquement — commande {ref}", to=NOTIFY)
    check_envelope(e7s, to=NOTIFY, buyer=False, when=second_batch_at)
    text = text_part(e7s)
    assert "avant l'échéance du vendredi 27 novembre 2026 à 10:30" in text
    assert "Mondial Relay" in text and "1 × Carte brodée (réf. CARD-01)" in text
    next_step_at_bottom(e7s, after=["Mondial Relay"], link=dashboard, instruction="tous les colis sont reçus")
    assert f"http://localhost/commandes/{ref}/colis/2/preuve" in text
    assert f'href="http://localhost/commandes/{ref}/colis/2/preuve"' in html_part(e7s)
    e7b = one(batch2, f"Colis considéré comme reçu — commande {ref}", to="camille@example.fr")
    check_envelope(e7b, to="camille@example.fr", buyer=True, when=second_batch_at)
    assert "avant le vendredi 27 novembre 2026 à 10:30" in text_part(e7b)
    next_step_at_bottom(e7b, after=["Mondial Relay"], link="http://localhost/o/",
                        instruction="répondez à cet e-mail pour contacter L'Atelier de Lina")

    # --- E8: cancelled, with the reason; E1 and E2 of that order too
    e8 = one(batch2, f"Commande {other.reference} annulée")
    check_envelope(e8, to="camille@example.fr", buyer=True, when=second_batch_at)
    text = text_part(e8)
    assert "Motif : Article plus disponible en rouge" in text
    assert "Article plus disponible en rouge" in html_words(html_part(e8))
    other_link = next_step_at_bottom(e8, after=["Motif", "75,30 €"], link="http://localhost/o/",
                                     instruction="Aucun article ne vous sera envoyé.")
    assert opens_order(other_link, other.id)
    cancelled_page = client.get(path_of(other_link))
    assert cancelled_page.status_code == 200 and "Annulée" in cancelled_page.text
    one(batch2, f"Nouvelle commande {other.reference}")
    one(batch2, f"Votre commande {other.reference} chez")

    # Every message once, each with its own Message-ID, kept on its outbox row.
    everything = smtp_server.parsed()
    ids = [str(m["Message-ID"]) for m in everything]
    assert len(set(ids)) == len(ids) == 13
    rows = db.session.scalars(db.select(OutboxEmail)).all()
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert sorted(r.message_id for r in rows) == sorted(ids)
    assert all(r.subject and r.body_text and r.body_html and r.attempts == 1 for r in rows)
    assert deliver().sent == [] and len(smtp_server.messages) == 13


def test_the_order_link_in_an_email_still_opens_months_later(
    client: FlaskClient, wf: Workflow, make_order: Any, smtp_server: Any, monkeypatch: Any,
) -> None:
    order = make_order()
    deliver()
    e2 = one(smtp_server.parsed(), f"Votre commande {order.reference}")
    link = next(u for u in links(text_part(e2)) if "/o/" in u)
    later = int(time.time() + timedelta(days=300).total_seconds())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert client.get(path_of(link)).status_code == 200
