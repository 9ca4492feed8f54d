"""« Mot de passe oublié »: the same answer for any address, a signed one-use link valid one
hour, every session ended after the reset, a confirmation e-mail, throttled requests, and the
way through an account locked by guesses."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jobs.background import deliverer
from tests.conftest import PASSWORD, SmtpSink, wait_for_background
from uniqu3 import create_app
from uniqu3.extensions import db
from uniqu3.models import OutboxEmail, OutboxStatus, Seller
from uniqu3.passwords import verify_password
from uniqu3.tokens import InvalidToken, password_reset_from_token
from uniqu3.workflow.accounts import password_fingerprint

from .conftest import SellerClient, csrf_token

NEW = "le chat dort sur le radiateur"
_LINK = re.compile(r"http://localhost(/mot-de-passe/[A-Za-z0-9_.\-]+)")




def ask_reset(client: FlaskClient, email: str, address: str = "192.0.2.1") -> Any:
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/mot-de-passe-oublie", environ_base=environ).get_data(as_text=True))
    response = client.post("/mot-de-passe-oublie", data={"email": email, "csrf_token": token},
                           environ_base=environ)
    wait_for_background(client.application)
    return response


def emails(kind: str) -> list[OutboxEmail]:
    db.session.expire_all()
    query = select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)
    return list(db.session.scalars(query))


def reset_link(seller: Seller) -> str:
    [row] = emails("A1")
    assert row.to_email == seller.email and row.order_id is None
    assert row.status == OutboxStatus.SENT and row.body_text is not None  # the dev mailbox keeps it
    match = _LINK.search(row.body_text)
    assert match, row.body_text
    return match.group(1)


def choose(client: FlaskClient, path: str, password: str, confirm: str | None = None) -> Any:
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"new_password": password, "new_password_confirm": confirm or password,
                                   "csrf_token": token})


def test_the_login_page_leads_to_the_reset(client: FlaskClient) -> None:
    html = client.get("/connexion").get_data(as_text=True)
    assert 'href="/mot-de-passe-oublie"' in html
    page = client.get("/mot-de-passe-oublie").get_data(as_text=True)
    assert '<label for="email">E-mail</label>' in page


def test_the_same_answer_whether_the_address_has_an_account_or_not(app: Flask, client: FlaskClient,
                                                                   seller: Seller) -> None:
    known = ask_reset(client, seller.email)
    unknown = ask_reset(client, "personne@example.fr")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace(seller.email, "X") == \
        unknown.get_data(as_text=True).replace("personne@example.fr", "X")
    assert "Si un compte vendeur existe pour" in known.get_data(as_text=True)
    assert [row.to_email for row in emails("A1")] == [seller.email]


def test_the_address_is_looked_up_only_after_the_answer(app: Flask, seller: Seller) -> None:
    """What the answer costs does not depend on the address: the lookup and the e-mail happen
    in the web process's background thread, once the answer is out."""
    client = app.test_client()
    token = csrf_token(client.get("/mot-de-passe-oublie").get_data(as_text=True))
    work = deliverer(app)
    # The background thread is made busy first: the request's lookup waits behind this.
    import threading

    gate = threading.Event()
    work.call(lambda: gate.wait(10))
    response = client.post("/mot-de-passe-oublie", data={"email": seller.email, "csrf_token": token})
    assert response.status_code == 200
    assert emails("A1") == []  # answered, and nothing looked up yet
    gate.set()
    wait_for_background(app)
    assert len(emails("A1")) == 1


def test_the_link_sets_a_new_password_ends_every_session_and_is_confirmed(
    app: Flask, client: FlaskClient, seller: Seller, login: Callable[..., SellerClient],
) -> None:
    elsewhere = login(seller)
    assert elsewhere.get("/commandes").status_code == 200
    ask_reset(client, seller.email.upper())
    link = reset_link(seller)

    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "same-origin" and page.headers["Cache-Control"] == "no-store"
    assert seller.email in page.get_data(as_text=True)
    refused = choose(client, link, "aaaaaaaaaa")
    assert refused.status_code == 422
    assert "Ce mot de passe est trop courant" in refused.get_data(as_text=True)
    assert choose(client, link, NEW, "autre chose").status_code == 422

    done = choose(client, link, NEW)
    assert done.status_code == 303 and done.headers["Location"] == "/connexion"
    db.session.expire_all()
    fresh = db.session.get(Seller, seller.id)
    assert fresh is not None and verify_password(fresh.password_hash, NEW)
    assert fresh.session_version == 2
    assert elsewhere.get("/commandes").status_code == 302  # every session ended
    [changed] = emails("A2")
    assert changed.to_email == seller.email
    assert "Votre mot de passe a été changé" in changed.subject
    assert "Mot de passe oublié" in (changed.body_text or "")
    # One use: the link now opens nothing.
    assert client.get(link).status_code == 404
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    other = "un tout autre mot de passe"
    again = client.post(link, data={"new_password": other, "new_password_confirm": other,
                                    "csrf_token": token})
    assert again.status_code == 404
    logged = client.post("/connexion", data={"email": seller.email, "password": NEW, "csrf_token": token})
    assert logged.status_code == 303


def test_a_password_changed_otherwise_kills_the_link(client: FlaskClient, seller: Seller,
                                                     sc: SellerClient) -> None:
    ask_reset(client, seller.email)
    link = reset_link(seller)
    assert sc.post("/parametres/mot-de-passe", {"current_password": PASSWORD, "new_password": NEW,
                                                "new_password_confirm": NEW}).status_code == 303
    assert client.get(link).status_code == 404
    [changed] = emails("A2")  # the settings' change is confirmed by e-mail too
    assert "Paramètres" in (changed.body_text or "")


def test_the_link_lasts_one_hour_and_cannot_be_forged(app: Flask, client: FlaskClient, seller: Seller,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    ask_reset(client, seller.email)
    link = reset_link(seller)
    token = link.rsplit("/", 1)[1]
    assert password_reset_from_token(token) == (seller.id, password_fingerprint(seller.password_hash))
    for broken in (token[:-2], token + "x", token.replace(".", "", 1), "x"):
        assert client.get(f"/mot-de-passe/{broken}").status_code == 404
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3601)
    with pytest.raises(InvalidToken):
        password_reset_from_token(token)
    monkeypatch.setattr(time, "time", lambda: real_time() + 3500)
    assert password_reset_from_token(token)[0] == seller.id


def test_no_email_for_an_unknown_or_deactivated_account(client: FlaskClient,
                                                        make_seller: Callable[..., Seller]) -> None:
    make_seller("ferme@example.fr", active=False)
    for email in ("ferme@example.fr", "inconnu@example.fr"):
        assert ask_reset(client, email).status_code == 200
    assert emails("A1") == []


def test_requests_are_throttled_per_address_and_per_client(app: Flask, seller: Seller) -> None:
    statuses = [ask_reset(app.test_client(), seller.email, f"198.51.100.{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]  # 3 e-mails an hour per account
    assert len(emails("A1")) == 3
    client = app.test_client()
    statuses = [ask_reset(client, f"x{n}@example.fr", "203.0.113.9").status_code for n in range(11)]
    assert statuses == [200] * 10 + [429]  # 10 requests an hour per client
    refused = ask_reset(client, "y@example.fr", "203.0.113.9")
    assert "Retry-After" in refused.headers
    assert "Trop de demandes de réinitialisation" in refused.get_data(as_text=True)


def test_an_account_locked_by_guesses_opens_again_through_the_reset(app: Flask, seller: Seller) -> None:
    def attempt(password: str, address: str) -> int:
        client = app.test_client()
        environ = {"REMOTE_ADDR": address}
        token = csrf_token(client.get("/connexion", environ_base=environ).get_data(as_text=True))
        return client.post("/connexion", data={"email": seller.email, "password": password,
                                               "csrf_token": token}, environ_base=environ).status_code

    assert [attempt("wrong guess", f"198.51.100.{n}") for n in range(11)] == [422] * 10 + [429]
    assert attempt(PASSWORD, "192.0.2.50") == 429  # locked, even for the owner…
    client = app.test_client()
    ask_reset(client, seller.email, "192.0.2.50")
    assert choose(client, reset_link(seller), NEW).status_code == 303
    assert attempt(NEW, "192.0.2.50") == 303  # …who gets in through the e-mail


def test_over_smtp_the_reset_link_is_not_kept_in_the_database(
    app_config: dict[str, Any], smtp_config: dict[str, Any], smtp_server: SmtpSink, seller: Seller,
) -> None:
    app = create_app({**app_config, **smtp_config})
    ask_reset(app.test_client(), seller.email)
    for _ in range(200):
        if smtp_server.messages:
            break
        time.sleep(0.02)
    [message] = smtp_server.parsed()
    assert message["To"] == f'"L\'Atelier de Lina" <{seller.email}>' or seller.email in message["To"]
    text = message.get_body(("plain",)).get_content()
    assert "/mot-de-passe/" in text
    with app.app_context():
        for _ in range(200):
            [row] = emails("A1")
            if row.status == OutboxStatus.SENT:
                break
            time.sleep(0.02)
        assert row.status == OutboxStatus.SENT and row.subject
        assert row.body_text is None and row.body_html is None
