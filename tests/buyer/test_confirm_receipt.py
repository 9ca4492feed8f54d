"""`/r/<token>`: the buyer's one-press receipt confirmation, the seller's proof."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import Clock
from uniqu3.extensions import db
from uniqu3.models import OrderEvent, OutboxEmail, Shipment
from uniqu3.tokens import receipt_token
from uniqu3.workflow import Actor, Workflow

from .conftest import csrf_token, page_text

SELLER = Actor.seller("atelier@example.fr")
BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone) Safari/605.1"}
BUYER_IP = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def parcels(wf: Workflow, make_order: Any) -> tuple[int, int]:
    """Two parcels of one order, both awaiting the buyer's confirmation."""
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    ids = []
    for line, number in zip(order.lines, ("6A12345678901", "6A12345678902"), strict=True):
        shipment = wf.ship(order.id, actor=SELLER, quantities={line.id: line.quantity},
                           carrier="colissimo", tracking_number=number).shipment
        assert shipment is not None
        wf.request_receipt(shipment.id, actor=SELLER)
        ids.append(shipment.id)
    return ids[0], ids[1]


def parcel(shipment_id: int) -> Shipment:
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment_id)
    assert shipment is not None
    return shipment


def e6_count() -> int:
    return len(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "E6")).all())


def own_request_globals() -> None:
    """The test's app context is shared by the client's requests, and Flask-WTF keeps the
    page's token in `g`: forget it, as a new request in its own context would."""
    g.pop("csrf_token", None)


def open_page(client: FlaskClient, shipment_id: int) -> tuple[str, str]:
    url = f"/r/{receipt_token(shipment_id)}"
    response = client.get(url, headers=BROWSER)
    assert response.status_code == 200
    return url, response.text


def test_opening_the_link_changes_nothing(client: FlaskClient, parcels: tuple[int, int]) -> None:
    first, _ = parcels
    events_before = db.session.scalar(select(db.func.count(OrderEvent.id)))
    url = f"/r/{receipt_token(first)}"
    for _ in range(3):  # a mail scanner, a preview, then the buyer
        response = client.get(url, headers=BROWSER)
        assert response.status_code == 200
        assert client.head(url).status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = page_text(response.text)
    assert "Avez-vous bien reçu votre colis ?" in text
    assert "2 × Sac cabas rouge (réf. BAG-RED-01)" in text and "CARD-01" not in text
    assert "Colissimo (La Poste)" in text and "6A12345678901" in text
    assert "considéré comme reçu le 27/11/2026 à 10:30" in text
    # The one button, and the « Signaler un problème » form next to it.
    assert re.findall(r'<form method="post" action="([^"]+)"', response.text) == [url, f"{url}/probleme"]
    assert "J'ai bien reçu ce colis" in text
    assert parcel(first).status == "awaiting_receipt" and parcel(first).received_at is None
    assert db.session.scalar(select(db.func.count(OrderEvent.id))) == events_before
    assert e6_count() == 0


def test_one_press_confirms_and_keeps_the_proof(
    client: FlaskClient, parcels: tuple[int, int], clock: Clock
) -> None:
    first, second = parcels
    url, page = open_page(client, first)
    clock.advance(days=2, hours=3)
    response = client.post(url, data={"csrf_token": csrf_token(page)}, headers=BROWSER,
                           environ_base=BUYER_IP)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = page_text(response.text)
    assert "Merci !" in text and "colis n° 1 est enregistrée (22/11/2026 à 13:30)" in text
    proof = parcel(first)
    assert (proof.status, proof.received_by, proof.received_at) == ("received", "buyer", clock.now)
    assert (proof.proof_ip, proof.proof_user_agent) == ("203.0.113.9", BROWSER["User-Agent"])
    assert e6_count() == 1
    assert parcel(second).status == "awaiting_receipt"  # the other parcel is untouched

    # Pressing again: said, not done twice.
    clock.advance(hours=1)
    again = client.post(url, data={"csrf_token": csrf_token(page)}, headers=BROWSER)
    assert again.status_code == 200
    assert "Réception du colis n° 1 déjà confirmée le 22/11/2026 à 13:30" in page_text(again.text)
    assert "<form" not in again.text and e6_count() == 1
    assert parcel(first).received_at == proof.received_at
    later = client.get(url)
    assert "déjà confirmée le 22/11/2026 à 13:30" in page_text(later.text)


def test_an_outdated_form_offers_the_button_again(
    app: Flask, client: FlaskClient, parcels: tuple[int, int]
) -> None:
    first, _ = parcels
    url, page = open_page(client, first)
    stranger = app.test_client()  # no session cookie: the token cannot be checked
    for attempt in ({"csrf_token": csrf_token(page)}, {}, {"csrf_token": "forged"}):
        own_request_globals()
        response = stranger.post(url, data=attempt, headers=BROWSER)
        assert response.status_code == 400
        text = page_text(response.text)
        assert "Votre confirmation n'a pas pu être enregistrée" in text
        assert "J'ai bien reçu ce colis" in text
        assert parcel(first).status == "awaiting_receipt" and e6_count() == 0
    # The page it got carries a fresh form that works.
    own_request_globals()
    retried = stranger.post(url, data={"csrf_token": csrf_token(response.text)}, headers=BROWSER)
    assert retried.status_code == 200, page_text(retried.text)
    assert "Merci !" in page_text(retried.text)
    assert parcel(first).status == "received" and e6_count() == 1


def test_after_the_deadline_the_page_says_it_was_received_automatically(
    client: FlaskClient, wf: Workflow, parcels: tuple[int, int], clock: Clock
) -> None:
    first, _ = parcels
    url, page = open_page(client, first)
    clock.advance(days=7, minutes=1)
    assert first in wf.auto_receive_due().received
    for response in (client.get(url), client.post(url, data={"csrf_token": csrf_token(page)})):
        assert response.status_code == 200
        text = page_text(response.text)
        assert "considéré comme reçu automatiquement le 27/11/2026 à 10:31" in text
        assert "<form" not in response.text
    assert parcel(first).received_by == "auto" and e6_count() == 0


def test_a_parcel_not_yet_awaiting_confirmation_is_explained(
    client: FlaskClient, wf: Workflow, make_order: Any
) -> None:
    order = make_order()
    wf.confirm_payment(order.id, actor=SELLER)
    line = order.lines[0]
    shipment = wf.ship(order.id, actor=SELLER, quantities={line.id: 1}, carrier="colissimo",
                       tracking_number="6A12345678901").shipment
    assert shipment is not None
    url = f"/r/{receipt_token(shipment.id)}"
    response = client.get(url)
    # No button to confirm yet; a problem can already be reported.
    assert response.status_code == 200
    assert re.findall(r'<form method="post" action="([^"]+)"', response.text) == [f"{url}/probleme"]
    assert "pas encore activée pour ce colis" in page_text(response.text)
    # Even a well-formed POST cannot confirm it (the login form gives this browser a valid token).
    with_form = client.get("/connexion")
    posted = client.post(url, data={"csrf_token": csrf_token(with_form.text)})
    assert posted.status_code == 409 and "pas encore activée" in page_text(posted.text)
    assert parcel(shipment.id).status == "shipped" and e6_count() == 0


def test_a_link_confirms_its_own_parcel_only(
    client: FlaskClient, parcels: tuple[int, int]
) -> None:
    first, second = parcels
    url, page = open_page(client, first)
    payload_b = receipt_token(second).split(".")[0]
    _payload, stamp, signature = receipt_token(first).split(".")
    forged = f"/r/{payload_b}.{stamp}.{signature}"
    response = client.post(forged, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 404
    assert "Ce lien n'est pas valide ou a expiré…" in page_text(response.text)
    assert parcel(second).status == "awaiting_receipt"
    client.post(url, data={"csrf_token": csrf_token(page)})
    assert (parcel(first).status, parcel(second).status) == ("received", "awaiting_receipt")


def test_receipt_links_survive_a_key_rotation(
    app: Flask, client: FlaskClient, parcels: tuple[int, int]
) -> None:
    first, _ = parcels
    url = f"/r/{receipt_token(first)}"
    app.config.update(SECRET_KEY="a-brand-new-secret-key-after-rotation",
                      SECRET_KEY_FALLBACKS=["test-secret-key"])
    page = client.get(url)
    assert page.status_code == 200
    pressed = client.post(url, data={"csrf_token": csrf_token(page.text)})
    assert "Merci !" in page_text(pressed.text) and parcel(first).status == "received"
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get(url).status_code == 404


def test_an_expired_receipt_link_is_refused(
    client: FlaskClient, parcels: tuple[int, int], monkeypatch: Any
) -> None:
    import time

    from itsdangerous import TimestampSigner

    from uniqu3.tokens import RECEIPT_MAX_AGE

    first, _ = parcels
    _url, page = open_page(client, first)
    signed_long_ago = int(time.time()) - RECEIPT_MAX_AGE - 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_long_ago)
    expired = f"/r/{receipt_token(first)}"
    monkeypatch.undo()
    for response in (client.get(expired), client.post(expired, data={"csrf_token": csrf_token(page)})):
        assert response.status_code == 404
        assert "Ce lien n'est pas valide ou a expiré…" in page_text(response.text)
    assert parcel(first).status == "awaiting_receipt" and e6_count() == 0
