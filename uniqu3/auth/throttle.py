"""Slowing down password guessing, and the e-mails a form can make the app send.

Every limit of the app is counted here, with `limits` directly: the login, the reset requests,
the password change, the buyer's problem reports, and the API keys (`uniqu3/api/guard.py`).

A login is counted against three limits: the client and the e-mail typed (5 a minute), the
client alone (20 an hour, any e-mail), and the account alone (10 an hour, from every address:
many addresses guessing at one account are one attacker). A client is its address, or its /64
network for IPv6 (one subscriber's addresses all share it).

Counting is atomic: an attempt first takes its place in every counter (an INCR), and only then
is the password checked; an attempt that a counter refuses gives back what it took, and so does
a successful login (only failures count: a seller who logs in often is never blocked). So 20
guesses sent at once get exactly the limit through, not whatever passed before the first was
counted.

The counters live in RATELIMIT_STORAGE_URI (`limits`' fixed windows): Redis in production,
shared by every web process. Without Redis, or while it cannot be reached, they are kept in the
memory of each web process (with `gunicorn -w 2`, an attacker gets twice the figures above).

An account locked by guesses stays open to its owner: « Mot de passe oublié » sends a link,
and a password changed through it clears the account's counter.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)

EXTENSION_KEY = "uniqu3.throttle"


@dataclass(frozen=True)
class Limit:
    """A rate (`limits` notation) for one kind of counter."""

    scope: str
    rate: str

    @property
    def item(self) -> RateLimitItem:
        return _items(self.rate)


_PARSED: dict[str, RateLimitItem] = {}


def _items(rate: str) -> RateLimitItem:
    if rate not in _PARSED:
        _PARSED[rate] = parse(rate)
    return _PARSED[rate]


LOGIN_CLIENT_ACCOUNT = Limit("login-client-account", "5/minute")
LOGIN_CLIENT = Limit("login-client", "20/hour")
LOGIN_ACCOUNT = Limit("login-account", "10/hour")
# « Mot de passe oublié »: each request may send an e-mail.
RESET_CLIENT = Limit("reset-client", "10/hour")
RESET_ACCOUNT = Limit("reset-account", "3/hour")
# The current password, guessed from the settings page of an open session.
PASSWORD_CHANGE = Limit("password-change", "5/minute")
# « Signaler un problème »: each report may e-mail the seller and the buyer.
BUYER_REPORT = Limit("buyer-report", "10/hour")


class Throttled(Exception):
    """Over a limit: nothing was counted; `retry_after` seconds until it may pass again."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(limit.scope)
        self.limit = limit
        self.retry_after = max(1, retry_after)


@dataclass
class Counters:
    """One app's counters: its storage, and a memory fallback for when that storage fails."""

    storage: Storage
    fallback: FixedWindowRateLimiter = field(default_factory=lambda: FixedWindowRateLimiter(MemoryStorage()))
    enabled: bool = True

    def __post_init__(self) -> None:
        self.primary = FixedWindowRateLimiter(self.storage)

    def _call(self, method: str, *args: object, **kwargs: object) -> object:
        try:
            return getattr(self.primary, method)(*args, **kwargs)
        except Exception as exc:  # Redis down or hung: count in this process meanwhile
            log.warning("Rate limit storage unavailable (%s: %s): counting in this process's memory.",
                        type(exc).__name__, exc)
            return getattr(self.fallback, method)(*args, **kwargs)

    def hit(self, limit: Limit, key: str, cost: int = 1) -> bool:
        return bool(self._call("hit", limit.item, limit.scope, key, cost=cost))

    def give_back(self, limit: Limit, key: str) -> None:
        # A fixed window's counter is a plain number: taking one back is an increment of -1.
        self._call("hit", limit.item, limit.scope, key, cost=-1)

    def clear(self, limit: Limit, key: str) -> None:
        self._call("clear", limit.item, limit.scope, key)

    def retry_after(self, limit: Limit, key: str) -> int:
        stats = self._call("get_window_stats", limit.item, limit.scope, key)
        reset = getattr(stats, "reset_time", 0.0)
        return int(reset - time.time()) + 1


def init_app(app: Flask) -> None:
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    storage = storage_from_string(uri, **options)
    assert isinstance(storage, Storage)  # the URI names a synchronous storage (not async+…)
    app.extensions[EXTENSION_KEY] = Counters(storage,
                                             enabled=bool(app.config.get("RATELIMIT_ENABLED", True)))


def counters() -> Counters:
    return current_app.extensions[EXTENSION_KEY]


def client_key(address: str | None = None) -> str:
    """The client: its IPv4 address, or its IPv6 /64 network."""
    raw = address if address is not None else (request.remote_addr or "")
    try:
        ip = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return raw[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def account_key(email: str) -> str:
    return email.strip().lower()[:254]


@dataclass
class Attempt:
    """The places an attempt took; `succeeded()` gives them back."""

    taken: list[tuple[Limit, str]]

    def succeeded(self) -> None:
        active = counters()
        for limit, key in self.taken:
            active.give_back(limit, key)
        self.taken = []


def take(checks: Iterable[tuple[Limit, str]]) -> Attempt:
    """A place in each counter, or Throttled (and nothing taken) if one is full."""
    active = counters()
    if not active.enabled:
        return Attempt([])
    taken: list[tuple[Limit, str]] = []
    for limit, key in checks:
        if active.hit(limit, key):
            taken.append((limit, key))
            continue
        for other in [*taken, (limit, key)]:
            active.give_back(*other)
        raise Throttled(limit, active.retry_after(limit, key))
    return Attempt(taken)


def login_attempt(email: str) -> Attempt:
    client, account = client_key(), account_key(email)
    return take([(LOGIN_CLIENT_ACCOUNT, f"{client}|{account}"), (LOGIN_CLIENT, client),
                 (LOGIN_ACCOUNT, account)])


def reset_request(email: str) -> Attempt:
    return take([(RESET_CLIENT, client_key()), (RESET_ACCOUNT, account_key(email))])


def password_change(seller_id: int) -> Attempt:
    return take([(PASSWORD_CHANGE, str(seller_id))])


def buyer_report() -> Attempt:
    # Every report counts, a recorded one too: what the limit spares the seller is the e-mails.
    return take([(BUYER_REPORT, client_key())])


def unlock_account(email: str) -> None:
    """The owner proved who they are (a reset link): the guesses at the account are forgotten."""
    active = counters()
    account = account_key(email)
    active.clear(LOGIN_ACCOUNT, account)
    active.clear(LOGIN_CLIENT_ACCOUNT, f"{client_key()}|{account}")
