"""`/r/<token>/probleme`: « Signaler un problème ». GET shows, POST acts, with the same signed link
and CSRF rules as the confirmation; after receipt the page says so and how to reach the seller."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from tests.conftest import Clock, ship_all
from uniqu3.extensions import db
from uniqu3.models import OrderEvent, OutboxEmail, ShipmentProblem
from uniqu3.tokens import RECEIPT_MAX_AGE, order_token, receipt_token, shipment_id_from_token
from uniqu3.workflow import Workflow

from .conftest import csrf_token, page_text
from .test_confirm_receipt import BROWSER, BUYER_IP, SELLER, own_request_globals, parcel


@pytest.fixture
def awaiting(wf: Workflow, make_order: Any) -> int:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    shipment = ship_all(wf, order, actor=SELLER)
    wf.request_receipt(shipment.id, actor=SELLER)
    return shipment.id


def report_url(shipment_id: int) -> str:
    return f"/r/{receipt_token(shipment_id)}/probleme"


def post_report(client: FlaskClient, shipment_id: int, *, address: str = BUYER_IP["REMOTE_ADDR"],
                **form: str) -> Any:
    page = client.get(report_url(shipment_id), headers=BROWSER)
    own_request_globals()
    data = {"csrf_token": csrf_token(page.text), "reason": "not_received", "message": "Rien reçu.", **form}
    response = client.post(report_url(shipment_id), data=data, headers=BROWSER,
                           environ_base={"REMOTE_ADDR": address})
    own_request_globals()
    return response


def counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(ShipmentProblem)) or 0,
            db.session.scalar(select(func.count()).select_from(OutboxEmail)) or 0,
            db.session.scalar(select(func.count()).select_from(OrderEvent)) or 0)


def test_the_form_opens_from_the_link_and_changes_nothing(client: FlaskClient, awaiting: int) -> None:
    before = counts()
    for _ in range(2):  # a mail scanner, then the buyer
        response = client.get(report_url(awaiting), headers=BROWSER)
        assert response.status_code == 200
    text = page_text(response.text)
    assert "Signaler un problème" in text
    for label in ("Colis non reçu", "Article endommagé", "Article manquant ou non conforme", "Autre"):
        assert label in text
    assert 'maxlength="2000"' in response.text and response.headers["Cache-Control"] == "no-store"
    assert counts() == before and parcel(awaiting).status == "awaiting_receipt"


def test_a_report_suspends_the_parcel_and_is_kept_as_evidence(client: FlaskClient, awaiting: int) -> None:
    response = post_report(client, awaiting, reason="damaged", message="Carton écrasé,\r\nvase cassé.")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Problème signalé" in text and "Votre signalement sur le colis n° 1 est enregistré" in text
    assert "Carton écrasé," in text
    assert parcel(awaiting).status == "problem"
    report = db.session.scalars(select(ShipmentProblem)).one()
    assert (report.reason, report.message, report.ip, report.user_agent) == (
        "damaged", "Carton écrasé,\nvase cassé.", "203.0.113.9", BROWSER["User-Agent"])
    kinds = db.session.scalars(select(OutboxEmail.kind).order_by(OutboxEmail.id)).all()
    assert kinds[-2:] == ["P1", "P2"]
    # The receipt page now tells how things stand and still offers the one button.
    receipt = client.get(f"/r/{receipt_token(awaiting)}", headers=BROWSER)
    assert "Vous avez signalé un problème sur le colis n° 1" in page_text(receipt.text)
    assert "J'ai bien reçu ma commande" in page_text(receipt.text)


def test_the_buyer_order_page_offers_the_form_and_shows_the_report(
        client: FlaskClient, wf: Workflow, awaiting: int) -> None:
    order_id = parcel(awaiting).order_id
    page = client.get(f"/o/{order_token(order_id)}")
    # The parcel's « Signaler un problème » form (its link's timestamp may be a second older).
    action = re.search(r'action="/r/([^"/]+)/probleme"', page.text)
    assert action is not None and shipment_id_from_token(action.group(1)) == awaiting
    assert "Signaler un problème" in page_text(page.text)
    post_report(client, awaiting, message="Toujours rien <b>reçu</b>.")
    wf.message_buyer(awaiting, actor=SELLER, message="J'ouvre une enquête auprès de La Poste.")
    text = page_text(client.get(f"/o/{order_token(order_id)}").text)
    assert "Vous avez signalé un problème sur ce colis" in text
    assert "Toujours rien <b>reçu</b>." in text  # as typed, escaped in the HTML
    assert "J'ouvre une enquête auprès de La Poste." in text
    assert "Message de" in text


@pytest.mark.parametrize(("form", "field_text", "status"), [
    ({"reason": ""}, "Choisissez ce qui ne va pas avec ce colis.", 422),
    ({"reason": "other", "message": ""}, "Décrivez le problème en quelques mots.", 422),
    ({"message": "x" * 2001}, "Le message est trop long : 2000 caractères au plus (2001 saisis).", 422),
])
def test_a_bad_form_is_shown_again_with_the_reason_and_changes_nothing(
        client: FlaskClient, awaiting: int, form: dict[str, str], field_text: str, status: int) -> None:
    before = counts()
    response = post_report(client, awaiting, **form)
    assert response.status_code == status
    assert field_text in page_text(response.text)
    assert counts() == before and parcel(awaiting).status == "awaiting_receipt"


def test_an_outdated_form_is_refused_and_shown_again(client: FlaskClient, awaiting: int) -> None:
    before = counts()
    response = client.post(report_url(awaiting), data={"csrf_token": "stale", "reason": "damaged",
                                                        "message": "Mon texte"})
    assert response.status_code == 400
    assert "la page était ouverte depuis trop longtemps" in page_text(response.text)
    assert ">Mon texte</textarea>" in response.text
    assert counts() == before


def test_after_receipt_the_page_says_so_and_how_to_reach_the_seller(
        client: FlaskClient, wf: Workflow, awaiting: int) -> None:
    opened = client.get(report_url(awaiting))  # the form, opened before the buyer confirmed
    own_request_globals()
    wf.confirm_receipt(awaiting, ip="1.2.3.4", user_agent="x")
    page = client.get(report_url(awaiting))
    text = page_text(page.text)
    assert page.status_code == 200 and "Colis déjà reçu" in text
    assert "écrivez directement à" in text and "mailto:atelier@example.fr" in page.text
    assert 'name="reason"' not in page.text
    before = counts()
    posted = client.post(report_url(awaiting), data={"csrf_token": csrf_token(opened.text),
                                                      "reason": "damaged", "message": "x"})
    assert posted.status_code == 409 and "Colis déjà reçu" in page_text(posted.text)
    assert counts() == before


def test_a_second_report_adds_a_detail_without_a_second_email(
        client: FlaskClient, awaiting: int, clock: Clock) -> None:
    post_report(client, awaiting)
    clock.advance(minutes=10)
    page = client.get(report_url(awaiting))
    assert "ajouter une précision" in page_text(page.text)
    post_report(client, awaiting, reason="other", message="Le livreur dit l'avoir déposé chez un voisin.")
    assert db.session.scalar(select(func.count()).select_from(ShipmentProblem)) == 2
    seller_emails = select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "P1")
    assert db.session.scalar(seller_emails) == 1


def _token_of_another_kind(app: Flask, value: int, salt: str) -> str:
    return str(URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt).dumps(value))


def test_tampered_expired_or_other_purpose_links_are_refused(
        app: Flask, client: FlaskClient, awaiting: int, monkeypatch: pytest.MonkeyPatch) -> None:
    good = receipt_token(awaiting)
    order_id = parcel(awaiting).order_id
    bad = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # tampered
        order_token(order_id),  # made for the order page
        _token_of_another_kind(app, awaiting, "password-reset"),
        "not-a-token",
    ]
    before = counts()
    for token in bad:
        for method in (client.get, client.post):
            response = method(f"/r/{token}/probleme", data={"reason": "damaged"})
            assert response.status_code == 404, token
            assert "Ce lien n'est pas valide ou a expiré" in page_text(response.text)
    # Expired: the same link, read after its lifetime.
    import time as time_module
    real, link = time_module.time, report_url(awaiting)
    monkeypatch.setattr(time_module, "time", lambda: real() + RECEIPT_MAX_AGE + 60)
    assert client.get(link).status_code == 404
    monkeypatch.setattr(time_module, "time", real)
    assert counts() == before


def test_reports_are_throttled_per_address(client: FlaskClient, awaiting: int) -> None:
    statuses = []
    for n in range(12):
        response = post_report(client, awaiting, message=f"Précision {n}")
        statuses.append(response.status_code)
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]
    assert ("Trop de signalements en peu de temps. Patientez avant de réessayer, "
            "ou écrivez directement au vendeur.") in page_text(response.text)
    assert 3500 < int(response.headers["Retry-After"]) <= 3601  # the hour's window, nearly whole
    assert db.session.scalar(select(func.count()).select_from(ShipmentProblem)) == 10
    # Another address is not concerned.
    assert post_report(client, awaiting, address="198.51.100.4", message="Autre").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(ShipmentProblem)) == 11


def test_every_report_counts_and_an_ipv6_client_is_its_network(client: FlaskClient, awaiting: int) -> None:
    """Refused posts count too (an outdated form here); the addresses of one /64 are one client.
    The refusal is in the buyer's language."""
    english = {**BROWSER, "Accept-Language": "en"}

    def post(address: str) -> Any:
        return client.post(report_url(awaiting), data={"reason": "damaged"}, headers=english,
                           environ_base={"REMOTE_ADDR": address})

    assert [post(f"2001:db8:1:2::{n:x}").status_code for n in range(10)] == [400] * 10
    refused = post("2001:db8:1:2:ffff::1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert ("Too many reports in a short time. Wait before trying again, "
            "or write to the seller directly.") in page_text(refused.text)
    assert post("2001:db8:1:3::1").status_code == 400  # the next network
    assert db.session.scalar(select(func.count()).select_from(ShipmentProblem)) == 0


def test_the_report_form_is_in_english_for_an_english_browser(client: FlaskClient, awaiting: int) -> None:
    page = client.get(report_url(awaiting), headers={"Accept-Language": "en"})
    text = page_text(page.text)
    assert "Report a problem" in text and "Parcel not received" in text
    assert re.search(r"Item missing or not as described", text)
