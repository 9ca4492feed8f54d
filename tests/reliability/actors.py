"""The people of the app, over HTTP: a seller who logs in and acts from the order page, a
buyer who confirms receipt from the e-mail's link, the storefront that pushes orders.

They speak to a Flask test client or to a real server alike (`Web` is the one method both
need), so the same scenario runs in-process and against gunicorn.
"""

from __future__ import annotations

import copy
import http.client
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from tests.api.conftest import EXAMPLE_BODY

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_tracking = itertools.count(20_000_000_001)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class Web(Protocol):
    def request(self, method: str, path: str, *, form: dict[str, str] | None = None,
                body: Any = None, headers: dict[str, str] | None = None) -> Answer: ...


class ClientWeb:
    """A Flask test client (cookies kept), as `Web`."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None,
                body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if form is not None:
            kwargs["data"] = form
        if body is not None:
            kwargs["json"] = body
        response = self.client.open(path, method=method, **kwargs)
        return Answer(response.status_code, dict(response.headers), response.get_data(as_text=True))


class HttpWeb:
    """A real HTTP client (http.client, one keep-alive connection) with a cookie jar of one site."""

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, *, form: dict[str, str] | None = None,
                body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        sent = dict(headers or {})
        payload: bytes | None = None
        if form is not None:
            payload = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=payload, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed meanwhile: once more on a new one.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, cookie = pair.partition("=")
                if "expires=thu, 01 jan 1970" in value.lower() or not cookie:
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = cookie.strip()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return Answer(response.status, {k: v for k, v in response.getheaders()},
                      data.decode("utf-8", errors="replace"))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def csrf_from(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@dataclass
class SellerAgent:
    """A seller in a browser without JavaScript: GET the page, POST its form, follow the 303."""

    web: Web
    email: str
    password: str
    token: str = ""
    answers: list[Answer] = field(default_factory=list)

    def _keep(self, answer: Answer) -> Answer:
        self.answers.append(answer)
        return answer

    def get(self, path: str, **headers: str) -> Answer:
        return self._keep(self.web.request("GET", path, headers=headers))

    def post(self, path: str, form: dict[str, str], *, csrf: bool = True) -> Answer:
        data = dict(form)
        if csrf:
            data.setdefault("csrf_token", self.token)
        return self._keep(self.web.request("POST", path, form=data))

    def log_in(self) -> Answer:
        page = self.get("/connexion")
        self.token = csrf_from(page.body)
        answer = self.post("/connexion", {"email": self.email, "password": self.password})
        if answer.status == 303:
            # A new session means a new token: take it from the next page.
            self.token = csrf_from(self.get("/parametres").body)
        return answer

    def pay(self, reference: str, note: str = "") -> Answer:
        return self.post(f"/commandes/{reference}/paiement", {"note": note})

    def cancel(self, reference: str, reason: str = "") -> Answer:
        return self.post(f"/commandes/{reference}/annulation", {"reason": reason})

    def ship(self, reference: str, quantities: dict[int, int], *, carrier: str = "colissimo",
             tracking_number: str | None = None) -> Answer:
        form = {f"qty_{line_id}": str(qty) for line_id, qty in quantities.items()}
        number = tracking_number if tracking_number is not None else (
            f"6A{next(_tracking):011d}" if carrier == "colissimo" else "")
        form.update(carrier=carrier, tracking_number=number, request_key=str(uuid.uuid4()))
        return self.post(f"/commandes/{reference}/expedition", form)

    def request_receipt(self, reference: str, number: int) -> Answer:
        return self.post(f"/commandes/{reference}/colis/{number}/reception", {})


def buyer_confirms(web: Web, token: str, user_agent: str = "Thunderbird") -> Answer:
    """Open the e-mail's link, press « J'ai bien reçu ma commande »."""
    page = web.request("GET", f"/r/{token}", headers={"User-Agent": user_agent})
    if page.status != 200 or 'name="csrf_token"' not in page.body:
        return page
    return web.request("POST", f"/r/{token}", form={"csrf_token": csrf_from(page.body)},
                       headers={"User-Agent": user_agent})


def order_body(external_id: str, seller: str, *, lines: int = 2, quantity: int = 2) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE_BODY)
    body["external_id"] = external_id
    body["seller"] = seller
    body["lines"] = [{"sku": f"SKU-{i}", "title": f"Article {i}", "quantity": quantity,
                      "unit_price": "12.50"} for i in range(1, lines + 1)]
    return body


def post_order(web: Web, key: str, body: dict[str, Any]) -> Answer:
    return web.request("POST", "/api/v1/orders", body=body, headers={"Authorization": f"Bearer {key}"})
