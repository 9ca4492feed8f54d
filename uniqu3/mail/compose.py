"""Turn a rendered e-mail into the bytes sent over SMTP, with safe headers.

Names and subjects come from people (buyer names, shop names): every header value is
cleaned of control characters and line breaks before it reaches the message, and an
address is checked (the one address rule of every door, `workflow.rules.email_is_valid`)
before it is written, so nothing typed can add a header.

The message is written directly (no `email.message` object: building and serialising one
cost more than rendering the e-mail): a multipart/alternative with a text and an HTML part,
both UTF-8 in quoted-printable (`binascii.b2a_qp`, lines of at most 76 characters), CRLF line
ends. Header text outside ASCII goes in RFC 2047 encoded words (UTF-8, Q encoding, at most
75 characters each); a header is folded at a space before it passes 76 characters.
tests/mail/test_compose.py reads the messages back with the standard library's parser.
"""

from __future__ import annotations

import binascii
import os
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from urllib.parse import urlsplit

from ..workflow.rules import email_is_valid
from .render import RenderedEmail
from .text import one_line

NAME_LIMIT = 100
SUBJECT_LIMIT = 250

# RFC 5322: header lines SHOULD stay within 78 characters; RFC 2047: a line holding an
# encoded word within 76.
LINE_LIMIT = 76
_WORD_LIMIT = 75  # RFC 2047: an encoded word is at most 75 characters
_WORD_START, _WORD_END = "=?utf-8?q?", "?="

# Characters an encoded word may hold as they are, even in a display name (RFC 2047 §5 (3)).
_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
# A display name made of these (and single spaces) needs no quotes (RFC 5322 atext).
_ATEXT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~ ")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


class InvalidAddress(ValueError):
    """The recipient's address cannot be used in a message (never becomes valid by retrying)."""


def clean_header(value: str | None, limit: int = SUBJECT_LIMIT) -> str:
    """One line of printable text: line breaks and control characters become spaces."""
    return one_line(value, limit)


@dataclass(frozen=True)
class Mailbox:
    """A display name (cleaned) and an ASCII address (checked), ready for a header."""

    name: str
    addr_spec: str

    def header_atoms(self) -> list[str]:
        """The pieces of `Name <address>` that a header may be folded between."""
        if not self.name:
            return [self.addr_spec]
        return [*_phrase(self.name), f"<{self.addr_spec}>"]


def mailbox(name: str | None, email: str) -> Mailbox:
    """`Name <email>` for a header; raises InvalidAddress for an address that cannot be used."""
    email = (email or "").strip()
    if not email_is_valid(email):
        raise _invalid(email)
    return Mailbox(clean_header(name, NAME_LIMIT), email)


def _invalid(email: str) -> InvalidAddress:
    return InvalidAddress(f"Adresse e-mail invalide : {clean_header(email, 80)!r}")


@dataclass(frozen=True)
class Sender:
    """Who the e-mails come from (MAIL_DEFAULT_SENDER) and the domain of their Message-IDs."""

    name: str
    email: str
    domain: str

    @classmethod
    def from_config(cls, default_sender: str | tuple[str, str] | None, base_url: str) -> Sender:
        if isinstance(default_sender, tuple | list):
            name, email = default_sender[0], default_sender[1]
        else:
            name, email = parseaddr(default_sender or "")
        host = urlsplit(base_url or "").hostname or "localhost"
        # A stable domain for Message-IDs: the sender's, else the site's.
        domain = email.rpartition("@")[2] if "@" in email else host
        return cls(name=clean_header(name, NAME_LIMIT) or "UNIQU3APP",
                   email=email or f"no-reply@{domain}", domain=domain)

    def message_id(self, outbox_id: int, unique: str) -> str:
        """`<uq{id}.{unique}@domain>`: given when the row is first claimed, kept for every try."""
        return f"<uq{outbox_id}{self.message_id_end(unique)}"

    def message_id_end(self, unique: str) -> str:
        """What follows the row's id in its Message-ID (`unique`: random, one per claim)."""
        return f".{unique}@{self.domain}>"


def compose(
    rendered: RenderedEmail,
    *,
    sender: Sender,
    from_name: str,
    to: Mailbox,
    reply_to: Mailbox | None,
    message_id: str,
    date: datetime,
    locale: str,
) -> bytes:
    """The message as sent: a text part and an HTML part, transactional headers only."""
    language = (locale or "").replace("_", "-")
    headers = [_from_header(from_name, sender.email), _mailbox_header("To", to)]
    if reply_to is not None:
        headers.append(_mailbox_header("Reply-To", reply_to))
    headers += [
        _header("Subject", _text(clean_header(rendered.subject))),
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
        # Sent by a program in answer to an action: out-of-office robots should not answer.
        "Auto-Submitted: auto-generated",
        f"Content-Language: {language if _LANGUAGE_TAG.fullmatch(language) else 'fr'}",
        "MIME-Version: 1.0",
    ]
    # "=_" never occurs in quoted-printable text, so the boundary cannot appear in a part.
    boundary = "=_" + os.urandom(12).hex()
    head = "\r\n".join(headers).encode("ascii")
    return b"".join((
        head,
        f'\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n--{boundary}\r\n'.encode(),
        b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
        _quoted_printable(rendered.text),
        f"\r\n--{boundary}\r\n".encode(),
        b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
        _quoted_printable(rendered.html),
        f"\r\n--{boundary}--\r\n".encode(),
    ))


# ----------------------------------------------------------------------------- encoding
@lru_cache(maxsize=1024)
def _from_header(name: str, email: str) -> str:
    try:
        return _mailbox_header("From", mailbox(name, email))
    except InvalidAddress as exc:  # the settings', not the recipient's: retried, not failed at once
        raise ValueError(f"MAIL_DEFAULT_SENDER : {exc}") from exc


@lru_cache(maxsize=1024)
def _mailbox_header(field: str, box: Mailbox) -> str:
    # A shop's From and Reply-To come back in every e-mail of a batch: written once.
    return _header(field, box.header_atoms())


def _quoted_printable(text: str) -> bytes:
    """UTF-8 text in quoted-printable with CRLF line ends, ending with a line end."""
    data = text.encode("utf-8", "replace")
    if b"\r" in data:  # every line end becomes one LF, written as CRLF at the end
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    # b2a_qp can end a line with an encoded space or tab ("=20", "=09") one column too far.
    if b"=20\n" in encoded or b"=09\n" in encoded:
        lines = encoded.split(b"\n")
        if max(map(len, lines)) > _QP_LINE:
            encoded = b"\n".join(_qp_rewrapped(line) for line in lines)
    return encoded.replace(b"\n", b"\r\n")


_QP_LINE = 76


def _qp_rewrapped(line: bytes) -> bytes:
    """A quoted-printable line cut with soft breaks into lines of at most 76 characters."""
    pieces = []
    while len(line) > _QP_LINE:
        cut = _QP_LINE - 1  # room for the soft break's "="
        while b"=" in line[cut - 2:cut]:  # not inside an =XX
            cut -= 1
        pieces.append(line[:cut] + b"=")
        line = line[cut:]
    pieces.append(line)
    return b"\n".join(pieces)


def _header(name: str, atoms: list[str]) -> str:
    """`Name: atom atom …`, folded before an atom that would pass LINE_LIMIT."""
    lines: list[str] = []
    line = f"{name}:"
    first = True
    for atom in atoms:
        if not first and len(line) + 1 + len(atom) > LINE_LIMIT:
            lines.append(line)
            line = " " + atom
        else:
            line = f"{line} {atom}"
        first = False
    lines.append(line)
    return "\r\n".join(lines)


def _needs_encoding(text: str) -> bool:
    # "=?" in plain text would be read as the start of an encoded word.
    return not text.isascii() or "=?" in text


def _text(value: str) -> list[str]:
    """Unstructured text (the subject) as header atoms: words, or encoded words."""
    if not value:
        return []
    if _needs_encoding(value):
        return _encoded_words(value, first=LINE_LIMIT - len("Subject: "))
    return value.split(" ")


def _phrase(name: str) -> list[str]:
    """A display name as header atoms: as it is, quoted, or encoded words."""
    if _needs_encoding(name):
        return _encoded_words(name, first=LINE_LIMIT - len("Reply-To: "), at_spaces=True)
    if all(ch in _ATEXT for ch in name):
        return [name]
    return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']


class _QTable(dict[int, str]):
    """`str.translate` table: a character to its Q encoding (itself, `_`, or `=XX` per byte)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in _Q_SAFE:
            piece = ch
        elif ch == " ":
            piece = "_"
        else:
            piece = "".join(f"={byte:02X}" for byte in ch.encode("utf-8", "replace"))
        if len(self) < 4096:
            self[code] = piece
        return piece


_Q_TABLE = _QTable()


def _encoded_words(text: str, *, first: int, at_spaces: bool = False) -> list[str]:
    """`text` as UTF-8 Q encoded words: the first at most `first` characters long, the others
    at most 75; a character is never split between two words. Decoders join adjacent encoded
    words without the space between them. `at_spaces`: cut after a space where there is one
    (Python's parser, unlike RFC 2047 and mail clients, puts a space between two encoded words
    of a display name: a cut inside a word would show as « Brod é »)."""
    encoded = text.translate(_Q_TABLE)
    overhead = len(_WORD_START) + len(_WORD_END)
    room = min(first, _WORD_LIMIT) - overhead
    words: list[str] = []
    start = 0
    while len(encoded) - start > room:
        cut = start + room
        # Not inside an =XX, and not before a UTF-8 continuation byte (=80 to =BF).
        while encoded[cut - 1] == "=" or encoded[cut - 2] == "=" or encoded[cut:cut + 3] in _CONTINUATION:
            cut -= 1
        space = encoded.rfind("_", start, cut) if at_spaces else -1
        if space > start:
            cut = space + 1
        words.append(_WORD_START + encoded[start:cut] + _WORD_END)
        start, room = cut, _WORD_LIMIT - overhead
    words.append(_WORD_START + encoded[start:] + _WORD_END)
    return words


_CONTINUATION = frozenset(f"={hi}{lo}" for hi in "89AB" for lo in "0123456789ABCDEF")
