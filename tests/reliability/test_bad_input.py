"""Bad input, systematically: every seller form fuzzed over HTTP, the API driven by
schemathesis, people's text carried into pages and e-mails, and signed links broken in every
way (the workflow's own state machine, deep: test_workflow_deep.py).

Whatever comes in: never a 5xx; a refusal is a 4xx that says why; what is accepted is
shown escaped in pages and e-mails, and nothing typed can add a header to an e-mail.
"""

from __future__ import annotations

import html
import itertools
import re
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.api.conftest import api_key, auth, make_key  # noqa: F401  (fixtures for schemathesis)
from tests.api.test_openapi import aim, known_reference, schema  # noqa: F401
from tests.conftest import Clock, order_input
from tests.reliability.actors import csrf_from
from tests.reliability.conftest import Figures, Sink, knob
from tests.seller.conftest import log_in
from uniqu3.extensions import db
from uniqu3.mail import deliver
from uniqu3.models import Order, OrderLine, Seller
from uniqu3.workflow import Actor, Workflow

pytestmark = pytest.mark.reliability

FUZZ_EXAMPLES = knob("FUZZ_EXAMPLES", 25)  # per form
API_EXAMPLES = knob("API_EXAMPLES", 120)  # per operation
MAIL_EXAMPLES = knob("MAIL_EXAMPLES", 15)

# What an attacker or a clumsy paste would send; MARKERS must never come back unescaped.
MARKERS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<b onmouseover=x>"]
NASTY = [
    *MARKERS,
    "Robert'); DROP TABLE orders;--",
    "Atelier\r\nBcc: victim@example.com",
    "Atelier\nSubject: spam",
    "x\r\n\r\n<html>injected body",
    "\x00\x01\x07\x1b[31m\x7f",
    "\u202egnp.exe",  # right-to-left override
    "\u200b\u200d\ufeff",  # zero-width characters
    "𝓤𝓷𝓲𝓬𝓸𝓭𝓮 🎁 日本語 ",
    "{{ 7*7 }} {% raw %}",
    "%(shop)s %s {0}",
    "../../etc/passwd",
    "javascript:alert(1)",
    "   ",
    "",
]
TEXT = st.characters(exclude_categories=["Cs"])  # what a browser can send as UTF-8
texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(TEXT, max_size=80),
    st.builds(lambda piece, n: piece * n, st.sampled_from([*NASTY[:6], "é", "x"]), st.integers(50, 2500)),
)
numbers = st.one_of(st.integers(-10, 10).map(str),
                    st.sampled_from(["", "1e9", "0x10", "１", "²", "½", "٣", "999999999999", "2.5", "-0",
                                     " 1 "]),
                    texts)
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


# ----------------------------------------------------------------------------- seller forms
class FormFuzzer:
    """A logged-in seller sending whatever Hypothesis draws; checks every answer."""

    def __init__(self, app: Flask, seller: Seller, wf: Workflow, figures: Figures) -> None:
        self.app = app
        self.seller = seller
        self.wf = wf
        self.figures = figures
        self.client = app.test_client()
        log_in(self.client, seller)
        self.token = csrf_from(self.client.get("/parametres").get_data(as_text=True))
        self.counter = iter(range(1, 1_000_000))
        self.outcomes: Counter[str] = Counter()
        self.recorded: Counter[str] = Counter()
        self.findings: dict[str, list[str]] = {"server_errors": [], "unescaped_markup": [],
                                               "refusals_without_message": []}

    def fresh_order(self, state: str) -> Order:
        actor = Actor.seller(self.seller.email)
        order = self.wf.place_order(order_input(self.seller.email, f"MKT-FUZZ-{next(self.counter)}"),
                                    actor=Actor.api("shop")).order
        if state in ("paid", "shipped"):
            self.wf.confirm_payment(order.id, actor=actor)
        if state == "shipped":
            self.wf.ship(order.id, actor=actor, carrier="hand_delivery",
                         quantities={line.id: line.quantity for line in order.lines})
        return order

    def send(self, method: str, path: str, form: dict[str, str] | None, *, csrf: str, htmx: bool,
             query: dict[str, str] | None = None) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        data = dict(form or {})
        if method == "POST":
            if csrf == "valid":
                data["csrf_token"] = self.token
            elif csrf == "garbage":
                data["csrf_token"] = "IjEyMyI.garbage.token"
        response = self.client.open(path, method=method, data=data or None, query_string=query,
                                    headers=headers)
        self.check(response)
        return response

    def check(self, response: Any) -> None:
        """Counts the answer and what is wrong with it (`_record` records, then fails)."""
        status = response.status_code
        body = response.get_data(as_text=True)
        where = f"{response.request.method} {response.request.path}: {status}"
        if status >= 500:
            self.findings["server_errors"].append(f"{where} {body[:1000]}")
        self.findings["unescaped_markup"] += [f"{where}: {marker!r}" for marker in MARKERS if marker in body]
        if 400 <= status < 500 and status not in (401,):
            shown = html.unescape(body)
            marked = any(sign in body for sign in ('role="alert"', 'class="error"', "flash-error", "<h1>"))
            if not marked or len(re.sub(r"<[^>]+>", "", shown).strip()) <= 10:
                self.findings["refusals_without_message"].append(f"{where} {body[:500]}")
        self.outcomes[f"{status // 100}xx" if status not in (303, 302) else "redirect"] += 1


@pytest.fixture
def fuzzer(app: Flask, seller: Seller, wf: Workflow, figures: Figures) -> FormFuzzer:
    return FormFuzzer(app, seller, wf, figures)


csrf_modes = st.sampled_from(["valid"] * 6 + ["missing", "garbage"])


def _record(fuzzer: FormFuzzer, form: str) -> None:
    """Adds this example's requests and findings to the figures (the fuzzer lives across
    examples), then fails the example if anything was found."""
    new = fuzzer.outcomes - fuzzer.recorded
    fuzzer.recorded.update(new)
    findings = fuzzer.findings
    fuzzer.findings = {kind: [] for kind in findings}
    fuzzer.figures.record_findings(f"fuzz_form_{form}", findings, examples=1, requests=sum(new.values()),
                                   **new)


short_texts = st.one_of(st.sampled_from(NASTY), st.text(TEXT, max_size=60))
# Half the examples have the right shape (so that people's text gets stored and shown), half anything.
settings_forms = st.one_of(
    st.fixed_dictionaries({"shop_name": short_texts, "payment_instructions": short_texts,
                           "notification_email": st.one_of(st.just(""), st.emails().map(str)),
                           "locale": st.sampled_from(["fr", "en"])}),
    st.fixed_dictionaries({"shop_name": texts, "payment_instructions": texts,
                           "notification_email": st.one_of(texts, st.emails().map(str)),
                           "locale": st.one_of(st.sampled_from(["fr", "en"]), texts)}),
)


@FUZZ
@given(fields=settings_forms, csrf=csrf_modes, htmx=st.booleans())
def test_fuzz_settings(fuzzer: FormFuzzer, fields: dict[str, str], csrf: str, htmx: bool) -> None:
    response = fuzzer.send("POST", "/parametres", fields, csrf=csrf, htmx=htmx)
    if response.status_code == 303:
        # Accepted: shown escaped everywhere the shop name appears.
        for page in ("/parametres", "/commandes"):
            fuzzer.check(fuzzer.client.get(page))
    _record(fuzzer, "settings")


@FUZZ
@given(fields=st.fixed_dictionaries({"current_password": texts, "new_password": texts,
                                     "new_password_confirm": texts}), csrf=csrf_modes, htmx=st.booleans())
def test_fuzz_password_change(fuzzer: FormFuzzer, fields: dict[str, str], csrf: str, htmx: bool) -> None:
    fuzzer.send("POST", "/parametres/mot-de-passe", fields, csrf=csrf, htmx=htmx)
    _record(fuzzer, "password")


@FUZZ
@given(fields=st.fixed_dictionaries({"email": texts, "password": texts, "next": texts}),
       csrf=csrf_modes)
def test_fuzz_login(app: Flask, fuzzer: FormFuzzer, fields: dict[str, str], csrf: str) -> None:
    visitor = app.test_client()
    token = csrf_from(visitor.get("/connexion").get_data(as_text=True))
    data = {**fields, **({"csrf_token": token} if csrf == "valid" else {})}
    fuzzer.check(visitor.post("/connexion", data=data))
    _record(fuzzer, "login")


@FUZZ
@given(text=texts, action=st.sampled_from(["paiement", "annulation"]), csrf=csrf_modes, htmx=st.booleans())
def test_fuzz_payment_and_cancellation(fuzzer: FormFuzzer, text: str, action: str, csrf: str,
                                       htmx: bool) -> None:
    order = fuzzer.fresh_order("placed")
    field = "note" if action == "paiement" else "reason"
    response = fuzzer.send("POST", f"/commandes/{order.reference}/{action}", {field: text}, csrf=csrf,
                           htmx=htmx)
    if response.status_code in (200, 303):
        fuzzer.check(fuzzer.client.get(f"/commandes/{order.reference}"))  # the note in the history
    _record(fuzzer, "pay_cancel")


@FUZZ
@given(data=st.data(), csrf=csrf_modes, htmx=st.booleans())
def test_fuzz_ship(fuzzer: FormFuzzer, data: st.DataObject, csrf: str, htmx: bool) -> None:
    order = fuzzer.fresh_order("paid")
    lines = db.session.scalars(select(OrderLine.id).where(OrderLine.order_id == order.id)).all()
    if data.draw(st.booleans()):  # the right shape: people's text in the carrier's name and URL
        form = {f"qty_{line_id}": "1" for line_id in lines}
        form.update(carrier="other", tracking_number="AB12345678FR", carrier_label=data.draw(short_texts),
                    carrier_url=data.draw(st.sampled_from(["", "https://suivi.example.fr/{number}",
                                                           "https://suivi.example.fr/?n={number}&x=<b>"])),
                    shipped_on="", request_key=data.draw(st.uuids().map(str)))
    else:
        quantity = st.one_of(st.sampled_from(["0", "1"]), numbers)
        form = {f"qty_{line_id}": data.draw(quantity) for line_id in lines}
        if data.draw(st.booleans()):
            form[f"qty_{data.draw(st.integers(0, 10**12))}"] = data.draw(numbers)  # a line of no order
        form.update(
            carrier=data.draw(st.one_of(st.sampled_from(["colissimo", "mondial_relay", "other", "chronopost",
                                                         "hand_delivery"]), texts)),
            tracking_number=data.draw(st.one_of(st.sampled_from(["6A12345678901", "12345678"]), texts)),
            carrier_url=data.draw(st.one_of(st.sampled_from(["https://suivi.example.fr/{number}",
                                                             "javascript:alert(1)//{number}"]), texts)),
            carrier_label=data.draw(texts),
            shipped_on=data.draw(st.one_of(st.dates().map(str), texts)),
            request_key=data.draw(st.one_of(st.uuids().map(str), texts)),
        )
    response = fuzzer.send("POST", f"/commandes/{order.reference}/expedition", form, csrf=csrf, htmx=htmx)
    if response.status_code in (200, 303):
        fuzzer.check(fuzzer.client.get(f"/commandes/{order.reference}"))
        fuzzer.check(fuzzer.client.get(f"/commandes/{order.reference}/preparation"))
    _record(fuzzer, "ship")


@FUZZ
@given(number=st.one_of(st.just(1), st.integers(-5, 10**12)), extra=st.dictionaries(texts, texts, max_size=3),
       csrf=csrf_modes, htmx=st.booleans())
def test_fuzz_receipt_request(fuzzer: FormFuzzer, number: int, extra: dict[str, str], csrf: str,
                              htmx: bool) -> None:
    order = fuzzer.fresh_order("shipped")
    path = f"/commandes/{order.reference}/colis/{number if number >= 0 else 1}/reception"
    fuzzer.send("POST", path, extra, csrf=csrf, htmx=htmx)
    _record(fuzzer, "receipt_request")


@FUZZ
@given(query=st.fixed_dictionaries({}, optional={"statut": texts, "q": texts, "apres": texts, "avant": texts,
                                                  "lang": texts}),
       page=st.sampled_from(["/commandes", "/commandes/export.csv"]), htmx=st.booleans())
def test_fuzz_order_list_and_export(fuzzer: FormFuzzer, query: dict[str, str], page: str, htmx: bool) -> None:
    fuzzer.send("GET", page, None, csrf="valid", htmx=htmx, query=query)
    _record(fuzzer, "list_export")


@FUZZ
@given(query=st.fixed_dictionaries({"carrier": texts, "tracking_number": texts, "carrier_url": texts}),
       reference=st.one_of(st.just(""), texts.map(lambda t: t.replace("/", "").replace("?", "")
                                                  .replace("#", "").replace("\\", ""))))
def test_fuzz_tracking_preview_and_order_urls(fuzzer: FormFuzzer, query: dict[str, str],
                                              reference: str) -> None:
    fuzzer.send("GET", "/commandes/lien-suivi", None, csrf="valid", htmx=True, query=query)
    if reference.strip():
        from urllib.parse import quote

        fuzzer.send("GET", f"/commandes/{quote(reference, safe='')}", None, csrf="valid", htmx=False)
    _record(fuzzer, "preview_order_url")


def test_fuzz_a_body_over_the_limit_is_a_413_page(fuzzer: FormFuzzer) -> None:
    huge = {"shop_name": "x" * 1_100_000, "locale": "fr"}
    response = fuzzer.send("POST", "/parametres", huge, csrf="valid", htmx=False)
    _record(fuzzer, "too_large")
    assert response.status_code == 413


def test_what_no_database_can_store_is_refused_not_a_500(app: Flask, fuzzer: FormFuzzer) -> None:
    """NUL characters (PostgreSQL cannot store or compare them), numbers beyond its INTEGER and
    digits int() does not read, wherever a request can carry them: a 4xx, never a 500."""
    order = fuzzer.fresh_order("shipped")
    ref = order.reference
    gets = ["/commandes?q=a%00b", "/commandes?statut=%00", f"/commandes/{ref}%00", "/commandes/UQ%00",
            "/commandes/export.csv?q=%00", "/commandes/lien-suivi?carrier=%00&tracking_number=%00",
            "/commandes?apres=1-%C2%B2", "/commandes?avant=%C2%B2-1", "/dev/mailbox/99999999999",
            "/o/%00", "/r/%00", "/api/v1/orders/UQ%00"]
    for path in gets:
        fuzzer.send("GET", path, None, csrf="valid", htmx=False)
    posts = {"/parametres": {"shop_name": "a\x00b", "locale": "fr"},
             f"/commandes/{ref}/paiement": {"note\x00": "x"},
             f"/commandes/{ref}/colis/99999999999/reception": {},
             f"/commandes/{ref}/colis/2147483648/reception": {},
             f"/commandes/{ref}/expedition": {"qty_1": "²", "carrier": "hand_delivery"}}
    for path, form in posts.items():
        fuzzer.send("POST", path, form, csrf="valid", htmx=False)
    visitor = app.test_client()
    token = csrf_from(visitor.get("/connexion").get_data(as_text=True))
    form = {"email": "a\x00@b.fr", "password": "x", "csrf_token": token}
    fuzzer.check(visitor.post("/connexion", data=form))
    _record(fuzzer, "unstorable")


# ----------------------------------------------------------------------------- text into e-mails
person = st.one_of(st.sampled_from(NASTY), st.text(TEXT, min_size=1, max_size=60))
#: Each example's order its own marketplace id (the examples share one database; a refused
#: order sends no e-mail, so the count of e-mails cannot tell two examples apart).
_MAIL_EXAMPLE = itertools.count(1)
EXPECTED_HEADERS = {"from", "to", "reply-to", "subject", "date", "message-id", "auto-submitted",
                    "content-language", "mime-version", "content-type"}


@settings(max_examples=MAIL_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(shop=person, buyer=person, line1=person, city=person, sku=person, title=person, note=person)
def test_people_text_reaches_pages_and_emails_escaped_and_never_as_a_header(
    app: Flask, sink: Sink, seller: Seller, figures: Figures, shop: str, buyer: str, line1: str, city: str,
    sku: str, title: str, note: str,
) -> None:
    app.config.update(sink.config)
    client = app.test_client()
    log_in(client, seller)
    token = csrf_from(client.get("/parametres").get_data(as_text=True))
    settings_answer = client.post("/parametres", data={"shop_name": shop, "locale": "fr", "csrf_token": token,
                                                       "payment_instructions": note})
    assert settings_answer.status_code in (303, 400, 422)  # 400: a NUL character
    from uniqu3 import apikeys

    _, key = apikeys.create_key(db.session, name="fuzz", now=app.config["CLOCK"]())
    body = {"external_id": f"MKT-MAIL-{next(_MAIL_EXAMPLE)}", "seller": seller.email,
            "buyer": {"name": buyer, "email": "camille@example.fr"},
            "billing_address": {"name": buyer, "line1": line1, "line2": "", "postal_code": "69003",
                                "city": city, "country": "FR"},
            "shipping_address": {"name": buyer, "line1": line1, "line2": note, "postal_code": "69003",
                                 "city": city, "country": "FR"},
            "currency": "EUR", "lines": [{"sku": sku, "title": title, "quantity": 1, "unit_price": "5.00"}]}
    before = sink.count()
    answer = client.post("/api/v1/orders", json=body, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code in (201, 200, 422), answer.get_data(as_text=True)[:500]
    outcome = "accepted" if answer.status_code in (200, 201) else "refused"
    injections: list[str] = []
    unescaped: list[str] = []
    emails = 0
    if outcome == "accepted":
        reference = answer.get_json()["reference"]
        page = client.get(f"/commandes/{reference}").get_data(as_text=True)
        unescaped += [f"order page: {marker!r}" for marker in MARKERS if marker in page]
        deliver()  # the inline delivery after the commit did it already: nothing left
        for message in sink.parsed()[before:]:
            emails += 1
            injections += header_injections(message)
            unescaped += [f"e-mail {message['Subject']}: {marker!r}" for marker in MARKERS
                          if marker in message_html(message)]
    figures.record_findings("fuzz_people_text_into_emails",
                            {"header_injections": injections, "unescaped_markup": unescaped},
                            examples=1, **{outcome: 1}, emails_checked=emails,
                            settings_refused=int(settings_answer.status_code != 303))


def header_injections(message: EmailMessage) -> list[str]:
    """What typed text added to the message's headers (a header of its own, a line break)."""
    found = [f"header {name}" for name in {name.lower() for name in message} - EXPECTED_HEADERS]
    if message.get_all("Bcc") is not None or len(message.get_all("To") or []) != 1:
        found.append(f"recipients: To {message.get_all('To')}, Bcc {message.get_all('Bcc')}")
    for name in ("From", "To", "Subject", "Reply-To"):
        value = message.get(name)
        if value is not None and ("\n" in str(value) or "\r" in str(value)):
            found.append(f"line break in {name}: {str(value)!r}")
    return found


def message_html(message: EmailMessage) -> str:
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    return str(html_part.get_content())


# ----------------------------------------------------------------------------- the API
@schema.parametrize()
@settings(max_examples=API_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_fuzz_with_more_examples(case: Any, app: Flask, auth: dict[str, str],  # noqa: F811
                                     seller: Seller, known_reference: str, figures: Figures) -> None:  # noqa: F811
    aim(case, app, seller, known_reference)
    response = case.call(app=app, headers=auth)
    figures.record_findings("fuzz_api_schemathesis",
                            {"server_errors": [response.status_code] if response.status_code >= 500 else []},
                            cases=1, **{f"status_{response.status_code}": 1})
    # Then the rest of schemathesis's checks (answers conform to the schema…).
    case.validate_response(response, headers=auth, transport_kwargs={"app": app, "headers": auth})


# ----------------------------------------------------------------------------- signed links
def test_broken_signed_links_open_nothing_and_change_nothing(
    app: Flask, client: FlaskClient, wf: Workflow, make_order: Callable[..., Order], clock: Clock,
    monkeypatch: pytest.MonkeyPatch, figures: Figures,
) -> None:
    import time

    from itsdangerous import TimestampSigner

    from tests.reliability.scenario import outbox_statuses
    from uniqu3.models import Shipment
    from uniqu3.tokens import ORDER_MAX_AGE, RECEIPT_MAX_AGE, order_token, receipt_token

    actor = Actor.seller("atelier@example.fr")
    order = make_order()
    other = make_order()
    wf.confirm_payment(order.id, actor=actor)
    first = min(order.lines, key=lambda line: line.position)
    parcel = wf.ship(order.id, actor=actor, carrier="hand_delivery", quantities={first.id: 1}).shipment
    wf.request_receipt(parcel.id, actor=actor)
    parcel_id = parcel.id
    good = {"o": order_token(order.id), "r": receipt_token(parcel_id)}
    page = client.get(f"/r/{good['r']}")
    assert page.status_code == 200 and client.get(f"/o/{good['o']}").status_code == 200
    form = {"csrf_token": csrf_from(page.get_data(as_text=True))}
    before = outbox_statuses(db.session)
    tried: Counter[str] = Counter()
    opened: list[str] = []  # a broken link that did not get the « invalid link » page

    def refused(kind: str, path: str, *, post: bool = True) -> None:
        for response in [client.get(path), *([client.post(path, data=form)] if post else [])]:
            if response.status_code == 404 and "Ce lien n'est pas valide ou a expiré" in html.unescape(
                    response.get_data(as_text=True)):
                tried["invalid_link_page"] += 1
            else:
                opened.append(f"{kind}: {response.request.method} {path} answered {response.status_code}")
            tried[kind] += 1

    def equivalent(prefix: str, token: str, original: str) -> bool:
        """A changed character that decodes to the same bytes (base64's unused low bits)."""
        return client.get(f"/{prefix}/{token}").status_code == 200

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for prefix, token in good.items():
        for i, char in enumerate(token):  # every character changed
            changed = token[:i] + alphabet[(alphabet.index(char) + 7) % len(alphabet)] + token[i + 1:]
            if equivalent(prefix, changed, token):
                tried["same_bytes"] += 1
                continue
            refused("tampered", f"/{prefix}/{changed}", post=prefix == "r")
        for length in range(1, len(token)):  # every truncation
            refused("truncated", f"/{prefix}/{token[:length]}", post=prefix == "r")
        refused("extended", f"/{prefix}/{token}x", post=prefix == "r")
    refused("another purpose", f"/r/{good['o']}")
    refused("another purpose", f"/o/{good['r']}", post=False)
    refused("unknown thing", f"/r/{receipt_token(10**9)}")
    refused("unknown thing", f"/o/{order_token(10**9)}", post=False)
    _payload, stamp, signature = good["r"].split(".")
    swapped = ".".join([receipt_token(parcel_id + 1).split(".")[0], stamp, signature])
    refused("another parcel, same signature", f"/r/{swapped}")
    swapped = ".".join([order_token(other.id).split(".")[0], stamp, signature])
    refused("another order, same signature", f"/o/{swapped}", post=False)

    for max_age, make, prefix in ((RECEIPT_MAX_AGE, receipt_token, "r"), (ORDER_MAX_AGE, order_token, "o")):
        long_ago = int(time.time()) - max_age - 60
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self, t=long_ago: t)
        expired = make(parcel_id if prefix == "r" else order.id)
        monkeypatch.undo()
        refused("expired", f"/{prefix}/{expired}", post=prefix == "r")

    # The key that signed them is no longer accepted (rotated out of SECRET_KEY_FALLBACKS).
    app.config.update(SECRET_KEY="the-new-key-after-rotation-0123456789", SECRET_KEY_FALLBACKS=[])
    refused("revoked key", f"/r/{good['r']}")
    refused("revoked key", f"/o/{good['o']}", post=False)
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]
    assert client.get(f"/r/{good['r']}").status_code == 200  # still listed: still good

    db.session.expire_all()
    changed = [f"parcel {status}" for status in [db.session.get(Shipment, parcel_id).status]
               if status != "awaiting_receipt"]
    after = outbox_statuses(db.session)
    changed += [f"e-mails {status}: {before[status]} → {after[status]}" for status in before | after
                if before[status] != after[status]]
    requests = sum(n for kind, n in tried.items() if kind not in ("same_bytes", "invalid_link_page"))
    figures.record_findings("bad_signed_links", {"opened": opened, "changed": changed}, **tried,
                            requests=requests)
