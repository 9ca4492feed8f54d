"""A new seller's first steps in a real browser, in French and in English: « Mot de passe
oublié » from the login page, the link from the e-mail (the dev mailbox), a new password, then
the first-login checklist until everything is set."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import cached_hash
from uniqu3.extensions import db
from uniqu3.models import Seller

from .conftest import LiveServer, new_page, script_errors

pytestmark = pytest.mark.browser

TEXTS = {
    "fr": {"browser": "fr-FR", "forgot": "Mot de passe oublié ?", "send": "Recevoir le lien",
           "sent": "Si un compte vendeur existe pour", "subject": "Choisissez un nouveau mot de passe",
           "new": "Nouveau mot de passe (10 caractères au moins)",
           "again": "Nouveau mot de passe, une seconde fois",
           "save_password": "Enregistrer le nouveau mot de passe",
           "changed": "Mot de passe changé", "password": "Mot de passe", "login": "Se connecter",
           "orders": "Commandes", "checklist": "Avant vos premières commandes",
           "instructions_link": "Vos instructions de paiement",
           "instructions": "Instructions de paiement montrées au client",
           "notification": "E-mail de notification (facultatif)", "return": "Adresse de retour",
           "save": "Enregistrer", "saved": "Paramètres enregistrés."},
    "en": {"browser": "en-GB", "forgot": "Forgot your password?", "send": "Send me the link",
           "sent": "If a seller account exists for", "subject": "Choose a new password",
           "new": "New password (at least 10 characters)", "again": "New password, once more",
           "save_password": "Save the new password", "changed": "Password changed", "password": "Password",
           "login": "Log in", "orders": "Orders", "checklist": "Before your first orders",
           "instructions_link": "Your payment instructions",
           "instructions": "Payment instructions shown to the buyer",
           "notification": "Notification email (optional)", "return": "Return address",
           "save": "Save", "saved": "Settings saved."},
}


def _new_seller(server: LiveServer, locale: str) -> str:
    """As `flask admin create-seller` leaves one: no payment instructions, nothing else set."""
    email = f"nouveau.{locale}@atelier.example.fr"
    with server.app.app_context():
        db.session.add(Seller(email=email, shop_name=f"Atelier Neuf {locale}", locale=locale,
                              password_hash=cached_hash("un mot de passe oublié depuis"),
                              payment_instructions=""))
        db.session.commit()
    return email


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_password_reset_then_first_login_checklist(live_server: LiveServer, browser: Any, artifacts: Path,
                                                   locale: str) -> None:
    from playwright.sync_api import expect

    t = TEXTS[locale]
    email = _new_seller(live_server, locale)
    page = new_page(browser, {"width": 390, "height": 860}, locale=t["browser"])
    errors = script_errors(page, refusals=True)

    def shot(name: str) -> None:
        page.screenshot(path=str(artifacts / f"account-{locale}-{name}.png"), full_page=True, caret="initial")

    # « Mot de passe oublié ? » from the login page.
    page.goto(live_server.url + "/connexion")
    page.get_by_role("link", name=t["forgot"]).click()
    expect(page).to_have_url(re.compile(r"/mot-de-passe-oublie$"))
    page.locator("#email").fill(email)
    shot("01-forgot")
    page.get_by_role("button", name=t["send"]).click()
    expect(page.get_by_role("status").filter(has_text=t["sent"])).to_be_visible()
    shot("02-sent")

    # The e-mail, in the dev mailbox (sent once the answer was out: it may take a moment).
    page.goto(live_server.url + "/dev/mailbox")
    message = page.get_by_role("link", name=re.compile(re.escape(t["subject"])))
    for _ in range(40):
        if message.count():
            break
        page.wait_for_timeout(250)
        page.reload()
    message.first.click()
    link = page.locator("a[href*='/mot-de-passe/']").first.get_attribute("href")
    assert link and link.startswith("http://localhost/mot-de-passe/")

    # The link: a new password (a too common one first, refused).
    page.goto(live_server.url + link.removeprefix("http://localhost"))
    page.get_by_label(t["new"]).fill("azertyuiop1")
    page.get_by_label(t["again"]).fill("azertyuiop1")
    page.get_by_role("button", name=t["save_password"]).click()
    expect(page.locator("#new_password-err")).to_be_visible()
    shot("03-refused")
    page.get_by_label(t["new"]).fill("le chat dort sur le radiateur")
    page.get_by_label(t["again"]).fill("le chat dort sur le radiateur")
    page.get_by_role("button", name=t["save_password"]).click()
    expect(page).to_have_url(re.compile(r"/connexion$"))
    expect(page.locator("#alerts")).to_contain_text(t["changed"])

    # Logged in with it: the checklist comes first.
    page.locator("#email").fill(email)
    page.get_by_label(t["password"], exact=True).fill("le chat dort sur le radiateur")
    page.get_by_role("button", name=t["login"]).click()
    expect(page.get_by_role("heading", name=t["orders"], exact=True)).to_be_visible()
    checklist = page.get_by_role("region", name=t["checklist"])
    expect(checklist).to_be_visible()
    expect(checklist.locator("li.todo")).to_have_count(3)
    shot("04-checklist")

    checklist.get_by_role("link", name=t["instructions_link"]).click()
    expect(page).to_have_url(re.compile(r"/parametres#payment_instructions$"))
    page.get_by_label(t["instructions"]).fill("Virement : IBAN FR76 3000 6000 0112 3456 7890 189")
    page.get_by_label(t["notification"]).fill(email)
    page.get_by_label(t["return"], exact=True).fill("Atelier Neuf\n3 rue des Fleurs\n69001 Lyon")
    page.get_by_role("button", name=t["save"], exact=True).click()
    expect(page.locator("#alerts")).to_contain_text(t["saved"])
    expect(page.get_by_role("region", name=t["checklist"])).to_have_count(0)
    page.get_by_role("link", name=t["orders"], exact=True).first.click()
    expect(page.get_by_role("heading", name=t["orders"], exact=True)).to_be_visible()
    expect(page.get_by_role("region", name=t["checklist"])).to_have_count(0)
    shot("05-done")
    assert errors == []
    page.context.close()
