"""Page weight: first load of each kind of page (HTML + what it asks for) and htmx partials.

Starts the app on a throw-away SQLite file with demo-like data (a seller with orders in
every status), logs in through the real form, then measures:

- the first load of the login page, « Commandes », an order page, the preparation slip, the
  settings and the buyer's order page: every request the HTML asks for (stylesheets,
  scripts, icons). The HTML counts at gzip level 6 (what the reverse proxy sends; the app
  compresses no page); static files count as WhiteNoise serves them to a browser that
  accepts Brotli (`Accept-Encoding: gzip, deflate, br`), their pre-compressed bytes;
- the raw and gzip size of each htmx action's partial (confirm payment, ship part, ship the
  rest, activate receipt confirmation, cancel) and of the other htmx fragments.

Budgets (spec section 5): first load ≤ 30 KB compressed in ≤ 5 requests; partial ≤ 4 KB.

    python bench/page_weight.py [--orders 60]
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import shlex
import sys
import tempfile
import time
import unicodedata
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import g  # noqa: E402

from uniqu3 import create_app  # noqa: E402
from uniqu3.extensions import db  # noqa: E402
from uniqu3.models import Order, Seller  # noqa: E402
from uniqu3.passwords import hash_password  # noqa: E402
from uniqu3.tokens import order_token  # noqa: E402
from uniqu3.workflow import Actor, Address, LineInput, OrderInput, Workflow  # noqa: E402

FIRST_LOAD_BUDGET = 30 * 1024
REQUEST_BUDGET = 5
PARTIAL_BUDGET = 4 * 1024
EMAIL = "atelier@example.fr"
PASSWORD = "demo-uniqu3-password"

FIRST_NAMES = ["Camille", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Inès", "Jules", "Zoé"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Fournier", "Girard"]
CITIES = [("69003", "Lyon"), ("75011", "Paris"), ("13006", "Marseille"), ("33000", "Bordeaux"),
          ("44000", "Nantes"), ("67000", "Strasbourg")]
PRODUCTS = [("BAG-RED-01", "Sac cabas rouge", 3490), ("CARD-01", "Carte brodée main", 550),
            ("MUG-LIN-02", "Mug en grès, lin", 1890), ("SCARF-07", "Écharpe en laine mérinos", 4500),
            ("POUCH-03", "Trousse zippée coton bio", 1590)]


def ascii_(name: str) -> str:
    """Léa -> lea: the local part of a valid address."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6, mtime=0))


class Subresources(HTMLParser):
    """What a browser fetches after the HTML: stylesheets, scripts, images, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        url = None
        if tag == "link" and (a.get("rel") or "") in {"stylesheet", "icon", "preload", "modulepreload"}:
            url = a.get("href")
        elif tag in {"script", "img"}:
            url = a.get("src")
        if url and not url.startswith("data:"):
            self.urls.append(url)


def demo_data(app: Any, orders: int) -> None:
    rng = random.Random(2026)
    with app.app_context():
        db.create_all()
        db.session.add(Seller(email=EMAIL, shop_name="L'Atelier de Lina",
                              password_hash=hash_password(PASSWORD),
                              payment_instructions="Virement : FR76 3000 6000 0112 3456 7890 189"))
        db.session.commit()
        wf = Workflow(db.session)
        me = Actor.seller(EMAIL)
        for n in range(orders):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            postal, city = rng.choice(CITIES)
            street = f"{rng.randint(1, 120)} rue des Lilas"
            address = Address(f"{first} {last}", street, "", postal, city, "FR")
            picked = rng.sample(PRODUCTS, rng.randint(1, 3))
            order = wf.place_order(OrderInput(
                external_id=f"MKT-{1000 + n}", seller_email=EMAIL, buyer_name=f"{first} {last}",
                buyer_email=f"{ascii_(first)}.{ascii_(last)}{n}@example.fr", billing_address=address,
                shipping_address=address, currency="EUR",
                lines=tuple(LineInput(sku, title, rng.randint(1, 3), price) for sku, title, price in picked),
            ), actor=Actor.api("storefront")).order
            stage = n % 6
            if stage == 0:
                continue
            if stage == 1:
                wf.cancel(order.id, actor=me, reason="Rupture de stock")
                continue
            wf.confirm_payment(order.id, actor=me, note="Virement reçu")
            if stage == 2:
                continue
            lines = sorted(order.lines, key=lambda line: line.position)
            wf.ship(order.id, actor=me, quantities={line.id: line.quantity for line in lines},
                    carrier="colissimo", tracking_number=f"6A{order.id:011d}")
            if stage >= 4:
                shipment = order.shipments[0]
                wf.request_receipt(shipment.id, actor=me)
                if stage == 5:
                    wf.confirm_receipt(shipment.id, ip="203.0.113.7", user_agent="Firefox")


BROWSER = {"Accept-Encoding": "gzip, deflate, br"}


def first_load(client: Any, url: str) -> tuple[int, int, list[str]]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = Subresources()
    parser.feed(response.get_data(as_text=True))
    total, detail = gz(response.data), [f"{url} {gz(response.data)} (gzip -6)"]
    for sub in parser.urls:
        asset = client.get(sub, headers=BROWSER)
        assert asset.status_code == 200, sub
        total += len(asset.data)
        detail.append(f"{sub} {len(asset.data)} ({asset.headers.get('Content-Encoding', 'identity')})")
    return total, 1 + len(parser.urls), detail


def csrf(client: Any, url: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert match
    return match.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=60, help="demo orders for the seller (default 60)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                          "WTF_CSRF_ENABLED": True})
        demo_data(app, args.orders)
        durations: list[float] = []  # server time of each request, in ms

        @app.before_request
        def _start() -> None:
            g.bench_start = time.perf_counter()

        @app.after_request
        def _stop(response: Any) -> Any:
            durations.append((time.perf_counter() - g.bench_start) * 1000)
            return response

        client = app.test_client()
        token = csrf(client, "/connexion")
        login = client.post("/connexion", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        assert login.status_code == 303, login.status_code
        client.get("/commandes")  # the welcome message is shown once; measure the usual page
        with app.app_context():
            fresh = db.session.query(Order).filter_by(status="awaiting_payment").order_by(Order.id).all()
            target, to_cancel = fresh[0], fresh[1]
            line_ids = [line.id for line in sorted(target.lines, key=lambda line: line.position)]
            quantities = [line.quantity for line in sorted(target.lines, key=lambda line: line.position)]
            reference, cancel_reference = target.reference, to_cancel.reference

        rows: list[tuple[str, int, int, int, bool, float]] = []  # name, raw, gzip, requests, ok, ms
        loads = {}
        with app.app_context():
            buyer_page = f"/o/{order_token(target.id)}"
        visitor = app.test_client()
        for name, url in (("login", "/connexion"), ("orders tab", "/commandes"),
                          ("order page", f"/commandes/{reference}"),
                          ("slip", f"/commandes/{reference}/preparation"), ("settings", "/parametres"),
                          ("buyer's order page", buyer_page)):
            before = len(durations)  # the page's own request (static files never reach Flask)
            total, requests, detail = first_load(visitor if name in {"login", "buyer's order page"}
                                                 else client, url)
            loads[name] = detail
            rows.append((f"first load: {name}", 0, total, requests,
                         total <= FIRST_LOAD_BUDGET and requests <= REQUEST_BUDGET, durations[before]))

        token = csrf(client, f"/commandes/{reference}")
        htmx = {"HX-Request": "true", "X-CSRFToken": token}

        def partial(name: str, response: Any, budget: bool = True) -> None:
            assert response.status_code == 200, (name, response.status_code)
            raw = len(response.data)
            rows.append((name, raw, gz(response.data), 1, raw <= PARTIAL_BUDGET or not budget, durations[-1]))

        base = f"/commandes/{reference}"
        partial("action: confirm payment", client.post(f"{base}/paiement", headers=htmx,
                                                         data={"note": "Virement SEPA réf. 2026-4471"}))
        partial("fragment: ship form (loaded after it)", client.get(f"{base}/expedition", headers=htmx),
                budget=False)
        first_part = {f"qty_{line_ids[0]}": str(quantities[0])}
        first_part.update({f"qty_{i}": "0" for i in line_ids[1:]})
        partial("action: ship part", client.post(f"{base}/expedition", headers=htmx, data={
            **first_part, "carrier": "colissimo", "tracking_number": "6A12345678901",
            "request_key": str(uuid.uuid4())}))
        rest = {f"qty_{i}": str(q) for i, q in zip(line_ids[1:], quantities[1:], strict=True)}
        if rest:
            partial("action: ship the rest", client.post(f"{base}/expedition", headers=htmx, data={
                **rest, "carrier": "mondial_relay", "tracking_number": "12345678",
                "request_key": str(uuid.uuid4())}))
        partial("action: activate receipt confirmation",
                client.post(f"{base}/colis/1/reception", headers=htmx))
        partial("action: cancel", client.post(f"/commandes/{cancel_reference}/annulation", headers=htmx,
                                              data={"reason": "Rupture de stock"}))
        partial("fragment: tab « À expédier »", client.get("/commandes?statut=a-expedier", headers=htmx),
                budget=False)
        partial("fragment: search", client.get("/commandes?q=martin", headers=htmx), budget=False)
        partial("fragment: tracking link preview", client.get(
            "/commandes/lien-suivi?carrier=colissimo&tracking_number=6A12345678901", headers=htmx))

    script = Path(sys.argv[0]).resolve()
    script = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    command = " ".join(shlex.quote(part) for part in ["python", str(script), "--orders", str(args.orders)])
    width = max(len(row[0]) for row in rows)
    print(f"$ {command}    # from the project root, in its virtualenv")
    print(f"UNIQU3 page weight — {args.orders} demo orders; HTML at gzip level 6, static files as served "
          f"(Brotli accepted); budgets: first load "
          f"≤ {FIRST_LOAD_BUDGET // 1024} KB gz in ≤ {REQUEST_BUDGET} requests, action partial ≤ "
          f"{PARTIAL_BUDGET // 1024} KB")
    print(f"{'what'.ljust(width)}  {'raw B':>7}  {'gzip B':>7}  {'requests':>8}  {'server ms':>9}  verdict")
    for name, raw, gzipped, requests, ok, ms in rows:
        verdict = "ok" if ok else "OVER BUDGET"
        if name.startswith("fragment"):
            verdict = "(no budget)" if ok else verdict
        print(f"{name.ljust(width)}  {raw or '':>7}  {gzipped:>7}  {requests:>8}  {ms:>9.1f}  {verdict}")
    for name, detail in loads.items():
        print(f"  {name}: " + " + ".join(detail))
    return 0 if all(row[4] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
