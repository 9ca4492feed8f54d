"""Logging in and out, the idle timeout, stale sessions, and slowing down password guessing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Clock
from uniqu3.extensions import db
from uniqu3.models import Seller

from .conftest import HTMX, SellerClient, csrf_token, log_in


def _login_form(client: FlaskClient, email: str, password: str, **extra: str) -> Any:
    token = csrf_token(client.get("/connexion").get_data(as_text=True))
    return client.post("/connexion", data={"email": email, "password": password,
                                           "csrf_token": token, **extra})


def test_login_page_has_labelled_fields(client: FlaskClient) -> None:
    html = client.get("/connexion").get_data(as_text=True)
    assert '<label for="email">E-mail</label>' in html
    assert '<label for="password">Mot de passe</label>' in html
    assert 'autocomplete="current-password"' in html


def test_login_opens_a_new_session_and_leads_to_the_orders(client: FlaskClient, seller: Seller) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by someone else"  # a fixation attempt
    response = _login_form(client, "ATELIER@example.fr", PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/commandes"
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{seller.id}:1"
        assert session.permanent
    page = client.get("/commandes")
    assert page.status_code == 200
    assert "Bienvenue, L&#39;Atelier de Lina." in page.get_data(as_text=True)


def test_login_goes_back_to_the_page_asked_for_but_never_elsewhere(app: Flask, seller: Seller) -> None:
    client = app.test_client()
    first = client.get("/commandes/UQ-2026-000001")
    assert first.status_code == 302
    assert first.headers["Location"] == "/connexion?next=/commandes/UQ-2026-000001"
    response = _login_form(client, seller.email, PASSWORD, next="/commandes/UQ-2026-000001")
    assert response.headers["Location"] == "/commandes/UQ-2026-000001"

    for target in ("//evil.example/phish", "https://evil.example/", "/\\evil.example"):
        other = _login_form(app.test_client(), seller.email, PASSWORD, next=target)
        assert other.headers["Location"] == "/commandes", target


def test_wrong_password_and_unknown_email_get_the_same_answer(client: FlaskClient, seller: Seller) -> None:
    wrong = _login_form(client, seller.email, "not the password")
    unknown = _login_form(client, "nobody@example.fr", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "E-mail ou mot de passe incorrect." in response.get_data(as_text=True)
    assert client.get("/commandes").status_code == 302
    # What was typed stays, except the password.
    assert 'value="nobody@example.fr"' in unknown.get_data(as_text=True)


def test_an_inactive_seller_cannot_log_in(client: FlaskClient, make_seller: Callable[..., Seller]) -> None:
    make_seller("ferme@example.fr", active=False)
    response = _login_form(client, "ferme@example.fr", PASSWORD)
    assert response.status_code == 422
    assert "désactivé" in response.get_data(as_text=True)


def test_logout_ends_the_session_even_for_a_copied_cookie(app: Flask, sc: SellerClient,
                                                          seller: Seller) -> None:
    assert sc.get("/commandes").status_code == 200
    with sc.client.session_transaction() as session:
        stolen = dict(session)
    response = sc.post("/deconnexion")
    assert response.status_code == 303
    assert response.headers["Location"] == "/connexion"
    assert sc.get("/commandes").status_code == 302
    # Someone replays the session as it was before the logout: refused.
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(stolen)
    assert thief.get("/commandes").status_code == 302
    db.session.refresh(seller)
    assert seller.session_version == 2


def test_logout_is_a_post_with_its_token(sc: SellerClient) -> None:
    assert sc.get("/deconnexion").status_code == 405
    refused = sc.post("/deconnexion", csrf=False)
    assert refused.status_code == 400
    assert "jeton de sécurité manquant" in refused.get_data(as_text=True)
    assert sc.get("/commandes").status_code == 200


def test_an_idle_session_expires(sc: SellerClient, clock: Clock) -> None:
    assert sc.get("/commandes").status_code == 200
    clock.advance(minutes=100)
    assert sc.get("/commandes").status_code == 200  # activity keeps it alive…
    clock.advance(minutes=100)
    assert sc.get("/commandes").status_code == 200
    clock.advance(minutes=121)  # …idleness ends it (SESSION_IDLE_MINUTES = 120)
    response = sc.get("/commandes")
    assert response.status_code == 302
    login = sc.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Votre session a expiré" in login


def test_a_stale_session_version_is_refused(sc: SellerClient, seller: Seller) -> None:
    assert sc.get("/commandes").status_code == 200
    seller.session_version += 1  # e.g. the password was changed elsewhere
    db.session.commit()
    assert sc.get("/commandes").status_code == 302


def test_a_deactivated_seller_is_logged_out(sc: SellerClient, seller: Seller) -> None:
    seller.active = False
    db.session.commit()
    assert sc.get("/commandes").status_code == 302


def test_a_malformed_session_id_is_anonymous(client: FlaskClient, seller: Seller) -> None:
    for value in (str(seller.id), f"{seller.id}:x", "abc:1", f"{seller.id + 99}:1"):
        with client.session_transaction() as session:
            session["_user_id"] = value
            session["seen"] = 0
        assert client.get("/commandes").status_code == 302, value


def test_htmx_requests_without_a_session_are_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/commandes", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/connexion")


def test_root_leads_to_the_orders_or_the_login(client: FlaskClient, sc: SellerClient) -> None:
    assert client.get("/").headers["Location"].startswith("/connexion")
    assert sc.get("/").headers["Location"] == "/commandes"


def test_repeated_failures_are_refused_for_a_while(client: FlaskClient, seller: Seller) -> None:
    for _ in range(5):
        assert _login_form(client, seller.email, "").status_code == 422
    refused = _login_form(client, seller.email, PASSWORD)  # even the right password, for now
    assert refused.status_code == 429
    body = refused.get_data(as_text=True)
    assert "Trop de tentatives de connexion" in body
    assert "Retry-After" in refused.headers
    # Another account from the same address is not blocked by this one's failures.
    assert _login_form(client, "autre@example.fr", "").status_code == 422


def test_an_address_is_refused_after_many_failures_on_any_account(client: FlaskClient) -> None:
    for n in range(20):
        assert _login_form(client, f"essai{n}@example.fr", "").status_code == 422
    assert _login_form(client, "encore@example.fr", "").status_code == 429


def test_successful_logins_are_not_counted(app: Flask, seller: Seller) -> None:
    for _ in range(6):
        assert _login_form(app.test_client(), seller.email, PASSWORD).status_code == 303


def test_login_works_over_https_with_the_referrer_our_pages_send(client: FlaskClient, seller: Seller) -> None:
    """Flask-WTF requires a same-site Referer on HTTPS posts: our pages must let it through."""
    page = client.get("/connexion", base_url="https://shop.example")
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = csrf_token(page.get_data(as_text=True))
    response = client.post("/connexion", base_url="https://shop.example",
                           headers={"Referer": "https://shop.example/connexion"},
                           data={"email": seller.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303


def test_login_sets_a_last_seen_stamp(app: Flask, client: FlaskClient, seller: Seller, clock: Clock) -> None:
    _login_form(client, seller.email, PASSWORD)
    with client.session_transaction() as session:
        assert session["seen"] == int(clock.now.timestamp())


def test_helper_session_matches_a_real_login(login: Callable[..., SellerClient], seller: Seller) -> None:
    sc = login(seller)
    assert sc.get("/commandes").status_code == 200
    log_in(sc.client, seller, seen=0)  # a stamp from long ago
    assert sc.get("/commandes").status_code == 302


def test_https_posts_without_a_referrer_are_refused_by_flask_wtf(client: FlaskClient,
                                                                 seller: Seller) -> None:
    """Why our pages send Referrer-Policy: same-origin (a `no-referrer` page makes the browser send
    none): Flask-WTF's strict HTTPS check refuses a form post that comes without a Referer."""
    page = client.get("/connexion", base_url="https://shop.example")
    token = csrf_token(page.get_data(as_text=True))
    refused = client.post("/connexion", base_url="https://shop.example",
                          data={"email": seller.email, "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 400
