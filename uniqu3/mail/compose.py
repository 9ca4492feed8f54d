"""Turn a rendered e-mail into a MIME message with safe headers.

Names and subjects come from people (buyer names, shop names): every header value is
cleaned of control characters and line breaks before it reaches the message, and
addresses are built with `email.headerregistry`, so nothing typed can add a header.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from .render import RenderedEmail
from .text import one_line

NAME_LIMIT = 100
SUBJECT_LIMIT = 250

# Bodies are encoded at 76 columns (quoted-printable) when the message is built; on the wire
# headers are not folded (they are capped well under the 998 limit): Python's folder puts a
# double space before an encoded word at a fold ("est  enregistrée").
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


class InvalidAddress(ValueError):
    """The recipient's address cannot be used in a message (never becomes valid by retrying)."""


def clean_header(value: str | None, limit: int = SUBJECT_LIMIT) -> str:
    """One line of printable text: line breaks and control characters become spaces."""
    return one_line(value, limit)


def mailbox(name: str | None, email: str) -> Address:
    """`Name <email>` as a header object; raises InvalidAddress for a malformed address."""
    email = (email or "").strip()
    if not email or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in email):
        raise InvalidAddress(f"Adresse e-mail invalide : {clean_header(email, 80)!r}")
    try:
        address = Address(display_name=clean_header(name, NAME_LIMIT), addr_spec=email)
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise InvalidAddress(f"Adresse e-mail invalide : {clean_header(email, 80)!r}") from exc
    if not address.username or not address.domain or "." not in address.domain:
        raise InvalidAddress(f"Adresse e-mail invalide : {clean_header(email, 80)!r}")
    return address


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

    def new_message_id(self, outbox_id: int) -> str:
        return make_msgid(idstring=f"uq{outbox_id}", domain=self.domain)


def build_message(
    rendered: RenderedEmail,
    *,
    sender: Sender,
    from_name: str,
    to: Address,
    reply_to: Address | None,
    message_id: str,
    date: datetime,
    locale: str,
) -> EmailMessage:
    """The message as sent: a text part and an HTML part, transactional headers only."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(display_name=clean_header(from_name, NAME_LIMIT), addr_spec=sender.email)
    msg["To"] = to
    if reply_to is not None:
        msg["Reply-To"] = reply_to
    msg["Subject"] = clean_header(rendered.subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    # Sent by a program in answer to an action: out-of-office robots should not answer.
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = clean_header(locale, 10) or "fr"
    msg.set_content(rendered.text, charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def wire_bytes(msg: EmailMessage) -> bytes:
    """The message as sent over SMTP (CRLF line ends)."""
    return msg.as_bytes(policy=WIRE_POLICY)
