"""The Redis connection settings the jobs use: short timeouts, so a Redis that is down or
hung costs a seller action about a second, never a hang.

The RQ worker raises the read timeout on its own connection for its blocking dequeue.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SOCKET_CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 1.0
_TIMEOUTS = {"socket_connect_timeout": SOCKET_CONNECT_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT}


def with_short_timeouts(connection: str | dict[str, Any]) -> str | dict[str, Any]:
    """`RQ_CONNECTION` (a redis:// URL or keyword arguments of redis.Redis) with the timeouts
    added, unless the operator set them already."""
    if isinstance(connection, dict):
        return {**_TIMEOUTS, **connection}
    if "://" not in connection:
        return connection  # a Flask-RQ reference to another named connection
    parts = urlsplit(connection)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for name, value in _TIMEOUTS.items():
        query.setdefault(name, str(value))
    return urlunsplit(parts._replace(query=urlencode(query)))
