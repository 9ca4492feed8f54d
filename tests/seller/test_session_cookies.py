"""A session cookie whose signature a process has checked is not checked again, and is still
refused exactly when Flask would refuse it: changed, too old, or signed with a key no longer
listed."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from uniqu3.session_cookies import KeptSessionInterface

from .conftest import SellerClient

LOGIN = "/connexion"


def _cookie(sc: SellerClient) -> str:
    """The session's cookie once settled (the first page gives the session its CSRF secret)."""
    sc.get("/commandes")
    cookie = sc.client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _with_cookie(sc: SellerClient, value: str) -> str:
    """Where /commandes sends this cookie's bearer: "" when it shows the list."""
    sc.client.set_cookie("session", value)
    response = sc.get("/commandes")
    return "" if response.status_code == 200 else response.headers["Location"]


def test_signed_in_pages_keep_working_on_the_kept_cookie(app: Flask, sc: SellerClient) -> None:
    assert isinstance(app.session_interface, KeptSessionInterface)
    cookie = _cookie(sc)
    for _ in range(3):
        assert _with_cookie(sc, cookie) == ""
    assert _cookie(sc) == cookie  # nothing written back: the session did not change


def test_a_cookie_changed_by_one_character_is_refused_after_the_original_was_kept(
        sc: SellerClient) -> None:
    cookie = _cookie(sc)
    assert _with_cookie(sc, cookie) == ""  # checked, and kept
    payload, stamp, signature = cookie.rsplit(".", 2)
    # The first character: the last one of base64 may carry unused bits only.
    changed = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _with_cookie(sc, f"{payload}.{stamp}.{changed}").startswith(LOGIN)
    assert _with_cookie(sc, f"{payload}.{stamp}.{signature}x").startswith(LOGIN)
    assert _with_cookie(sc, cookie) == ""  # the original still opens the list


def test_a_kept_cookie_expires_when_flask_says_it_does(app: Flask, sc: SellerClient,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cookie = _cookie(sc)
    assert _with_cookie(sc, cookie) == ""
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    signed_at = int(time.time())
    monkeypatch.setattr(time, "time", lambda: signed_at + lifetime - 5)
    assert _with_cookie(sc, cookie) == ""
    monkeypatch.setattr(time, "time", lambda: signed_at + lifetime + 5)
    assert _with_cookie(sc, cookie).startswith(LOGIN)
    # Flask's own check, without the kept cookie, says the same.
    app.session_interface = SecureCookieSessionInterface()
    assert _with_cookie(sc, cookie).startswith(LOGIN)


def test_a_cookie_signed_in_the_future_is_refused(app: Flask, sc: SellerClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cookie = _cookie(sc)
    assert _with_cookie(sc, cookie) == ""
    now = int(time.time())
    monkeypatch.setattr(time, "time", lambda: now - 60)  # the clock set back a minute
    assert _with_cookie(sc, cookie).startswith(LOGIN)


def test_kept_cookies_follow_the_signing_keys(app: Flask, sc: SellerClient) -> None:
    cookie = _cookie(sc)
    former = app.config["SECRET_KEY"]
    assert _with_cookie(sc, cookie) == ""
    app.config.update(SECRET_KEY="the-new-key-after-rotation-0123456789", SECRET_KEY_FALLBACKS=[])
    assert _with_cookie(sc, cookie).startswith(LOGIN)  # its key was rotated out
    app.config["SECRET_KEY_FALLBACKS"] = [former]
    assert _with_cookie(sc, cookie) == ""  # listed again: good again


def test_a_session_holding_messages_is_read_anew_each_time(app: Flask) -> None:
    """Messages to show are a list, changed in place by `flash`: each request gets its own."""
    interface = app.session_interface
    serializer = interface.get_signing_serializer(app)
    assert serializer is not None
    cookie = serializer.dumps({"_flashes": [["info", "Bonjour"]]})
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}) as context:
        first = interface.open_session(app, context.request)
        assert first is not None
        first["_flashes"].append(("info", "Encore"))
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}) as context:
        again = interface.open_session(app, context.request)
        assert again is not None
        assert again["_flashes"] == [["info", "Bonjour"]]
