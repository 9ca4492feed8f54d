"""The message as written on the wire, read back with the standard library's parser."""

from __future__ import annotations

import email
import random
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

import pytest

from uniqu3.mail.compose import InvalidAddress, Mailbox, Sender, compose, mailbox
from uniqu3.mail.render import RenderedEmail

SENDER = Sender.from_config("UNIQU3APP <commandes@uniqu3app.fr>", "https://uniqu3.example")
WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

NAMES = [
    "Camille Martin",
    "L'Atelier de Lina",
    'Camille "Cam" Martin, Lyon',
    "Dr. Back\\slash (home) <x@y.z>: me@example.com",
    "Zoé Lefèvre — Atelier « Brodé »",
    "Atelier 🧵 fil à fil",
    "=?utf-8?q?not_an_encoded_word?=",
    "Éé" * 50,
    "x" * 100,
]
SUBJECTS = [
    "Nouvelle commande UQ-2026-000001",
    "Votre commande UQ-2026-000001 chez L'Atelier de Lina est enregistrée",
    "Paiement reçu — commande UQ-2026-000001",
    "Colis n° 2 expédié — commande " + "très " * 45,
    "word " * 50,
    "=?utf-8?b?Zm9v?= is typed text",
    "100 % = €€€ ✓",
]
TEXT = ("Bonjour Camille,\n\n. a line starting with a dot\n.\nFrom the start of a line\n"
        "trailing spaces   \n" + "long line " * 30 + "\na=b and tab\there\n" + "é" * 200 + "\n")
HTML = '<p style="margin:0">Prix : 34,90\u00a0€ = ok</p>\n<p>' + "x" * 300 + "</p>\n"


def wire(subject: str = "Sujet", text: str = TEXT, html: str = HTML, to: Mailbox | None = None,
         reply_to: Mailbox | None = None, from_name: str = "L'Atelier de Lina via UNIQU3APP") -> bytes:
    return compose(RenderedEmail(subject, text, html), sender=SENDER, from_name=from_name,
                   to=to or mailbox("Camille Martin", "camille@example.fr"), reply_to=reply_to,
                   message_id="<uq7.0123abcd@uniqu3app.fr>", date=WHEN, locale="fr")


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def check_wire_rules(raw: bytes) -> None:
    assert raw.isascii()
    assert b"\r\n" in raw and not re.search(rb"\r(?!\n)|(?<!\r)\n", raw)  # CRLF line ends only
    head, body = raw.split(b"\r\n\r\n", 1)
    for line in head.split(b"\r\n"):
        # RFC 5322: at most 78 characters where a header can be folded (a long word cannot).
        assert len(line) <= 78 or len(line.split(b": ", 1)[-1].split()) == 1, line
        words = re.findall(rb"=\?[^?]+\?[qQbB]\?[^?]*\?=", line)
        assert all(len(word) <= 75 for word in words), line  # RFC 2047
        assert not words or len(line) <= 76, line
    for line in body.split(b"\r\n"):
        assert len(line) <= 76, line  # quoted-printable
    assert head.count(b"MIME-Version: 1.0") == 1


@pytest.mark.parametrize("name", NAMES)
def test_display_names_read_back_as_written(name: str) -> None:
    raw = wire(to=mailbox(name, "camille@example.fr"), reply_to=mailbox(name, "lina@example.fr"),
               from_name=name)
    check_wire_rules(raw)
    msg = parse(raw)
    expected = " ".join(name.split())[:100]
    for header, address in (("To", "camille@example.fr"), ("Reply-To", "lina@example.fr"),
                            ("From", "commandes@uniqu3app.fr")):
        [(shown, sent_to)] = getaddresses([str(msg[header])])
        assert sent_to == address
        if len(expected) <= 20:
            assert shown == expected
        else:
            # A long name takes several encoded words (cut after a space where there is one):
            # mail clients join them as RFC 2047 says; Python's parser adds a space between.
            assert "".join(shown.split()) == "".join(expected.split())


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subjects_read_back_as_written(subject: str) -> None:
    raw = wire(subject=subject)
    check_wire_rules(raw)
    assert str(parse(raw)["Subject"]) == " ".join(subject.split())[:250].strip()


def test_the_message_is_a_text_and_an_html_part_with_transactional_headers() -> None:
    raw = wire()
    check_wire_rules(raw)
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.iter_parts()
    for part, expected in ((text, TEXT), (html, HTML)):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part.get_content().replace("\r\n", "\n") == expected
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert msg["Message-ID"] == "<uq7.0123abcd@uniqu3app.fr>"
    assert parsedate_to_datetime(str(msg["Date"])) == WHEN
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Content-Language"] == "fr"
    assert msg.defects == [] and all(part.defects == [] for part in msg.walk())


def test_a_boundary_never_occurs_in_the_parts() -> None:
    raw = wire(text="--=_ looks like a boundary\n", html="<p>--=_</p>\n")
    boundary = parse(raw).get_boundary()
    assert boundary and raw.count(f"--{boundary}".encode()) == 3


@pytest.mark.parametrize("address", ['"john..doe"@example.fr', "a@[192.0.2.1]", "lina+shop@atelier-lina.fr"])
def test_unusual_but_valid_addresses_are_kept(address: str) -> None:
    raw = wire(to=mailbox("Lina", address))
    assert f"\r\nTo: Lina <{address}>\r\n".encode() in raw
    [to] = parse(raw)["To"].addresses
    assert to.display_name == "Lina" and to.domain == address.rpartition("@")[2]


@pytest.mark.parametrize("address", ["camille@@example", "cämille@example.fr", "camille@exämple.fr",
                                     "a b@example.fr", "camille@example.fr\r\nBcc: x@y.z", "nodomain", ""])
def test_addresses_that_cannot_be_sent_are_refused(address: str) -> None:
    with pytest.raises(InvalidAddress):
        mailbox("Camille", address)


def test_any_body_is_encoded_in_short_lines_and_reads_back() -> None:
    pieces = ["a", "x", " ", "\t", "=", ".", "é", "€", "🧵", "\n", "\r\n", "From "]
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 400)))
        raw = wire(text=text, html=text)
        check_wire_rules(raw)
        expected = "\n".join(text.splitlines()) + "\n"
        for part in parse(raw).iter_parts():
            assert part.get_content().replace("\r\n", "\n") == expected
