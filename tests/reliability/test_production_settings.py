"""What production refuses to start with: a weak former key, no https BASE_URL, and the
development profile under a server that is not the development server."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from tests.reliability.conftest import GUNICORN, ROOT, Figures, free_port, process_env
from tests.seller.conftest import IsolatedClient
from uniqu3 import create_app
from uniqu3.config import DEV_SECRET_KEY, ConfigError
from uniqu3.models import Seller
from uniqu3.tokens import order_token

pytestmark = pytest.mark.reliability

SECRET = "a-production-secret-key-of-enough-length-0123456789"
FORMER = "the-former-production-key-of-enough-length-987654321"
HTTPS = "https://shop.example"


def _production(app_config: dict[str, Any], **overrides: Any) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": app_config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": SECRET,
                       "BASE_URL": HTTPS, **overrides}, profile="production")


def started_anyway(make_app: Callable[[], Flask], setting: str) -> list[str]:
    """[] when making the app is refused for `setting` (ConfigError), else what started."""
    try:
        app = make_app()
    except ConfigError as refusal:
        assert setting in str(refusal), refusal
        return []
    return [f"started: {app.name}"]


def _forged_session(key: str, seller: Seller) -> str:
    """A session cookie signed with `key`, as someone who knows it would make it."""
    forger = Flask("forger")
    forger.config.update(SECRET_KEY=key, SECRET_KEY_FALLBACKS=[])
    signer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert signer is not None
    return str(signer.dumps({"_user_id": seller.get_id(), "_fresh": True, "seen": int(time.time())}))


@pytest.mark.parametrize("fallback", [DEV_SECRET_KEY, "short-former-key", ""])
def test_production_refuses_a_weak_former_key(app_config: dict[str, Any], fallback: str,
                                              figures: Figures) -> None:
    figures.record_findings("production_weak_fallback", {"started": started_anyway(
        lambda: _production(app_config, SECRET_KEY_FALLBACKS=[FORMER, fallback]), "SECRET_KEY_FALLBACKS")},
        variants=1)


def test_a_strong_former_key_keeps_old_links_and_sessions_working(
    app_config: dict[str, Any], app: Flask, seller: Seller,
) -> None:
    """Key rotation as the README tells it: what the former key signed still opens."""
    before = _production(app_config, SECRET_KEY=FORMER)
    with before.app_context():
        link = f"/o/{order_token(1)}"
    after = _production(app_config, SECRET_KEY_FALLBACKS=[FORMER])
    client = IsolatedClient(after, after.response_class, use_cookies=True)
    client.set_cookie("session", _forged_session(FORMER, seller), domain="shop.example")
    assert client.get("/commandes", base_url=HTTPS).status_code == 200
    # The order does not exist, but the link is read: « introuvable », not « lien invalide ».
    assert client.get(link, base_url=HTTPS).status_code == 404


def test_the_development_key_opens_nothing_in_production(app_config: dict[str, Any], app: Flask,
                                                         seller: Seller) -> None:
    """What the attack did: a session forged with the public development key."""
    production = _production(app_config)
    client = IsolatedClient(production, production.response_class, use_cookies=True)
    client.set_cookie("session", _forged_session(DEV_SECRET_KEY, seller), domain="shop.example")
    assert client.get("/commandes", base_url=HTTPS).status_code == 302


@pytest.mark.parametrize("base_url", ["", "http://commandes.example.fr", "https://", "commandes.example.fr"])
def test_production_refuses_a_base_url_that_is_not_public_https(
    app_config: dict[str, Any], base_url: str, figures: Figures,
) -> None:
    figures.record_findings("production_base_url", {"started": started_anyway(
        lambda: _production(app_config, BASE_URL=base_url), "BASE_URL")}, variants=1)


def test_production_without_base_url_in_the_environment_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", SECRET)
    with pytest.raises(ConfigError, match="BASE_URL"):
        create_app(profile="production")
    monkeypatch.setenv("BASE_URL", "https://commandes.example.fr/")
    assert create_app(profile="production").config["BASE_URL"] == "https://commandes.example.fr"


def _gunicorn(tmp_path: Path, **settings: str) -> tuple[int, str]:
    """gunicorn started as the Procfile's web line, for a few seconds: its exit code (None
    while it still runs) and its log."""
    env = process_env(f"sqlite:///{tmp_path / 'g.sqlite'}", **settings)
    for name in [name for name, value in settings.items() if value == "<unset>"]:
        env.pop(name, None)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen([GUNICORN, "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            code = process.wait(timeout=8)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=20)
            code = -1
    return code, log.read_text()


def test_gunicorn_refuses_the_development_profile_it_was_not_asked_for(tmp_path: Path,
                                                                       figures: Figures) -> None:
    code, log = _gunicorn(tmp_path, UNIQU3_ENV="<unset>")
    figures.record_findings("development_profile_under_gunicorn",
                            {"started": [log[-2000:]] if code in (0, -1) else []}, variants=1)
    assert "UNIQU3_ENV" in log and "development profile" in log


def test_gunicorn_runs_the_development_profile_asked_for_with_a_loud_warning(tmp_path: Path) -> None:
    code, log = _gunicorn(tmp_path, UNIQU3_ENV="development")
    assert code == -1, log  # still serving when stopped
    assert "WARNING" in log and "development profile" in log and "/dev/mailbox" in log


def test_procfile_runs_the_web_process_in_production() -> None:
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert "UNIQU3_ENV=production" in web
