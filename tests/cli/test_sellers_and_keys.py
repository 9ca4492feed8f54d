"""create-seller, list-sellers, (de)activate-seller, create/list/revoke-api-key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.api.conftest import ORDERS_URL, bearer, order_body
from uniqu3.extensions import db
from uniqu3.models import ApiKey, Order, Seller
from uniqu3.passwords import verify_password

Admin = Callable[..., Result]
NEW_PASSWORD = "un mot de passe solide"


def seller_by_email(email: str) -> Seller | None:
    return db.session.scalar(select(Seller).where(Seller.email == email))


# ----------------------------------------------------------------------------- create-seller
def test_create_seller_reads_the_password_from_stdin(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", "--shop-name", "L'Atelier de Lina",
                   "--payment-instructions", "Virement : FR76 …", "--password-stdin",
                   input=NEW_PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert "lina@example.fr" in result.output
    seller = seller_by_email("lina@example.fr")
    assert seller is not None
    assert seller.shop_name == "L'Atelier de Lina"
    assert seller.payment_instructions == "Virement : FR76 …"
    assert seller.active and seller.locale == "fr"
    assert verify_password(seller.password_hash, NEW_PASSWORD)
    assert NEW_PASSWORD not in result.output


def test_create_seller_asks_the_password_twice_hidden(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Confirmez le mot de passe" in result.output
    seller = seller_by_email("lina@example.fr")
    assert seller is not None
    assert seller.shop_name == "lina"
    assert verify_password(seller.password_hash, NEW_PASSWORD)


@pytest.mark.parametrize("email", ["lïna@example.fr", "lina..atelier@example.fr"])
def test_create_seller_refuses_an_address_the_mailer_cannot_use(admin: Admin, email: str) -> None:
    result = admin("create-seller", email, "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 1
    assert f"Adresse e-mail invalide : {email}" in result.output
    assert seller_by_email(email) is None


def test_create_seller_refuses_a_confirmation_that_differs(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", input=f"{NEW_PASSWORD}\nautre chose 123\n")
    assert result.exit_code == 1
    assert seller_by_email("lina@example.fr") is None


def test_create_seller_prompt_asks_again_for_a_short_password(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr",
                   input=f"court\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "au moins 10 caractères" in result.output


def test_create_seller_refuses_a_short_password_from_stdin(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", "--password-stdin", input="court\n")
    assert result.exit_code == 1
    assert "au moins 10 caractères" in result.output
    assert "Traceback" not in result.output
    assert seller_by_email("lina@example.fr") is None


def test_create_seller_refuses_an_empty_stdin(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", "--password-stdin", input="")
    assert result.exit_code == 1
    assert "Aucun mot de passe" in result.output


def test_the_password_cannot_be_given_on_the_command_line(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", "--password", NEW_PASSWORD)
    assert result.exit_code != 0
    assert seller_by_email("lina@example.fr") is None


def test_create_seller_refuses_a_taken_email_whatever_its_case(admin: Admin, seller: Seller) -> None:
    result = admin("create-seller", "Atelier@Example.fr", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 1
    assert "existe déjà" in result.output
    assert db.session.scalar(select(func.count()).select_from(Seller)) == 1


def test_create_seller_refuses_an_invalid_email(admin: Admin) -> None:
    result = admin("create-seller", "pas-une-adresse", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 1
    assert "Adresse e-mail invalide" in result.output


def test_create_seller_refuses_a_shop_name_too_long(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", "--shop-name", "x" * 121, "--password-stdin",
                   input=NEW_PASSWORD + "\n")
    assert result.exit_code == 1
    assert "Nom de boutique invalide" in result.output


# ----------------------------------------------------------------------------- list / (de)activate
def test_list_sellers_shows_each_seller_and_their_orders(
    admin: Admin, make_order: Callable[..., Order], make_seller: Callable[..., Seller]
) -> None:
    make_order()
    make_order()
    make_seller("autre@example.fr", shop_name="Autre boutique", active=False)
    result = admin("list-sellers")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    atelier = next(line for line in lines if "atelier@example.fr" in line)
    assert "L'Atelier de Lina" in atelier and "actif" in atelier and " 2 " in atelier
    other = next(line for line in lines if "autre@example.fr" in line)
    assert "désactivé" in other


def test_list_sellers_when_there_is_none(admin: Admin) -> None:
    result = admin("list-sellers")
    assert result.exit_code == 0
    assert "Aucun vendeur" in result.output


def test_deactivate_seller_refuses_new_orders_and_ends_sessions(
    admin: Admin, seller: Seller, client: FlaskClient
) -> None:
    key = admin("create-api-key").output.splitlines()[-1]
    version = seller.session_version

    result = admin("deactivate-seller", "ATELIER@example.fr")

    assert result.exit_code == 0, result.output
    db.session.refresh(seller)
    assert seller.active is False
    assert seller.session_version == version + 1
    response = client.post(ORDERS_URL, json=order_body(), headers=bearer(key))
    assert response.status_code == 422
    assert "inactif" in response.get_json()["error"]["fields"]["seller"][0]

    again = admin("deactivate-seller", "atelier@example.fr")
    assert again.exit_code == 0 and "déjà désactivé" in again.output

    assert admin("activate-seller", "atelier@example.fr").exit_code == 0
    db.session.refresh(seller)
    assert seller.active is True
    assert client.post(ORDERS_URL, json=order_body(), headers=bearer(key)).status_code == 201


def test_deactivating_an_unknown_seller_is_an_error(admin: Admin) -> None:
    result = admin("deactivate-seller", "personne@example.fr")
    assert result.exit_code == 1
    assert "Aucun vendeur" in result.output
    assert admin("activate-seller", "personne@example.fr").exit_code == 1


# ----------------------------------------------------------------------------- API keys
def test_create_api_key_prints_the_key_alone_on_the_last_line_and_it_works(
    admin: Admin, seller: Seller, client: FlaskClient
) -> None:
    result = admin("create-api-key", "--name", "vitrine")

    assert result.exit_code == 0, result.output
    key = result.output.rstrip("\n").splitlines()[-1]
    assert key.startswith("uq_live_") and " " not in key
    response = client.post(ORDERS_URL, json=order_body(), headers=bearer(key))
    assert response.status_code == 201
    row = db.session.scalar(select(ApiKey))
    assert row is not None and row.name == "vitrine" and row.seller_id is None


def test_a_key_for_a_seller_is_bound_to_it(admin: Admin, seller: Seller,
                                           make_seller: Callable[..., Seller],
                                           client: FlaskClient) -> None:
    make_seller("autre@example.fr")
    result = admin("create-api-key", "--seller", "atelier@example.fr")
    assert result.exit_code == 0, result.output
    key = result.output.splitlines()[-1]
    row = db.session.scalar(select(ApiKey))
    assert row is not None and row.seller_id == seller.id
    assert row.name == "vendeur atelier@example.fr"
    assert client.post(ORDERS_URL, json=order_body(seller="autre@example.fr"),
                       headers=bearer(key)).status_code == 422
    assert client.post(ORDERS_URL, json=order_body(), headers=bearer(key)).status_code == 201


def test_create_api_key_for_an_unknown_seller_is_an_error(admin: Admin) -> None:
    result = admin("create-api-key", "--seller", "personne@example.fr")
    assert result.exit_code == 1
    assert "Aucun vendeur" in result.output
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_list_api_keys_never_shows_the_key(admin: Admin, seller: Seller) -> None:
    key = admin("create-api-key", "--name", "vitrine").output.splitlines()[-1]
    admin("create-api-key", "--seller", seller.email)

    result = admin("list-api-keys")

    assert result.exit_code == 0
    assert key not in result.output
    secret = key.split("_", 3)[3]
    assert secret not in result.output
    row = db.session.scalar(select(ApiKey).where(ApiKey.name == "vitrine"))
    assert row is not None
    assert f"uq_live_{row.prefix}…" in result.output
    assert "(marketplace)" in result.output and seller.email in result.output


def test_revoke_api_key_by_prefix_then_the_key_is_refused(
    admin: Admin, seller: Seller, client: FlaskClient
) -> None:
    key = admin("create-api-key").output.splitlines()[-1]
    prefix = key.split("_")[2]

    result = admin("revoke-api-key", prefix)

    assert result.exit_code == 0, result.output
    assert "révoquée" in result.output
    response = client.post(ORDERS_URL, json=order_body(), headers=bearer(key))
    assert response.status_code == 401
    listing = admin("list-api-keys").output
    assert "révoquée le" in listing
    again = admin("revoke-api-key", f"uq_live_{prefix}…")
    assert again.exit_code == 0 and "déjà révoquée" in again.output


def test_revoke_api_key_by_id(admin: Admin) -> None:
    admin("create-api-key")
    row = db.session.scalar(select(ApiKey))
    assert row is not None
    assert admin("revoke-api-key", str(row.id)).exit_code == 0
    db.session.refresh(row)
    assert row.revoked_at is not None


def test_revoking_an_unknown_key_is_an_error(admin: Admin) -> None:
    for wrong in ("42", "nothing", "uq_live_", "²", "99999999999999999999"):
        result = admin("revoke-api-key", wrong)
        assert result.exit_code == 1
        assert "Aucune clé" in result.output



def test_create_seller_refuses_a_shop_name_with_a_line_break(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", "--shop-name", "Atelier\u2028Lina", "--password-stdin",
                   input="un mot de passe solide\n")
    assert result.exit_code == 1
    assert "sans retour à la ligne ni caractère de contrôle" in result.output


def test_create_seller_refuses_a_common_password(admin: Admin) -> None:
    result = admin("create-seller", "lina@example.fr", "--password-stdin", input="aaaaaaaaaa\n")
    assert result.exit_code == 1
    assert "Ce mot de passe est trop courant" in result.output
    assert seller_by_email("lina@example.fr") is None
