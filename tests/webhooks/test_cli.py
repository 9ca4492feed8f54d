"""The operators' commands: create-webhook (its secret once, alone on the last line),
list-webhooks, delete-webhook, webhook-deliveries [--retry ID]; refusals change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select

from tests.conftest import Clock
from tests.webhook_receiver import Receiver
from tests.webhooks.conftest import deliveries
from uniqu3.extensions import db
from uniqu3.models import Seller, WebhookEndpoint

Admin = Callable[..., Result]


def endpoints() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0


def test_create_webhook_prints_the_secret_alone_on_its_last_line(admin: Admin, seller: Seller,
                                                                 receiver: Receiver) -> None:
    result = admin("create-webhook", receiver.url, "--seller", seller.email, "--event", "order.paid")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("whsec_") and " " not in lines[-1]
    assert seller.email in lines[0] and receiver.url in lines[0]
    assert "order.paid" in result.output
    other = admin("create-webhook", receiver.url).output.strip().splitlines()[-1]
    assert other != lines[-1]  # a secret of its own
    assert endpoints() == 2
    # Shown once: never again.
    assert lines[-1] not in admin("list-webhooks").output


@pytest.mark.parametrize(("args", "message"), [
    (["--event", "order.shipped"], "Type d'événement inconnu : order.shipped"),
    (["--seller", "personne@example.fr"], "Aucun vendeur avec l'adresse personne@example.fr"),
])
def test_create_webhook_refuses_a_bad_option_and_creates_nothing(
        admin: Admin, receiver: Receiver, args: list[str], message: str) -> None:
    result = admin("create-webhook", receiver.url, *args)
    assert result.exit_code != 0 and message in result.output
    assert "whsec_" not in result.output
    assert endpoints() == 0


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.fr/hooks", "une URL complète est attendue"),
    ("https://user:pass@example.fr/hooks", "ne doit pas contenir d'identifiant"),
    ("pas une adresse", "une URL complète est attendue"),
])
def test_create_webhook_refuses_a_malformed_url(admin: Admin, url: str, message: str) -> None:
    result = admin("create-webhook", url)
    assert result.exit_code != 0 and message in result.output
    assert endpoints() == 0


def test_list_webhooks_shows_each_endpoints_last_delivery_and_failures(
        admin: Admin, make_order: Callable[..., Any], receiver: Receiver, register: Callable[..., str],
        clock: Clock) -> None:
    assert "Aucun point de réception" in admin("list-webhooks").output
    register()
    make_order()
    receiver.status = 500
    make_order()
    output = admin("list-webhooks").output
    assert receiver.url in output and "(tous les vendeurs)" in output and "actif" in output
    row = output.strip().splitlines()[-1]
    assert "échec (500)" in row
    assert row.split()[-2:] == ["1", "0"]  # one waiting, none failed yet


def test_webhook_deliveries_lists_and_retries_a_failed_one(
        admin: Admin, make_order: Callable[..., Any], receiver: Receiver, register: Callable[..., str],
        clock: Clock) -> None:
    assert "Aucune livraison" in admin("webhook-deliveries").output
    register()
    receiver.status = 410
    make_order()
    (row,) = deliveries()
    output = admin("webhook-deliveries").output
    assert "order.created" in output and "failed" in output and "410" in output
    assert "désactivé" in admin("list-webhooks").output
    receiver.status = 204
    result = admin("webhook-deliveries", "--retry", str(row.id))
    assert result.exit_code == 0, result.output
    assert f"1 livraison(s) remise(s) en file d'envoi : {row.id}." in result.output
    assert receiver.types() == ["order.created"]
    assert len({r.message_id for r in receiver.requests}) == 1  # the same webhook-id again
    assert "actif" in admin("list-webhooks").output  # turned back on
    again = admin("webhook-deliveries", "--retry", str(row.id))
    assert again.exit_code != 0 and "déjà reçue" in again.output
    missing = admin("webhook-deliveries", "--retry", "999")
    assert missing.exit_code != 0 and "introuvable(s) : 999" in missing.output


def test_delete_webhook(admin: Admin, make_order: Callable[..., Any], receiver: Receiver,
                        register: Callable[..., str]) -> None:
    register()
    receiver.status = 500
    make_order()
    assert len(deliveries()) == 1
    (endpoint_id,) = db.session.scalars(select(WebhookEndpoint.id))
    result = admin("delete-webhook", str(endpoint_id))
    assert result.exit_code == 0 and "supprimé" in result.output
    assert endpoints() == 0 and deliveries() == []
    make_order()
    assert len(receiver.requests) == 1
    again = admin("delete-webhook", str(endpoint_id))
    assert again.exit_code != 0 and f"Aucun point de réception n° {endpoint_id}" in again.output
