"""« Paramètres »: the shop's name, payment instructions, notification e-mail, language, password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from uniqu3.extensions import db
from uniqu3.models import OutboxEmail, Seller
from uniqu3.passwords import verify_password

from .conftest import SellerClient

NEW_PASSWORD = "un nouveau mot de passe"


def fresh(seller: Seller) -> Seller:
    db.session.expire_all()
    found = db.session.get(Seller, seller.id)
    assert found is not None
    return found


def test_the_page_shows_the_current_settings_with_labels(sc: SellerClient) -> None:
    html = sc.get("/parametres").get_data(as_text=True)
    for label in ("Nom de la boutique", "Instructions de paiement montrées au client",
                  "E-mail de notification (facultatif)", "Langue", "Mot de passe actuel"):
        assert label in html
    assert 'value="L&#39;Atelier de Lina"' in html
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in html
    assert '<option value="fr" selected>Français</option>' in html


def test_saving_the_settings(sc: SellerClient, seller: Seller) -> None:
    response = sc.post("/parametres", {"shop_name": "  Atelier Lina  ",
                                       "payment_instructions": "PayPal : lina@example.fr",
                                       "notification_email": "commandes@lina.example.fr", "locale": "en"})
    assert response.status_code == 303
    seller = fresh(seller)
    assert seller.shop_name == "Atelier Lina"
    assert seller.payment_instructions == "PayPal : lina@example.fr"
    assert seller.notify_address == "commandes@lina.example.fr"
    assert seller.locale == "en"
    assert sc.get("/parametres").status_code == 200


def test_an_empty_notification_email_means_the_login_email(sc: SellerClient, seller: Seller) -> None:
    sc.post("/parametres", {"shop_name": "Atelier", "notification_email": "", "locale": "fr"})
    assert fresh(seller).notify_address == "atelier@example.fr"


def test_bad_settings_are_refused_with_the_input_kept(sc: SellerClient, seller: Seller) -> None:
    response = sc.post("/parametres", {"shop_name": "", "payment_instructions": "x" * 2001,
                                       "notification_email": "pas-une-adresse", "locale": "de"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Indiquez le nom de votre boutique." in html
    assert "Les instructions de paiement ont au plus 2000 caractères." in html
    assert "Adresse e-mail invalide." in html
    assert "Choisissez une langue de la liste." in html
    assert 'value="pas-une-adresse"' in html
    assert 'aria-invalid="true" aria-describedby="notification_email-hint notification_email-err"' in html
    assert fresh(seller).shop_name == "L'Atelier de Lina"


def test_changing_the_password_ends_other_sessions_but_not_this_one(
    sc: SellerClient, seller: Seller, login: Callable[..., SellerClient]
) -> None:
    elsewhere = login(seller)
    assert elsewhere.get("/commandes").status_code == 200
    response = sc.post("/parametres/mot-de-passe", {"current_password": PASSWORD,
                                                    "new_password": NEW_PASSWORD,
                                                    "new_password_confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert "Mot de passe changé" in sc.get("/parametres").get_data(as_text=True)
    assert sc.get("/commandes").status_code == 200
    assert elsewhere.get("/commandes").status_code == 302
    seller = fresh(seller)
    assert seller.session_version == 2
    assert verify_password(seller.password_hash, NEW_PASSWORD)


def test_password_change_refusals(sc: SellerClient, seller: Seller) -> None:
    cases = [
        ({"current_password": "wrong", "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
         "Mot de passe actuel incorrect."),
        ({"current_password": PASSWORD, "new_password": "court", "new_password_confirm": "court"},
         "Le mot de passe doit contenir au moins 10 caractères."),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": "autre chose"},
         "Les deux mots de passe ne sont pas identiques."),
        ({"current_password": PASSWORD, "new_password": PASSWORD, "new_password_confirm": PASSWORD},
         "Le nouveau mot de passe doit être différent de l&#39;actuel."),
    ]
    for form, message in cases:
        response = sc.post("/parametres/mot-de-passe", form)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        assert PASSWORD not in html and NEW_PASSWORD not in html  # never echoed back
    assert fresh(seller).session_version == 1


def test_guessing_the_current_password_is_slowed_down(sc: SellerClient) -> None:
    form = {"current_password": "", "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    for _ in range(5):
        assert sc.post("/parametres/mot-de-passe", form).status_code == 422
    refused = sc.post("/parametres/mot-de-passe", form)
    assert refused.status_code == 429
    assert "Trop de tentatives" in refused.get_data(as_text=True)


def test_settings_need_the_csrf_token(sc: SellerClient, seller: Seller) -> None:
    response = sc.post("/parametres", {"shop_name": "Pirate", "locale": "fr"}, csrf=False)
    assert response.status_code == 400
    assert fresh(seller).shop_name == "L'Atelier de Lina"


def test_the_shop_name_refuses_line_breaks_and_control_characters(sc: SellerClient, seller: Seller) -> None:
    """The same rule as `flask admin create-seller`: what goes in the From of every buyer's
    e-mail is one line of printable text."""
    for name in ("Atelier\r\nBcc: victime@example.com", "Atelier\nLina", "Atelier\x07", "Atelier\u2028Lina",
                 "Atelier\x1b[31m"):
        response = sc.post("/parametres", {"shop_name": name, "locale": "fr"})
        assert response.status_code == 422, repr(name)
        assert "sans retour à la ligne ni caractère de contrôle" in response.get_data(as_text=True)
        assert fresh(seller).shop_name == "L'Atelier de Lina"
    accepted = sc.post("/parametres", {"shop_name": "Atelier « Lina » & Cie 🎁", "locale": "fr"})
    assert accepted.status_code == 303


def test_a_common_password_is_refused_in_the_settings(sc: SellerClient, seller: Seller) -> None:
    for common in ("aaaaaaaaaa", "azertyuiop123", "atelier@example.fr"):
        response = sc.post("/parametres/mot-de-passe", {"current_password": PASSWORD, "new_password": common,
                                                        "new_password_confirm": common})
        assert response.status_code == 422, common
        assert "Ce mot de passe est trop courant" in response.get_data(as_text=True)
    assert fresh(seller).session_version == 1


@pytest.mark.parametrize("address", ["commandes@lïna.example.fr", "cömmandes@lina.example.fr",
                                     "commandes..lina@example.fr"])
def test_a_notification_email_the_mailer_cannot_use_is_refused(
    sc: SellerClient, seller: Seller, address: str
) -> None:
    # The settings once took anything shaped like a@b.c: these addresses were saved, and every
    # notification to them then failed in the mailer.
    response = sc.post("/parametres", {"shop_name": "Atelier", "notification_email": address, "locale": "fr"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<p class="error" id="notification_email-err">Adresse e-mail invalide.</p>' in html
    assert fresh(seller).notify_address == "atelier@example.fr"


def test_a_notification_email_accepted_is_one_the_seller_is_mailed_at(
    sc: SellerClient, seller: Seller, make_order: Callable[..., Any]
) -> None:
    address = '"commandes lina"@example.fr'  # unusual (a quoted local part) but valid
    response = sc.post("/parametres", {"shop_name": "Atelier", "locale": "fr", "notification_email": address})
    assert response.status_code == 303
    order = make_order(fresh(seller))
    e1 = db.session.scalar(select(OutboxEmail).where(OutboxEmail.order_id == order.id,
                                                     OutboxEmail.recipient_role == "seller"))
    assert e1 is not None and (e1.to_email, e1.status, e1.last_error) == (address, "sent", "")
