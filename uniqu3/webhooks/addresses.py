"""Which webhook URLs may be called: in production only https, and never an address of the
machine or its networks (a registered URL must not let anyone reach the database, Redis or a
cloud's metadata service: SSRF). Development and tests allow both (WEBHOOK_ALLOW_PRIVATE).

The host is resolved and EVERY address it has is checked; the request then goes to the
address that was checked (sending.py), so a name that changes meanwhile cannot point it
elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ..carriers import N_

MAX_URL = 2000


class UnsafeUrl(Exception):
    """The URL may not be called. `template` and `params`: a French message to translate."""

    def __init__(self, template: str, *, permanent: bool = True, **params: Any) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params
        # False: the host could not be resolved now; it may work later.
        self.permanent = permanent


@dataclass(frozen=True)
class Target:
    """A URL checked: where to connect (`address`) and what to name (`host`, for TLS and Host)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def check_url(url: str, *, allow_private: bool) -> SplitResult:
    """The URL's shape: http(s), a host, no user:password; https unless `allow_private`."""
    if not url or len(url) > MAX_URL or any(ch.isspace() for ch in url):
        raise UnsafeUrl(N_("Adresse invalide : une URL complète est attendue (https://…), de %(max)d "
                        "caractères au plus."), max=MAX_URL)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as exc:
        raise UnsafeUrl(N_("Adresse invalide : %(error)s."), error=str(exc)) from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl(N_("Adresse invalide : une URL complète est attendue (https://…)."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl(N_("L'adresse ne doit pas contenir d'identifiant ni de mot de passe."))
    if parts.scheme != "https" and not allow_private:
        raise UnsafeUrl(N_("Seules les adresses https:// sont acceptées."))
    return parts


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check the URL and resolve its host; every address must be public unless `allow_private`."""
    parts = check_url(url, allow_private=allow_private)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrl(N_("Le nom %(host)s ne se résout pas (%(error)s)."), permanent=False,
                        host=host, error=str(exc)) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise UnsafeUrl(N_("Le nom %(host)s ne se résout pas."), permanent=False, host=host)
    if not allow_private:
        for address in addresses:
            if not public(address):
                raise UnsafeUrl(N_("L'adresse %(address)s de %(host)s n'est pas publique (réseau local, "
                                "machine elle-même ou adresse réservée) : refusée."),
                                address=address, host=host)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])


def public(address: str) -> bool:
    """An address on the Internet: not loopback, private, link-local, shared, reserved,
    multicast or unspecified (an IPv4 address written as IPv6 is judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
