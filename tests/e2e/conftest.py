"""End-to-end: the app served by a real HTTP server in a thread, driven by Debian's Chromium.

The database is a SQLite file (the server thread and the test share it); CSRF is on, as in
production. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, cached_hash, need_service
from uniqu3 import create_app
from uniqu3.extensions import db
from uniqu3.models import Seller

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SELLER_EMAIL = "lina@atelier.example.fr"
#: Generous waits: the machine may be busy running other tests at the same time.
TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    need_service("Chromium", CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    path = tmp_path_factory.mktemp("e2e") / "e2e.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "WTF_CSRF_ENABLED": True})
    with app.app_context():
        db.create_all()
        db.session.add(Seller(email=SELLER_EMAIL, shop_name="L'Atelier de Lina",
                              password_hash=cached_hash(PASSWORD),
                              payment_instructions="Virement : FR76 3000 6000 0112 3456 7890 189"))
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def new_page(browser: Any, viewport: dict[str, int], *, locale: str = "fr-FR",
             javascript: bool = True) -> Any:
    """A page in a browser context of its own (`page.context.close()` when done), generous waits."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport=viewport, locale=locale, java_script_enabled=javascript).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return page


def script_errors(page: Any, *, refusals: bool = False) -> list[str]:
    """The page's script errors and CSP violations, collected as they happen. `refusals`: the
    journey sends a form that is refused, so the console's « status of 422 » is expected."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not (refusals and "status of 422" in msg.text) else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def submit_login(page: Any, email: str = SELLER_EMAIL, password: str = PASSWORD) -> None:
    """Fill in and send the login form on the page (a seller's page asked for logged out shows it)."""
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def log_in(browser: Any, server: LiveServer, viewport: dict[str, int], *, javascript: bool = True) -> Any:
    """A new page where the seller logs in through the real form, from « Commandes »."""
    page = new_page(browser, viewport, javascript=javascript)
    page.goto(server.url + "/commandes")
    submit_login(page)
    return page
