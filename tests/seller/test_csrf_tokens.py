"""The pages' CSRF token is signed once per session secret and reused: still accepted, still
bound to its session, and signed anew where tokens expire."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import pytest
from flask import Flask
from itsdangerous.timed import TimestampSigner

from tests.conftest import PASSWORD, Clock
from uniqu3.csrf_tokens import _KEPT
from uniqu3.models import Seller

from .conftest import SellerClient, csrf_token


@pytest.fixture(autouse=True)
def _seconds_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each signature a second after the last: a token signed anew would differ."""
    seconds = count(1_800_000_000)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(seconds))


def _page_token(sc: SellerClient, url: str = "/commandes") -> str:
    return csrf_token(sc.get(url).get_data(as_text=True))


def test_a_session_gets_one_token_on_every_page_and_it_is_accepted(sc: SellerClient) -> None:
    first = _page_token(sc)  # the page that gave the session its CSRF secret signed it
    kept = _page_token(sc, "/parametres")
    assert _page_token(sc) == kept
    assert _page_token(sc, "/commandes?statut=toutes") == kept
    assert sc.client.post("/parametres", data={"csrf_token": first}).status_code != 400
    response = sc.client.post("/deconnexion", data={"csrf_token": kept})
    assert response.status_code == 303  # logged out: the kept token was valid


def test_a_kept_token_stays_bound_to_its_session(login: Callable[..., SellerClient], seller: Seller,
                                                 make_seller: Callable[..., Seller]) -> None:
    mine, other = login(seller), login(make_seller(email="autre@example.com"))
    mine_token, other_token = _page_token(mine), _page_token(other)
    assert mine_token != other_token
    refused = other.client.post("/deconnexion", data={"csrf_token": mine_token})
    assert refused.status_code == 400
    assert other.get("/commandes").status_code == 200  # still logged in


def test_a_new_session_gets_a_new_token_and_the_old_one_is_refused(app: Flask, seller: Seller) -> None:
    client = app.test_client()
    client.get("/connexion")
    before = csrf_token(client.get("/connexion").get_data(as_text=True))
    assert csrf_token(client.get("/connexion").get_data(as_text=True)) == before
    with client.session_transaction() as session:
        session.clear()  # what a login or logout does
    after = csrf_token(client.get("/connexion").get_data(as_text=True))
    assert after != before
    form = {"email": seller.email, "password": PASSWORD}
    assert client.post("/connexion", data={**form, "csrf_token": before}).status_code == 400
    assert client.post("/connexion", data={**form, "csrf_token": after}).status_code == 303


def test_tokens_that_expire_are_signed_each_time(app: Flask, sc: SellerClient) -> None:
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    kept = app.extensions[_KEPT]
    kept.clear()
    token = _page_token(sc)
    assert _page_token(sc) != token  # signed anew: a kept token would outlive its hour
    assert not kept
    assert sc.client.post("/deconnexion", data={"csrf_token": token}).status_code == 303


def test_a_session_ended_for_idleness_signs_in_again_with_the_login_page_token(
        sc: SellerClient, seller: Seller, clock: Clock) -> None:
    """The idle check clears the session before the login page shows its form: that form's
    token is the new session's, not the ended one's kept token."""
    old = _page_token(sc)
    clock.advance(minutes=121)
    page = sc.client.get("/connexion").get_data(as_text=True)
    assert "Votre session a expiré" in page
    token = csrf_token(page)
    assert token != old
    response = sc.client.post("/connexion", data={"email": seller.email, "password": PASSWORD,
                                                  "csrf_token": token})
    assert response.status_code == 303
