"""Who may do what, systematically.

The matrix takes every route of the seller and sign-in blueprints from `app.url_map` (a new
route cannot escape it) and every method it accepts, and tries it as seller B on seller A's
order (404), as a visitor without a session (to the login page), and as A without the CSRF
token (400). Then the API's keys, the throttled login behind a proxy, session fixation,
logout and idle timeout, the security headers of every HTML page, the dev mailbox and the
secret key in production.
"""

from __future__ import annotations

import html
import re
import subprocess
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import PASSWORD, Clock, order_input
from tests.reliability.actors import csrf_from
from tests.reliability.conftest import FLASK, ROOT, Figures, process_env
from tests.reliability.test_faults_database import snapshot
from tests.seller.conftest import IsolatedClient, log_in
from uniqu3 import apikeys, create_app
from uniqu3.config import DEV_SECRET_KEY, ConfigError
from uniqu3.extensions import db
from uniqu3.models import Order, Seller, Shipment
from uniqu3.tokens import receipt_token
from uniqu3.workflow import Actor, Workflow

pytestmark = pytest.mark.reliability

MATRIX_BLUEPRINTS = ("seller", "auth")
PUBLIC_PAGES = {"auth.login", "auth.forgot_password", "auth.reset_password"}
SECRET = "a-production-secret-key-of-enough-length-0123456789"
HTML_HEADERS = {
    "Content-Security-Policy": "script-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "",
    "Permissions-Policy": "",
}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


class HeaderCheck:
    """Every HTML response seen by the tests carries the security headers (what is missing
    or wrong is counted, and fails the test once recorded)."""

    def __init__(self) -> None:
        self.checked = 0
        self.missing: list[str] = []

    def __call__(self, response: Any, *, framed_by_us: bool = False) -> Any:
        if response.mimetype == "text/html" and response.get_data():
            for name, must_contain in HTML_HEADERS.items():
                value = response.headers.get(name)
                if framed_by_us and name == "X-Frame-Options":
                    must_contain = "SAMEORIGIN"  # the dev mailbox frames the e-mail's HTML
                if framed_by_us and name == "Content-Security-Policy":
                    must_contain = "sandbox"  # …which may not run anything at all
                if value is None or must_contain not in value:
                    self.missing.append(f"{name}: {value!r} on {response.request.path}")
            self.checked += 1
        return response


@pytest.fixture
def headers_checked(figures: Figures) -> Any:
    check = HeaderCheck()
    yield check
    figures.record_findings("security_headers", {"missing": check.missing},
                            html_responses_checked=check.checked)


@pytest.fixture
def two_shops(wf: Workflow, make_seller: Callable[..., Seller]) -> dict[str, Any]:
    """Seller A with an order (paid, one parcel shipped, a line still to ship), seller B."""
    a = make_seller("a@example.fr", shop_name="Boutique A")
    b = make_seller("b@example.fr", shop_name="Boutique B")
    order = wf.place_order(order_input(a.email, "MKT-A-1", buyer_name="Zoé Confidentielle"),
                           actor=Actor.api("shop")).order
    wf.confirm_payment(order.id, actor=Actor.seller(a.email))
    first = min(order.lines, key=lambda line: line.position)
    wf.ship(order.id, actor=Actor.seller(a.email), carrier="hand_delivery", quantities={first.id: 1})
    wf.place_order(order_input(b.email, "MKT-B-1"), actor=Actor.api("shop"))
    return {"a": a, "b": b, "order": order, "reference": order.reference}


def matrix_routes(app: Flask, reference: str) -> list[tuple[str, str, str, bool]]:
    """(endpoint, method, url, names A's order) for every route of the matrix's blueprints."""
    # A reset link that is not one (a real one is a capability, like any reset link: whoever
    # holds it may use it; tests/seller/test_password_reset.py checks what it opens).
    values = {"reference": reference, "number": 1, "token": "not-a-reset-link"}
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] not in MATRIX_BLUEPRINTS:
                continue
            unknown = set(rule.arguments) - set(values)
            assert not unknown, f"{rule.rule}: add its arguments {unknown} to the access matrix"
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append((rule.endpoint, method, url, "reference" in rule.arguments))
    return routes


def client_for(app: Flask, seller: Seller | None) -> tuple[FlaskClient, str]:
    client = app.test_client()
    if seller is not None:
        log_in(client, seller)
        page = "/parametres"
    else:
        page = "/connexion"
    return client, csrf_from(client.get(page).get_data(as_text=True))


def test_every_seller_route_is_closed_to_other_sellers_visitors_and_forged_posts(
    app: Flask, two_shops: dict[str, Any], headers_checked: HeaderCheck, figures: Figures,
) -> None:
    a, b, reference = two_shops["a"], two_shops["b"], two_shops["reference"]
    routes = matrix_routes(app, reference)
    assert {endpoint for endpoint, *_ in routes} >= {
        "auth.login", "auth.logout", "seller.orders", "seller.order_detail", "seller.settings",
        "seller.confirm_payment", "seller.cancel", "seller.ship", "seller.request_receipt"}
    as_b, b_token = client_for(app, b)
    as_a, _ = client_for(app, a)
    before = snapshot()
    cases: Counter[str] = Counter()
    leaks: list[str] = []  # whatever got through: counted, recorded, then the test fails

    def expect(closed: bool, what: str) -> None:
        if not closed:
            leaks.append(what)

    for endpoint, method, url, names_a_order in routes:
        where = f"{method} {url} ({endpoint})"
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            # Seller B, with a valid token of B's own session.
            if endpoint != "auth.logout":  # B logging out is B's business, tried last
                form = {"csrf_token": b_token} if method == "POST" else None
                answer = headers_checked(as_b.open(url, method=method, headers=headers, data=form))
                body = answer.get_data(as_text=True)
                if names_a_order:
                    expect(answer.status_code == 404, f"{where}: {answer.status_code} to seller B")
                else:
                    assert answer.status_code < 500, where
                expect(reference not in body and "Zoé Confidentielle" not in html.unescape(body),
                       f"{where}: A's order shown to seller B")
                cases["other seller"] += 1
            # A visitor without a session (with a CSRF token of the visitor's own session).
            visitor, visitor_token = client_for(app, None)
            form = {"csrf_token": visitor_token} if method == "POST" else None
            answer = headers_checked(visitor.open(url, method=method, headers=headers, data=form))
            if endpoint in PUBLIC_PAGES:
                assert answer.status_code in (200, 404, 422), where  # public: login, forgotten password
            elif htmx and endpoint.startswith("seller."):
                expect(answer.status_code == 401
                       and answer.headers.get("HX-Redirect", "").startswith("/connexion"),
                       f"{where}: {answer.status_code} to a visitor (htmx)")
            else:
                expect(answer.status_code in (302, 303)
                       and answer.headers.get("Location", "").startswith("/connexion"),
                       f"{where}: {answer.status_code} to a visitor")
            cases["visitor"] += 1
            # Seller A on A's own order, but a post without the CSRF token.
            if method == "POST":
                answer = headers_checked(as_a.open(url, method=method, headers=headers, data={"x": "1"}))
                expect(answer.status_code == 400
                       and "jeton de sécurité" in html.unescape(answer.get_data(as_text=True)),
                       f"{where}: {answer.status_code} to a post without the CSRF token")
                cases["no csrf token"] += 1
    expect(snapshot() == before, "someone else's request changed A's order")
    expect(as_a.get("/commandes").status_code == 200, "a forged logout ended A's session")

    # Control: the same URLs are A's own — A gets through (else the 404s above prove nothing).
    a_token = csrf_from(as_a.get("/parametres").get_data(as_text=True))
    for endpoint, method, url, names_a_order in routes:
        if names_a_order:
            answer = as_a.open(url, method=method, data={"csrf_token": a_token} if method == "POST" else None,
                               headers={"HX-Request": "true"})
            assert answer.status_code in (200, 303, 422), (endpoint, answer.status_code)
            cases["owner control"] += 1
    figures.record_findings("access_matrix", {"leaks": leaks}, routes=len(routes), cases=sum(cases.values()),
                            **cases)


def test_the_api_refuses_missing_revoked_and_foreign_keys(
    app: Flask, client: FlaskClient, two_shops: dict[str, Any], clock: Clock, figures: Figures,
) -> None:
    a, b, reference = two_shops["a"], two_shops["b"], two_shops["reference"]
    _, marketplace = apikeys.create_key(db.session, name="storefront", now=clock())
    _, key_b = apikeys.create_key(db.session, name="b", seller=b, now=clock())
    revoked_row, revoked = apikeys.create_key(db.session, name="old", now=clock())
    apikeys.revoke_key(db.session, revoked_row, now=clock())
    body = {"external_id": "MKT-API-X", "seller": a.email,
            "buyer": {"name": "X", "email": "x@example.fr"},
            "billing_address": {"name": "X", "line1": "1 rue", "line2": "", "postal_code": "75001",
                                "city": "Paris", "country": "FR"},
            "shipping_address": {"name": "X", "line1": "1 rue", "line2": "", "postal_code": "75001",
                                 "city": "Paris", "country": "FR"},
            "currency": "EUR", "lines": [{"sku": "A", "title": "A", "quantity": 1, "unit_price": "1.00"}]}
    routes = [(rule.rule, sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    cases: Counter[str] = Counter()
    leaks: list[str] = []
    for rule, methods in routes:
        # Every placeholder filled (the order's reference, parcel n° 1), so a refusal is the key's.
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: reference if m.group(1) == "reference" else "1", rule)
        for method in methods:
            kwargs = {"json": body} if method == "POST" else {}
            if rule.endswith("openapi.json"):
                assert client.open(url, method=method).status_code == 200  # the document is public
                continue
            refused = (("no key", None), ("malformed", "Bearer nope"), ("revoked", f"Bearer {revoked}"),
                       ("basic auth", "Basic YTpi"))
            for name, header in refused:
                headers = {"Authorization": header} if header else {}
                answer = client.open(url, method=method, headers=headers, **kwargs)
                if answer.status_code != 401 or (answer.get_json() or {}).get("error", {}).get("code") \
                        != "unauthorized":
                    leaks.append(f"{name}: {method} {url} answered {answer.status_code}")
                cases[name] += 1
    # B's key: A's order is not found, and no order can be recorded for A.
    as_b = {"Authorization": f"Bearer {key_b}"}
    answer = client.get(f"/api/v1/orders/{reference}", headers=as_b)
    if answer.status_code != 404:
        leaks.append(f"B's key read A's order: {answer.status_code}")
    answer = client.post("/api/v1/orders", json=body, headers=as_b)
    if answer.status_code != 422 or "seller" not in answer.get_json()["error"]["fields"]:
        leaks.append(f"B's key posted an order for A: {answer.status_code}")
    cases["seller-bound key on another seller's order"] += 2
    if db.session.scalar(select(Order.id).where(Order.external_id == "MKT-API-X")) is not None:
        leaks.append("an order was recorded with a refused key")
    # Control: the marketplace's key does read A's order (else the 404 above proves nothing).
    assert client.get(f"/api/v1/orders/{reference}",
                      headers={"Authorization": f"Bearer {marketplace}"}).status_code == 200
    figures.record_findings("api_keys", {"leaks": leaks}, cases=sum(cases.values()), **cases)


# ----------------------------------------------------------------------------- behind a proxy
def _proxied_app(app_config: dict[str, Any], proxies: int) -> Flask:
    return create_app({**app_config, "TRUSTED_PROXIES": proxies})


def _fail_login(client: FlaskClient, email: str, forwarded_for: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = csrf_from(client.get("/connexion", headers=headers).get_data(as_text=True))
    return client.post("/connexion", data={"email": email, "password": "wrong", "csrf_token": token},
                       headers=headers).status_code


def test_behind_a_proxy_the_login_throttle_counts_each_client_not_the_proxy(
    app_config: dict[str, Any], app: Flask, seller: Seller, figures: Figures,
) -> None:
    proxied = _proxied_app(app_config, 1)
    client = proxied.test_client()
    behind_proxy = [_fail_login(client, seller.email, "203.0.113.1") for _ in range(6)]
    other_client = _fail_login(client, seller.email, "198.51.100.2")
    # Without a trusted proxy, X-Forwarded-For is the client's word: it changes nothing.
    direct = _proxied_app(app_config, 0)
    client = direct.test_client()
    forged = [_fail_login(client, seller.email, f"192.0.2.{n}") for n in range(6)]
    statuses = [*behind_proxy, other_client, *forged]
    figures.record("login_throttle", attempts=len(statuses), throttled=statuses.count(429),
                   forged_header_obeyed=int(forged[-1] != 429))
    assert behind_proxy == [422] * 5 + [429]  # that client is slowed down
    assert other_client == 422  # another one behind the proxy is not
    assert forged == [422] * 5 + [429]


def test_behind_a_proxy_the_buyers_proof_names_the_buyer_not_the_proxy(
    app_config: dict[str, Any], app: Flask, wf: Workflow, make_order: Callable[..., Order], figures: Figures,
) -> None:
    actor = Actor.seller("atelier@example.fr")
    parcels = []
    for _ in range(3):
        order = make_order()
        wf.confirm_payment(order.id, actor=actor)
        shipment = wf.ship(order.id, actor=actor, carrier="hand_delivery",
                           quantities={line.id: line.quantity for line in order.lines}).shipment
        wf.request_receipt(shipment.id, actor=actor)
        parcels.append(shipment.id)
    tokens = [receipt_token(parcel) for parcel in parcels]
    cases = [(1, "203.0.113.9", "203.0.113.9"),                   # nginx in front
             (2, "203.0.113.10, 10.0.0.5", "203.0.113.10"),       # a load balancer, then nginx
             (0, "203.0.113.11", "127.0.0.1")]                    # no proxy trusted: the header is ignored
    wrong: list[str] = []
    for (proxies, forwarded, expected), token, parcel in zip(cases, tokens, parcels, strict=True):
        client = _proxied_app(app_config, proxies).test_client()
        headers = {"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"}
        page = client.get(f"/r/{token}", headers=headers)
        answer = client.post(f"/r/{token}", headers=headers,
                             data={"csrf_token": csrf_from(page.get_data(as_text=True))})
        assert answer.status_code == 200
        db.session.expire_all()
        got = db.session.get(Shipment, parcel).proof_ip
        if got != expected:
            wrong.append(f"{proxies} proxies, X-Forwarded-For {forwarded}: {got}, not {expected}")
    figures.record_findings("proxy_client_address", {"wrong_address": wrong}, cases=len(cases))


def test_a_negative_proxy_count_is_refused() -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        create_app({"TRUSTED_PROXIES": -1})


# ----------------------------------------------------------------------------- sessions
def test_login_gives_a_new_session_logout_and_idleness_end_it(
    app: Flask, seller: Seller, clock: Clock, figures: Figures, headers_checked: HeaderCheck,
) -> None:
    failures: list[str] = []

    def expect(held: bool, what: str) -> None:
        if not held:
            failures.append(what)

    client = app.test_client()
    token = csrf_from(client.get("/connexion").get_data(as_text=True))
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        before_login = dict(session)
    planted_cookie = client.get_cookie("session").value
    form = {"email": seller.email, "password": PASSWORD, "csrf_token": token}
    answer = client.post("/connexion", data=form)
    assert answer.status_code == 303
    with client.session_transaction() as session:
        expect("planted" not in session and session.get("csrf_token") != before_login.get("csrf_token"),
               "fixation: the session from before the login was kept")
    # The cookie from before the login does not carry the login (fixation).
    attacker = app.test_client()
    attacker.set_cookie("session", planted_cookie)
    expect(attacker.get("/commandes").status_code == 302, "fixation: the planted cookie is logged in")
    # A copy of the logged-in cookie works until logout, and never after.
    logged_in_cookie = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", logged_in_cookie)
    assert headers_checked(thief.get("/commandes")).status_code == 200  # control: the copy works
    token = csrf_from(client.get("/parametres").get_data(as_text=True))
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 303
    expect(thief.get("/commandes").status_code == 302, "logout: the copied cookie still works")
    expect(client.get("/commandes").status_code == 302, "logout: the session still works")
    # Idle: a session unused for longer than SESSION_IDLE_MINUTES ends.
    fresh = app.test_client()
    db.session.refresh(seller)  # the logout moved its session version on
    log_in(fresh, seller)
    assert fresh.get("/commandes").status_code == 200
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    expired = fresh.get("/commandes")
    expect(expired.status_code == 302 and expired.headers.get("Location", "").startswith("/connexion"),
           f"idle timeout: {expired.status_code} after {app.config['SESSION_IDLE_MINUTES'] + 1} minutes")
    figures.record_findings("sessions", {"failures": failures}, fixation=1, logout_copied_cookie=1,
                            idle_timeout=1)


# ----------------------------------------------------------------------------- headers
def test_every_html_page_carries_the_security_headers(
    app: Flask, two_shops: dict[str, Any], headers_checked: HeaderCheck,
) -> None:
    a, reference = two_shops["a"], two_shops["reference"]
    client, _ = client_for(app, a)
    from uniqu3.tokens import order_token

    order_id = two_shops["order"].id
    shipment_id = db.session.scalar(select(Shipment.id).where(Shipment.order_id == order_id))
    assert headers_checked(client.get("/connexion")).status_code == 302  # logged in already
    pages = ["/commandes", "/commandes?statut=a-expedier", f"/commandes/{reference}",
             f"/commandes/{reference}/preparation", "/parametres", f"/o/{order_token(order_id)}",
             f"/r/{receipt_token(shipment_id)}", "/o/broken", "/page-qui-n-existe-pas", "/dev/mailbox",
             "/dev/mailbox/1"]
    for page in pages:
        assert headers_checked(client.get(page)).status_code in (200, 404), page
    assert headers_checked(client.post("/commandes")).status_code in (400, 405)
    headers_checked(client.get("/dev/mailbox/1/html"), framed_by_us=True)
    assert headers_checked.checked >= len(pages) + 3


# ----------------------------------------------------------------------------- production
def _production(app_config: dict[str, Any], **overrides: Any) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": app_config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": SECRET,
                       "BASE_URL": "https://shop.example", **overrides}, profile="production")


HTTPS = "https://shop.example"


class HttpsClient(IsolatedClient):
    """Production cookies are Secure, and Flask-WTF checks the Referer of HTTPS posts."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", HTTPS)
        kwargs["headers"] = {"Referer": f"{HTTPS}/connexion", **(kwargs.get("headers") or {})}
        return super().open(*args, **kwargs)


def _https_client(app: Flask) -> FlaskClient:
    return HttpsClient(app, app.response_class, use_cookies=True)


@pytest.mark.parametrize("mail_server", [None, "smtp.example.fr"])
def test_production_has_no_dev_mailbox_and_sends_hsts(
    app_config: dict[str, Any], app: Flask, mail_server: str | None, headers_checked: HeaderCheck,
) -> None:
    production = _production(app_config, MAIL_SERVER=mail_server, MAIL_TO_DEV_MAILBOX=mail_server is None)
    for path in ("/dev/mailbox", "/dev/mailbox/1", "/dev/mailbox/1/html"):
        assert headers_checked(_https_client(production).get(path)).status_code == 404, path
    page = headers_checked(_https_client(production).get("/connexion"))
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in page.headers["Set-Cookie"]


@pytest.mark.parametrize("key", [None, "", DEV_SECRET_KEY, "too-short-0123456789"])
def test_production_refuses_to_start_without_a_real_secret_key(
    key: str | None, monkeypatch: pytest.MonkeyPatch, figures: Figures,
) -> None:
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    started: list[str] = []
    try:
        create_app(profile="production")
        started.append(f"started with SECRET_KEY={key!r}")
    except ConfigError as refusal:
        assert "SECRET_KEY" in str(refusal)
    figures.record_findings("production_secret_key", {"started": started}, variants=1,
                            refused=1 - len(started))


def test_the_production_entry_point_exits_with_the_reason(tmp_path: Any) -> None:
    """What an operator sees: `flask --app wsgi …` (and gunicorn's import of wsgi) stops."""
    env = process_env(f"sqlite:///{tmp_path / 'p.sqlite'}", UNIQU3_ENV="production",
                      BASE_URL="https://shop.example")
    env.pop("SECRET_KEY")
    command = [FLASK, "--app", "wsgi", "routes"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr + done.stdout
    env["SECRET_KEY"] = SECRET
    assert subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60).returncode == 0


# ----------------------------------------------------------------------------- each app's rate limits
def test_each_app_keeps_its_own_rate_limit_setting(app_config: dict[str, Any], seller: Seller) -> None:
    """An app built with its limits off (RATELIMIT_ENABLED) must not switch them off for the
    next one: each app has its own counters and its own choice."""
    create_app({**app_config, "RATELIMIT_ENABLED": False})
    client = create_app(app_config).test_client()
    assert [_fail_login(client, seller.email, None) for _ in range(6)] == [422] * 5 + [429]


def test_production_throttles_logins_by_default(app_config: dict[str, Any], seller: Seller) -> None:
    client = _https_client(_production(app_config))
    assert [_fail_login(client, seller.email, None) for _ in range(6)] == [422] * 5 + [429]

