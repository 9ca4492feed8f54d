"""SMTP connections: opened with a socket timeout, and kept between deliveries in a worker.

The project speaks SMTP itself with the standard library's smtplib (no Flask-Mail): a
connection has a socket timeout (a server that accepts the TCP connection and then never
answers must not block a worker forever), and one connection carries a whole batch of
already composed messages (compose.py writes their bytes directly).

A delivery uses one connection for its batch. Inside `connections_kept()` (the background
worker, around its loop of jobs) the connection a delivery ends with in good order is kept
for the next delivery of the same thread, which checks it with RSET before use: a job then
costs no TCP connection, greeting, EHLO, STARTTLS or login. A kept connection older than
KEEP_SECONDS, for other settings, or that fails its RSET is closed and a new one opened;
nothing had been sent over it, so no e-mail counts a try for it.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

# Everything that means "the server could not be used right now".
CONNECTION_ERRORS = (OSError, smtplib.SMTPException)
# Servers close idle connections (RFC 5321 suggests 5 minutes): older ones are not tried.
KEEP_SECONDS = 60.0

_SETTINGS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_SSL", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD",
             "MAIL_TIMEOUT")


class _Kept(threading.local):
    keeping = False
    connection: tuple[tuple[Any, ...], smtplib.SMTP, float] | None = None  # settings, it, since


_kept = _Kept()


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
    except smtplib.SMTPException:  # the server answered: say goodbye
        close_quietly(conn)
        raise
    except BaseException:  # it did not (timeout, reset, the job's time is up): just close
        conn.close()
        raise
    return conn


def close_quietly(conn: smtplib.SMTP | None) -> None:
    if conn is None:
        return
    try:
        conn.quit()
    except CONNECTION_ERRORS:
        conn.close()


@contextlib.contextmanager
def connections_kept() -> Iterator[None]:
    """Within: this thread's deliveries hand their connection on to the next one."""
    _kept.keeping = True
    try:
        yield
    finally:
        _kept.keeping = False
        kept, _kept.connection = _kept.connection, None
        if kept is not None:
            close_quietly(kept[1])


def connect(config: Mapping[str, Any], *, ehlo_name: str) -> smtplib.SMTP:
    """The kept connection if it still answers, else a new one (see open_connection)."""
    kept, _kept.connection = _kept.connection, None
    if kept is not None:
        settings, conn, since = kept
        if settings == _settings(config, ehlo_name) and time.monotonic() - since < KEEP_SECONDS:
            try:
                if conn.rset()[0] == 250:
                    return conn
            except CONNECTION_ERRORS:
                pass
        conn.close()  # no QUIT: it may be half-open, a QUIT would wait for the timeout
    return open_connection(config, ehlo_name=ehlo_name)


def done_with(conn: smtplib.SMTP | None, config: Mapping[str, Any], *, ehlo_name: str,
              reusable: bool) -> None:
    """Keep `conn` for the next delivery (inside connections_kept(), `reusable`: between two
    messages, no answer awaited), else close it."""
    if conn is None:
        return
    if reusable and _kept.keeping and getattr(conn, "sock", None) is not None:
        _kept.connection = (_settings(config, ehlo_name), conn, time.monotonic())
    else:
        close_quietly(conn)


def _settings(config: Mapping[str, Any], ehlo_name: str) -> tuple[Any, ...]:
    return (*(config.get(name) for name in _SETTINGS), ehlo_name)
