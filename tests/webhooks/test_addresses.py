"""Production calls only https URLs on the Internet: loopback, private, link-local and reserved
addresses are refused at registration and at delivery (SSRF), every address of a name counts;
development and tests allow them (WEBHOOK_ALLOW_PRIVATE)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import need_service
from tests.webhook_receiver import Receiver, running_receiver
from tests.webhooks.conftest import deliveries
from uniqu3.config import ConfigError, check
from uniqu3.models import WebhookDeliveryStatus
from uniqu3.webhooks.addresses import UnsafeUrl, public, resolve


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.10", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1", "ff02::1",
    "192.0.2.10",
])
def test_addresses_that_are_not_public(address: str) -> None:
    assert not public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address: str) -> None:
    assert public(address)


@pytest.mark.parametrize(("url", "message"), [
    ("http://93.184.216.34/hooks", "Seules les adresses https:// sont acceptées."),
    ("https://127.0.0.1/hooks", "n'est pas publique"),
    ("https://localhost:8443/hooks", "n'est pas publique"),
    ("https://[::1]/hooks", "n'est pas publique"),
    ("https://169.254.169.254/latest/meta-data", "n'est pas publique"),
])
def test_production_refuses(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        resolve(url, allow_private=False)
    assert message in str(refused.value) and refused.value.permanent


def test_development_allows_http_on_loopback() -> None:
    target = resolve("http://localhost:8080/hooks?x=1", allow_private=True)
    assert target.address in ("127.0.0.1", "::1")
    assert (target.host_header, target.path) == ("localhost:8080", "/hooks?x=1")


def test_production_refuses_to_start_with_private_webhooks_allowed() -> None:
    config = {"UNIQU3_PROFILE": "production", "SECRET_KEY": "x" * 40, "BASE_URL": "https://a.example.fr",
              "API_RATE_LIMIT": "1000/minute", "WEBHOOK_ALLOW_PRIVATE": True}
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_PRIVATE"):
        check(config)


def test_create_webhook_refuses_loopback_when_private_addresses_are_not_allowed(
        app: Flask, admin: Callable[..., Any], receiver: Receiver) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    result = admin("create-webhook", receiver.url)
    assert result.exit_code != 0 and "Seules les adresses https:// sont acceptées." in result.output
    result = admin("create-webhook", f"https://127.0.0.1:{receiver.port}/hooks")
    assert result.exit_code != 0 and "n'est pas publique" in result.output
    assert "whsec_" not in result.output


def test_delivery_checks_the_address_again(app: Flask, make_order: Callable[..., Any],
                                           receiver: Receiver, register: Callable[..., str]) -> None:
    register()  # registered while allowed, then the setting is production's
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    make_order()
    (row,) = deliveries()
    assert row.status == WebhookDeliveryStatus.FAILED and "Adresse refusée" in row.last_error
    assert receiver.requests == []


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, list[str | None]]]:
    """An HTTPS receiver on loopback with a self-signed certificate for localhost (trusted by
    no one), which notes the name each client asked for (SNI)."""
    need_service("openssl", shutil.which("openssl") is not None, "the openssl command makes the certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _socket, name, _context: names.append(name)  # type: ignore[assignment,misc,return-value]
    with running_receiver(tls=context) as receiver:
        yield receiver, names


def test_https_names_the_host_and_refuses_a_certificate_no_one_vouches_for(
        make_order: Callable[..., Any], tls_receiver: tuple[Receiver, list[str | None]],
        register: Callable[..., str]) -> None:
    receiver, names = tls_receiver
    register(url=receiver.url)
    make_order()
    (row,) = deliveries()
    assert row.status == WebhookDeliveryStatus.PENDING and row.attempts == 1
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert names == ["localhost"]  # connected to the checked address, TLS for the name
    assert receiver.requests == []  # nothing was sent over an unverified connection
