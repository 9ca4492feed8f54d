"""One webhook request: a POST of the stored body, signed for this try, to the checked address.

urllib3 rather than a higher-level client: it connects to the address `addresses.resolve`
checked while naming the host for TLS (SNI and certificate) and in `Host`, follows no redirect
and retries nothing by itself (the outbox does). The connections are kept for the run of a
deliverer (`Connections`), so a batch to one receiver reuses one.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime

import urllib3
from standardwebhooks.webhooks import Webhook

from .addresses import Target

#: The start of the receiver's answer kept with a failed try.
ANSWER_KEPT = 300
#: A longer answer is not read: the connection is dropped instead.
ANSWER_READ_LIMIT = 64 * 1024
USER_AGENT = "UNIQU3APP-Webhooks/1.0"
NO_BODY = (204, 304)


@dataclass
class Answer:
    status: int
    text: str


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


@dataclass
class Connections:
    """urllib3 pools of one deliverer run, one per checked address and host."""

    pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = field(default_factory=dict)

    def pool(self, target: Target, timeout: float) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, target.host, target.port, target.address)
        found = self.pools.get(key)
        if found is None:
            wait = urllib3.Timeout(connect=timeout, read=timeout)
            if target.scheme == "https":
                found = urllib3.HTTPSConnectionPool(
                    target.address, target.port, timeout=wait, maxsize=1, retries=False,
                    server_hostname=target.host, assert_hostname=target.host,
                    ssl_context=ssl.create_default_context())
            else:
                found = urllib3.HTTPConnectionPool(target.address, target.port, timeout=wait,
                                                   maxsize=1, retries=False)
            self.pools[key] = found
        return found

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()


def post(connections: Connections, target: Target, *, secret: str, message_id: str, body: bytes,
         timeout: float) -> Answer:
    """POST `body` to `target`, signed now. Raises urllib3's errors (timeout, connection)."""
    headers = {
        **signed_headers(secret, message_id, body, datetime.now(UTC)),
        "Content-Type": "application/json",
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
    }
    response = connections.pool(target, timeout).urlopen(
        "POST", target.path, body=body, headers=headers, redirect=False, retries=False,
        preload_content=False, assert_same_host=False)
    try:
        length = response.length_remaining
        # A body sent with a 204 (some servers do) would be read as the next answer's start.
        if length is not None and length <= ANSWER_READ_LIMIT and response.status not in NO_BODY:
            text = response.read(decode_content=False)[:ANSWER_KEPT].decode("utf-8", "replace")
            response.release_conn()
        else:  # unknown or long: the start only, and this connection is not reused
            text = response.read(ANSWER_KEPT, decode_content=False).decode("utf-8", "replace")
            response.close()
    except BaseException:
        response.close()
        raise
    return Answer(status=response.status, text=text)
