"""Every page is valid HTML: the Nu HTML checker over the pages a seller and a buyer meet, in
French and in English, in each state (every tab, a search, an order at each step, refusals,
error pages, the dev mailbox), and over the htmx answers put in a page. One JVM start for all.
Each page also has a description, and loads htmx only if it uses it.
"""

from __future__ import annotations

import html as html_module
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from tests.conftest import Clock
from tests.seller.conftest import SellerClient
from uniqu3.extensions import db
from uniqu3.models import Order, OrderStatus, OutboxEmail, Seller
from uniqu3.tokens import order_token, password_reset_token, receipt_token
from uniqu3.workflow import Actor, PickupPoint, Workflow
from uniqu3.workflow.accounts import password_fingerprint

from .conftest import nu_check

pytestmark = pytest.mark.html

LANGUAGES = {"fr": {"Accept-Language": "fr-FR,fr;q=0.9"}, "en": {"Accept-Language": "en-GB,en;q=0.9"}}
# An htmx answer is checked inside a minimal page: its target's part (which comes first) in the
# element it lands in, its out-of-band parts (data-hx-swap-oob) beside it, and the forms a part's
# fields may belong to (form="bulk": « Commandes » keeps the selection's form out of its results).
SHELL = ('<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>fragment</title></head>'
         '<body><main><form id="bulk"></form><{inside}>{target}</{inside}><div>{oob}</div></main>'
         '</body></html>')
FIRST_OOB = re.compile(r"(?=<[a-z]+\b[^>]*\sdata-hx-swap-oob=)")
Make = Callable[..., Order]


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "PROPAGATE_EXCEPTIONS": False,  # the 500 page, as in production
            "TRACKING_IMPORT_FOLDER": str(tmp_path / "imports")}


@pytest.fixture
def error_routes(app: Flask) -> None:
    """Pages no request of a person leads to today, but which must stay valid: 403 and 500."""

    def forbidden() -> None:
        abort(403)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_url_rule("/_test/403", "test_forbidden", forbidden)
    app.add_url_rule("/_test/500", "test_broken", broken)


@dataclass
class Pages:
    folder: Path
    files: list[Path] = field(default_factory=list)
    with_htmx: set[str] = field(default_factory=set)
    using_htmx: set[str] = field(default_factory=set)

    def keep(self, name: str, response: Any, status: int | None = 200, *, fragment: str = "",
             inside: str = "div") -> str:
        """Keep a page, or an htmx answer put in a page (`fragment` names its language, `inside`
        the element it lands in)."""
        if status is None:
            assert 400 <= response.status_code < 500, (name, response.status_code)
        else:
            assert response.status_code == status, (name, response.status_code)
        body = response.get_data(as_text=True)
        if not fragment:
            assert re.search(r'<meta name="description" content="[^"]{20,}">', body), name
            if re.search(r'<script src="/static/vendor/htmx-[^"]+\.js"', body):
                self.with_htmx.add(name)
            if re.search(r"\sdata-hx-[a-z-]+=", body):
                self.using_htmx.add(name)
        path = self.folder / f"{name}.html"
        if fragment:
            target, *oob = FIRST_OOB.split(body, maxsplit=1)
            text = SHELL.format(lang=fragment, inside=inside, target=target, oob="".join(oob))
        path.write_text(text if fragment else body, encoding="utf-8")
        self.files.append(path)
        return body


#: An order with shipping costs, the buyer's phone and a relay point.
RELAY: dict[str, Any] = {
    "shipping_cents": 490, "buyer_phone": "+33612345678",
    "pickup_point": PickupPoint(carrier="Mondial Relay", id="FR-012345", name="Tabac de la Gare",
                                line1="3 place de la Gare", line2="", postal_code="69007", city="Lyon",
                                country="FR"),
}


def links(html: str, pattern: str) -> list[str]:
    return [html_module.unescape(url) for url in re.findall(rf'href="({pattern}[^"]*)"', html)]


def ship_form(order: Order, tracking: str, *, only_first: bool = False) -> dict[str, str]:
    lines = sorted(order.lines, key=lambda line: line.position)
    form = {f"qty_{line.id}": str(line.remaining if not (only_first and n) else 0)
            for n, line in enumerate(lines)}
    return {**form, "carrier": "colissimo", "tracking_number": tracking, "request_key": str(uuid.uuid4())}


def seller_pages(pages: Pages, lang: str, sc: SellerClient, owner: Seller, order_in: Make,
                 wf: Workflow, clock: Clock) -> None:
    me = Actor.seller(owner.email)
    for _ in range(26):  # more than a page of the list
        order_in(OrderStatus.AWAITING_PAYMENT, owner=owner)
    orders = {status: order_in(status, owner=owner) for status in OrderStatus}
    awaiting = order_in(OrderStatus.SHIPPED, owner=owner)
    wf.request_receipt(awaiting.shipments[0].id, actor=me)
    auto = order_in(OrderStatus.SHIPPED, owner=owner)
    for shipment in auto.shipments:
        wf.request_receipt(shipment.id, actor=me)
    clock.advance(days=8)
    wf.auto_receive_due()
    sc.stay_active()

    # « Commandes »: each tab, a search with and without results, the next page, the fragments.
    home = pages.keep(f"{lang}-orders", sc.get("/commandes"))
    tabs = links(home, "/commandes\\?statut=")
    assert len(tabs) >= 5, tabs
    for n, url in enumerate(tabs):
        pages.keep(f"{lang}-orders-tab-{n}", sc.get(url))
    pages.keep(f"{lang}-orders-search", sc.get("/commandes?q=Martin"))
    pages.keep(f"{lang}-orders-search-none", sc.get("/commandes?q=personne"))
    older = re.search(r'href="([^"]+)" rel="next"', home)
    assert older, "a second page of orders"
    pages.keep(f"{lang}-orders-page-2", sc.get(html_module.unescape(older.group(1))))
    pages.keep(f"{lang}-fragment-orders-tab", sc.get(tabs[1], htmx=True), fragment=lang)
    pages.keep(f"{lang}-fragment-orders-search", sc.get("/commandes?q=Mar", htmx=True), fragment=lang)

    # The order page at each step, and the preparation slip.
    for status, order in orders.items():
        pages.keep(f"{lang}-order-{status}", sc.get(f"/commandes/{order.reference}"))
        pages.keep(f"{lang}-slip-{status}", sc.get(f"/commandes/{order.reference}/preparation"))
    pages.keep(f"{lang}-order-awaiting-receipt", sc.get(f"/commandes/{awaiting.reference}"))
    pages.keep(f"{lang}-order-received-automatically", sc.get(f"/commandes/{auto.reference}"))
    # The proof of receipt: confirmed by the buyer, automatic, not (yet) a proof.
    for name, order in (("buyer", orders[OrderStatus.RECEIVED]), ("auto", auto), ("awaiting", awaiting),
                        ("shipped", orders[OrderStatus.PARTIALLY_SHIPPED])):
        pages.keep(f"{lang}-proof-{name}", sc.get(f"/commandes/{order.reference}/colis/1/preuve"))

    # Refusals, as plain form posts (the whole page again) and as htmx answers.
    paid, cancelled = orders[OrderStatus.PAID], orders[OrderStatus.CANCELLED]
    received = orders[OrderStatus.RECEIVED]
    pages.keep(f"{lang}-refused-ship", sc.post(f"/commandes/{paid.reference}/expedition",
                                               ship_form(paid, "12")), None)
    pages.keep(f"{lang}-refused-pay", sc.post(f"/commandes/{cancelled.reference}/paiement"), None)
    pages.keep(f"{lang}-refused-cancel", sc.post(f"/commandes/{received.reference}/annulation",
                                                 {"reason": "trop tard"}), None)
    pages.keep(f"{lang}-refused-receipt",
               sc.post(f"/commandes/{awaiting.reference}/colis/1/reception"), None)
    pages.keep(f"{lang}-fragment-refused-ship", sc.post(
        f"/commandes/{paid.reference}/expedition", ship_form(paid, "12"), htmx=True), None, fragment=lang)

    # Each htmx action's answer, on a fresh order taken through every step.
    fresh = order_in(OrderStatus.AWAITING_PAYMENT, owner=owner)
    base = f"/commandes/{fresh.reference}"
    pages.keep(f"{lang}-fragment-pay", sc.post(f"{base}/paiement", {"note": "Virement"}, htmx=True),
               fragment=lang)
    pages.keep(f"{lang}-fragment-ship-form", sc.get(f"{base}/expedition", htmx=True), fragment=lang)
    db.session.expire_all()
    pages.keep(f"{lang}-fragment-ship-part", sc.post(
        f"{base}/expedition", ship_form(fresh, "6A12345678901", only_first=True), htmx=True), fragment=lang)
    db.session.expire_all()
    pages.keep(f"{lang}-fragment-ship-rest", sc.post(
        f"{base}/expedition", ship_form(fresh, "6A12345678902"), htmx=True), fragment=lang)
    pages.keep(f"{lang}-fragment-receipt", sc.post(f"{base}/colis/1/reception", htmx=True), fragment=lang,
               inside="ol")
    to_cancel = order_in(OrderStatus.PAID, owner=owner)
    pages.keep(f"{lang}-fragment-cancel", sc.post(f"/commandes/{to_cancel.reference}/annulation",
                                                  {"reason": "Rupture"}, htmx=True), fragment=lang)
    # « Clore le reste »: refused, then done (the answer, the page and slip with a closed line).
    to_close = order_in(OrderStatus.PARTIALLY_SHIPPED, owner=owner)
    card = max(to_close.lines, key=lambda line: line.position)
    closing = f"/commandes/{to_close.reference}/cloture"
    pages.keep(f"{lang}-refused-close", sc.post(closing, {f"close_{card.id}": "9", "reason": "x"}), None)
    pages.keep(f"{lang}-fragment-close", sc.post(closing, {f"close_{card.id}": "1", "reason": "Rupture"},
                                                 htmx=True), fragment=lang)
    pages.keep(f"{lang}-order-closed", sc.get(f"/commandes/{to_close.reference}"))
    pages.keep(f"{lang}-slip-closed", sc.get(f"/commandes/{to_close.reference}/preparation"))
    # Refunds: the amount due on the page, « Remboursement effectué » refused, then done.
    refunding = f"/commandes/{to_close.reference}/remboursement"
    pages.keep(f"{lang}-refused-refund", sc.post(refunding, {"amount": "9999", "method": "transfer"}), None)
    pages.keep(f"{lang}-fragment-refused-refund", sc.post(refunding, {"amount": "x", "method": "transfer"},
                                                          htmx=True), None, fragment=lang)
    pages.keep(f"{lang}-fragment-refund", sc.post(refunding, {"amount": "1", "method": "paypal",
                                                              "reference": "PP-1"}, htmx=True), fragment=lang)
    pages.keep(f"{lang}-order-refunds", sc.get(f"/commandes/{to_close.reference}"))
    pages.keep(f"{lang}-orders-to-refund", sc.get("/commandes?statut=a-rembourser"))
    relay = order_in(OrderStatus.PAID, owner=owner, **RELAY)
    pages.keep(f"{lang}-order-relay-point", sc.get(f"/commandes/{relay.reference}"))
    pages.keep(f"{lang}-slip-relay-point", sc.get(f"/commandes/{relay.reference}/preparation"))
    pages.keep(f"{lang}-fragment-tracking-preview", sc.get(
        "/commandes/lien-suivi?carrier=colissimo&tracking_number=6A12345678901", htmx=True), fragment=lang)
    pages.keep(f"{lang}-fragment-error", sc.get("/commandes/UQ-2026-999999/expedition", htmx=True), 404,
               fragment=lang)

    # The selection in « Commandes »: each action's answer, as a page and for htmx, a refusal,
    # and the slips of several orders as one document.
    to_pay = [order_in(OrderStatus.AWAITING_PAYMENT, owner=owner).reference for _ in range(2)]
    selection = [*to_pay, cancelled.reference, orders[OrderStatus.SHIPPED].reference]
    pages.keep(f"{lang}-orders-bulk-pay", sc.post("/commandes/selection", {
        "action": "paiements", "ref": selection[1:], "statut": "a-encaisser"}))
    pages.keep(f"{lang}-fragment-orders-bulk-pay", sc.post("/commandes/selection", {
        "action": "paiements", "ref": selection}, htmx=True), fragment=lang)
    pages.keep(f"{lang}-orders-bulk-receipt", sc.post("/commandes/selection", {
        "action": "reception", "ref": selection}))
    pages.keep(f"{lang}-orders-bulk-refused", sc.post("/commandes/selection", {"action": "reception"}), 422)
    pages.keep(f"{lang}-slips", sc.post("/commandes/selection", {"action": "bons", "ref": selection}))

    # « Importer des numéros de suivi »: the form, a preview with good, refused and already
    # imported rows, the result of the apply, a file refused whole.
    pages.keep(f"{lang}-import", sc.get("/commandes/import-suivi"))
    ready = order_in(OrderStatus.PAID, owner=owner)
    shipped = orders[OrderStatus.SHIPPED]
    csv_file = (f"référence;transporteur;numéro de suivi;sku;quantité\n"
                f"{ready.reference};Colissimo;6A12345678999;BAG-RED-01;1\n"
                f"{shipped.reference};Colissimo;{shipped.shipments[0].tracking_number};;\n"
                f"{cancelled.reference};Pigeon;123;;\nUQ-2026-999999;DPD;12;;\n").encode()
    preview = pages.keep(f"{lang}-import-preview", sc.post("/commandes/import-suivi", {
        "fichier": (io.BytesIO(csv_file), "suivi.csv")}, content_type="multipart/form-data"))
    digest = re.search(r'name="fichier" value="([0-9a-f]{64})"', preview)
    assert digest
    pages.keep(f"{lang}-import-applied", sc.post("/commandes/import-suivi/appliquer",
                                                  {"fichier": digest.group(1)}))
    pages.keep(f"{lang}-import-refused", sc.post("/commandes/import-suivi", {
        "fichier": (io.BytesIO(b"x;y\n1;2\n"), "suivi.csv")}, content_type="multipart/form-data"), 422)

    # Settings, and their refusals.
    pages.keep(f"{lang}-settings", sc.get("/parametres"))
    pages.keep(f"{lang}-settings-refused", sc.post("/parametres", {
        "shop_name": "", "payment_instructions": "", "notification_email": "pas une adresse",
        "locale": lang}), None)
    pages.keep(f"{lang}-password-refused", sc.post("/parametres/mot-de-passe", {
        "current_password": "faux", "new_password": "court", "new_password_confirm": "autre"}), None)

    # Error pages of a logged-in seller.
    pages.keep(f"{lang}-seller-404", sc.get("/commandes/UQ-2026-999999"), 404)
    pages.keep(f"{lang}-seller-405", sc.get(f"/commandes/{paid.reference}/paiement"), 405)
    pages.keep(f"{lang}-seller-400-csrf", sc.post("/parametres", {"shop_name": "x"}, csrf=False), 400)


def visitor_pages(pages: Pages, lang: str, client: FlaskClient, order_in: Make, wf: Workflow,
                  owner: Seller) -> None:
    """Login and password reset, the buyer's pages in every state, errors without a session, the
    dev mailbox."""
    headers = LANGUAGES[lang]
    login = pages.keep(f"{lang}-login", client.get("/connexion", headers=headers))
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert token
    pages.keep(f"{lang}-login-refused", client.post("/connexion", headers=headers, data={
        "email": owner.email, "password": "pas le bon", "csrf_token": token.group(1)}), None)

    # « Mot de passe oublié »: the form, refused, sent; a new password: the form, refused, a dead link.
    forgot = pages.keep(f"{lang}-forgot", client.get("/mot-de-passe-oublie", headers=headers))
    forgot_token = re.search(r'name="csrf_token" value="([^"]+)"', forgot)
    assert forgot_token
    for name, email, status in (("refused", "", 422), ("sent", "personne@example.fr", 200)):
        pages.keep(f"{lang}-forgot-{name}", client.post("/mot-de-passe-oublie", headers=headers, data={
            "email": email, "csrf_token": forgot_token.group(1)}), status)
    reset = f"/mot-de-passe/{password_reset_token(owner.id, password_fingerprint(owner.password_hash))}"
    pages.keep(f"{lang}-reset", client.get(reset, headers=headers))
    pages.keep(f"{lang}-reset-refused", client.post(reset, headers=headers, data={
        "new_password": "court", "new_password_confirm": "autre", "csrf_token": forgot_token.group(1)}), 422)
    pages.keep(f"{lang}-reset-invalid", client.get("/mot-de-passe/not-a-token", headers=headers), 404)

    me = Actor.seller(owner.email)
    unpaid = order_in(OrderStatus.AWAITING_PAYMENT, owner=owner)
    partial = order_in(OrderStatus.PARTIALLY_SHIPPED, owner=owner)
    shipped = order_in(OrderStatus.SHIPPED, owner=owner)
    first, second = shipped.shipments
    wf.request_receipt(first.id, actor=me)
    cancelled = order_in(OrderStatus.CANCELLED, owner=owner)
    received = order_in(OrderStatus.RECEIVED, owner=owner)
    auto = order_in(OrderStatus.SHIPPED, owner=owner)
    wf.request_receipt(auto.shipments[0].id, actor=me)
    wf.auto_receive(auto.shipments[0].id)

    relay = order_in(OrderStatus.AWAITING_PAYMENT, owner=owner, **RELAY)
    for name, order in (("unpaid", unpaid), ("relay-point", relay), ("partial", partial),
                        ("awaiting-receipt", shipped),
                        ("cancelled", cancelled), ("received", received), ("auto", auto)):
        pages.keep(f"{lang}-buyer-order-{name}", client.get(f"/o/{order_token(order.id)}", headers=headers))
    ask = pages.keep(f"{lang}-receipt-ask", client.get(f"/r/{receipt_token(first.id)}", headers=headers))
    form = re.search(r'name="csrf_token" value="([^"]+)"', ask)
    assert form
    url = f"/r/{receipt_token(first.id)}"
    pages.keep(f"{lang}-receipt-expired-form",
               client.post(url, headers=headers, data={"csrf_token": "x"}), 400)
    pages.keep(f"{lang}-receipt-thanks", client.post(url, headers=headers,
                                                     data={"csrf_token": form.group(1)}))
    pages.keep(f"{lang}-receipt-already", client.get(url, headers=headers))
    pages.keep(f"{lang}-receipt-auto",
               client.get(f"/r/{receipt_token(auto.shipments[0].id)}", headers=headers))
    pages.keep(f"{lang}-receipt-not-requested", client.get(f"/r/{receipt_token(second.id)}", headers=headers))
    pages.keep(f"{lang}-buyer-invalid-link", client.get("/o/not-a-token", headers=headers), 404)
    pages.keep(f"{lang}-receipt-invalid-link", client.get("/r/not-a-token", headers=headers), 404)

    pages.keep(f"{lang}-404", client.get("/nulle-part", headers=headers), 404)
    pages.keep(f"{lang}-403", client.get("/_test/403", headers=headers), 403)
    pages.keep(f"{lang}-500", client.get("/_test/500", headers=headers), 500)

    pages.keep(f"{lang}-dev-mailbox", client.get("/dev/mailbox", headers=headers))
    email = db.session.query(OutboxEmail).order_by(OutboxEmail.id).first()
    assert email is not None
    pages.keep(f"{lang}-dev-message", client.get(f"/dev/mailbox/{email.id}", headers=headers))


def test_every_page_is_valid_html(error_routes: None, app: Flask, sc: SellerClient, login: Any,
                                  make_seller: Callable[..., Seller], seller: Seller, order_in: Make,
                                  wf: Workflow, clock: Clock, tmp_path: Path) -> None:
    pages = Pages(tmp_path)
    clock.advance(seconds=1.234567)  # times with microseconds, as the real clock gives them
    english = make_seller("shop@example.com", shop_name="Linen & Co", locale="en")
    seller_pages(pages, "fr", sc, seller, order_in, wf, clock)
    seller_pages(pages, "en", login(english), english, order_in, wf, clock)
    for lang in LANGUAGES:
        visitor_pages(pages, lang, app.test_client(), order_in, wf, seller)
    assert len(pages.files) > 100
    # htmx is loaded where a page uses it, and only there: « Commandes » and the order page.
    assert pages.with_htmx == pages.using_htmx
    assert {"fr-orders", "en-orders-search", "fr-order-paid", "en-refused-ship"} <= pages.with_htmx
    assert all(re.match(r"(fr|en)-(orders|order|refused)-?", name) for name in pages.with_htmx)

    errors = nu_check(pages.files)

    found = [f"{Path(str(m.get('url', ''))).name}:{m.get('lastLine')}: {m.get('message')}  "
             f"[{str(m.get('extract', '')).strip()[:120]}]" for m in errors]
    assert found == [], "\n".join(found)
