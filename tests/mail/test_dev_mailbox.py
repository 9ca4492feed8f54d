"""`/dev/mailbox`: without SMTP, a newcomer reads the e-mails and follows their links."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests.buyer.conftest import page_text
from uniqu3 import create_app
from uniqu3.extensions import db
from uniqu3.mail import deliver
from uniqu3.models import OutboxEmail, OutboxStatus
from uniqu3.workflow import Actor, Workflow


def test_the_mailbox_lists_the_emails_newest_first(
    client: FlaskClient, wf: Workflow, make_order: Any
) -> None:
    order = make_order()
    deliver()
    wf.confirm_payment(order.id, actor=Actor.seller("atelier@example.fr"))  # E3, not delivered yet
    response = client.get("/dev/mailbox")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    text = page_text(response.text)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", response.text)
    assert [(to, kind.split(" ")[0]) for _, to, kind in rows] == [
        ("camille@example.fr", "E3"), ("camille@example.fr", "E2"), ("atelier@example.fr", "E1")]
    assert rows[-1][0] == "20/11/2026 à 10:30"
    assert f"Nouvelle commande {order.reference}" in text
    assert f"Votre commande {order.reference} chez L'Atelier de Lina est enregistrée" in text
    assert "(pas encore envoyé : aperçu)" in text


def test_a_message_shows_both_parts_and_its_links_work(client: FlaskClient, make_order: Any) -> None:
    order = make_order()
    deliver()
    e2 = db.session.scalar(db.select(OutboxEmail).where(OutboxEmail.kind == "E2"))
    assert e2 is not None
    response = client.get(f"/dev/mailbox/{e2.id}")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in text and "PROCHAINE ÉTAPE" in text
    # The HTML part is framed from its own URL, sandboxed, under a CSP of its own.
    frame = re.search(r'<iframe src="([^"]+)" sandbox="([^"]*)"', response.text)
    assert frame and "allow-scripts" not in frame.group(2) and "allow-same-origin" not in frame.group(2)
    raw = client.get(frame.group(1))
    assert raw.status_code == 200 and raw.mimetype == "text/html"
    assert raw.text == e2.body_html
    csp = raw.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert raw.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]  # the page itself
    # The buyer's link, clickable, opens the buyer's page.
    hrefs = re.findall(r'<a href="(http://localhost/o/[^"]+)"', response.text)
    assert hrefs
    page = client.get(urlsplit(hrefs[0]).path)
    assert page.status_code == 200 and order.reference in page.text


def test_an_email_not_sent_yet_is_previewed_without_being_sent(
    client: FlaskClient, make_order: Any
) -> None:
    make_order()
    response = client.get("/dev/mailbox/1")
    assert response.status_code == 200
    assert "aperçu rendu maintenant" in page_text(response.text)
    assert "Nouvelle commande UQ-2026-000001" in page_text(response.text)
    assert client.get("/dev/mailbox/1/html").status_code == 200
    row = db.session.get(OutboxEmail, 1)
    assert row is not None and row.status == OutboxStatus.PENDING and row.body_text is None
    assert client.get("/dev/mailbox/999").status_code == 404


@pytest.mark.parametrize("profile", ["production", "development"])
def test_the_mailbox_exists_only_where_emails_stay_local(
    profile: str, database_url: str, make_order: Any, monkeypatch: Any
) -> None:
    make_order()
    monkeypatch.delenv("MAIL_SERVER", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "a-production-secret-key-of-forty-characters",
                      "BASE_URL": "https://shop.example"}, profile=profile)
    client = app.test_client()
    urls = ("/dev/mailbox", "/dev/mailbox/1", "/dev/mailbox/1/html")
    if profile == "production":
        assert app.config["DEV_MAILBOX"] is False
        assert [client.get(url).status_code for url in urls] == [404, 404, 404]
    else:  # development without an SMTP server
        assert app.config["DEV_MAILBOX"] is True
        assert [client.get(url).status_code for url in urls] == [200, 200, 200]
