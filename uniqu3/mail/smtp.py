"""One SMTP connection per batch, opened with a socket timeout.

Flask-Mail opens connections without a timeout, so a server that accepts the TCP
connection and then never answers would block a worker forever; we open it ourselves.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from typing import Any

# Everything that means "the server could not be used right now".
CONNECTION_ERRORS = (OSError, smtplib.SMTPException)


def open_connection(config: Mapping[str, Any], *, ehlo_name: str) -> smtplib.SMTP:
    """Connect, say EHLO, STARTTLS and log in as configured; raise CONNECTION_ERRORS on failure."""
    host = config["MAIL_SERVER"]
    port = int(config.get("MAIL_PORT") or 25)
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    conn: smtplib.SMTP
    if config.get("MAIL_USE_SSL"):
        conn = smtplib.SMTP_SSL(host, port, local_hostname=ehlo_name, timeout=timeout,
                                context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(host, port, local_hostname=ehlo_name, timeout=timeout)
    try:
        conn.ehlo()
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        if config.get("MAIL_USERNAME"):
            conn.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        close_quietly(conn)
        raise
    return conn


def close_quietly(conn: smtplib.SMTP | None) -> None:
    if conn is None:
        return
    try:
        conn.quit()
    except CONNECTION_ERRORS:
        conn.close()
