"""The « Commandes » tab of the big seller (100,000 orders among 1,000,000): server time and throughput.

    python -m bench.orders_tab --database-url sqlite:///bench/out/bench1m.sqlite
    python -m bench.orders_tab --database-url 'postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dperf'

1. Server time, in process: the app's test client, logged in through the real form as
   big@bench.uniqu3.fr, times --requests GETs of each case (the whole page, as a browser
   asks for it): first page, a status tab, a deep page (the keyset cursor followed --deep
   pages down), searches by buyer name (a common surname, a full name), SKU and tracking
   number (whole and partial). Median and p95. Each timed GET renders the list: the
   rendered lists the app keeps (uniqu3/seller/list_cache.py) are dropped before each one,
   so these are the times of a first view after the seller's orders changed. One more line
   times the first page when it was kept (the same page viewed again).
2. Throughput: gunicorn (`-w 2 -k sync` by default) serves bench.webapp, which is the
   production app plus `/bench/bare` (a constant string); wrk with the session cookie loads
   the first page and the bare endpoint alternately, --rounds times; the ratio is the
   median of the rounds' ratios. wrk sends the User-Agent the login used, as
   a browser does, so the session cookie is in its steady state (checked: the tab answers
   without Set-Cookie). Then the same with ORDERS_LIST_CACHE_SIZE=0, every view rendering
   the list: the cost when every view follows a change. For each wrk run, the workers' CPU
   time (from /proc) divided by the requests answered: on a machine whose cores are shared,
   the ratio of these per-request costs says what the throughput ratio would be on a quiet
   one, where requests/s swing with the other processes.

Spec (section 5): ≤ 15 ms median server time; searches ≤ 50 ms; ≥ 35 % of the bare endpoint.
Spec (section 11): ≥ 25 % of the bare endpoint when every view renders the list.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import select

from .common import Timing, dialect_of, engine_url, print_block, shown_url, time_calls
from .dataset import BIG_SELLER_EMAIL, BIG_SELLER_PASSWORD
from .services import free_port, wait_for_port

MODULE = "bench.orders_tab"
ROOT = Path(__file__).resolve().parent.parent
BUDGET_MS, SEARCH_BUDGET_MS, RATIO_TARGET = 15.0, 50.0, 0.35
RENDERED_RATIO_TARGET = 0.25  # spec section 11: the page when its list must be rendered


USER_AGENT = "uniqu3-bench"


def https_client(app: Any) -> Any:
    """The production profile's cookies are Secure: ask as a browser over HTTPS would.

    The login records the browser (address and User-Agent, Flask-Login's session protection);
    wrk replays the cookie with the same User-Agent, as the same browser would."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    return client


def kept_lists(app: Any) -> Any:
    from uniqu3.seller.list_cache import EXTENSION_KEY

    return app.extensions[EXTENSION_KEY]


def login(client: Any) -> None:
    page = client.get("/connexion").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the login page"
    response = client.post("/connexion", data={"email": BIG_SELLER_EMAIL, "password": BIG_SELLER_PASSWORD,
                                               "csrf_token": match.group(1)},
                           headers={"Referer": "https://localhost/connexion"})
    assert response.status_code == 303, f"login failed: {response.status_code}"
    client.get("/commandes")  # the welcome message is shown once


def search_terms(app: Any) -> dict[str, str]:
    """Values taken from the big seller's own orders (so each search finds something)."""
    from uniqu3.extensions import db
    from uniqu3.models import Order, OrderLine, Seller, Shipment

    with app.app_context():
        seller_id = db.session.scalar(select(Seller.id).where(Seller.email == BIG_SELLER_EMAIL))
        assert seller_id is not None, f"{BIG_SELLER_EMAIL} is not in this database (bench.generate)"
        # An order in the middle of the history: a deep one, not the newest.
        skip = 40_000 if _count(db, seller_id) > 50_000 else 10
        middle = db.session.scalar(select(Order).where(Order.seller_id == seller_id)
                                   .order_by(Order.id).offset(skip).limit(1))
        assert middle is not None
        sku = db.session.scalar(select(OrderLine.sku).where(OrderLine.order_id == middle.id).limit(1))
        tracking = db.session.scalar(
            select(Shipment.tracking_number).join(Order, Order.id == Shipment.order_id)
            .where(Order.seller_id == seller_id, Shipment.tracking_number != "", Order.id >= middle.id)
            .order_by(Order.id).limit(1))
        return {
            "seller_id": str(seller_id),
            "surname": middle.buyer_name.split()[-1],
            "full name": middle.buyer_name,
            "sku": sku or "",
            "tracking": tracking or "",
            "tracking part": (tracking or "")[-8:],
        }


def _count(db: Any, seller_id: int) -> int:
    from sqlalchemy import func

    from uniqu3.models import Order

    return db.session.scalar(select(func.count()).where(Order.seller_id == seller_id)) or 0


def deep_cursor(client: Any, pages: int) -> tuple[str, int]:
    """Follow « Plus anciennes → » `pages` times; the URL of the last page reached."""
    url, followed = "/commandes", 0
    for _ in range(pages):
        html = client.get(url).get_data(as_text=True)
        match = re.search(r'href="([^"]*apres=[^"]*)" rel="next"', html)
        if not match:
            break
        url, followed = match.group(1).replace("&amp;", "&"), followed + 1
    return url, followed


Case = tuple[str, str, Timing, int]  # name, URL, timing, rows shown


def server_times(app: Any, requests: int, deep: int) -> tuple[list[Case], dict[str, str]]:
    client = https_client(app)
    login(client)
    terms = search_terms(app)
    deep_url, followed = deep_cursor(client, deep)
    cases = [
        ("first page", "/commandes"),
        ("status tab « À expédier »", "/commandes?statut=a-expedier"),
        ("status tab « Reçues »", "/commandes?statut=recues"),
        (f"deep page ({followed} pages down)", deep_url),
        (f"search surname « {terms['surname']} »", f"/commandes?q={quote(terms['surname'])}"),
        (f"search full name « {terms['full name']} »", f"/commandes?q={quote(terms['full name'])}"),
        (f"search SKU « {terms['sku']} »", f"/commandes?q={quote(terms['sku'])}"),
        (f"search tracking « {terms['tracking']} »", f"/commandes?q={quote(terms['tracking'])}"),
        (f"search tracking part « {terms['tracking part']} »",
         f"/commandes?q={quote(terms['tracking part'])}"),
        ("search 2 letters « ma » (no trigram)", "/commandes?q=ma"),
        ("search with no match « zzqxw »", "/commandes?q=zzqxw"),
    ]
    lists = kept_lists(app)

    def rendered(url: str) -> None:
        lists.clear()
        client.get(url)

    results = []
    for name, url in cases:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        rows = response.get_data(as_text=True).count('<span class="ref">')
        timing = time_calls(lambda url=url: rendered(url), repeat=requests, warmup=3)
        results.append((name, url, timing, rows))
    kept = time_calls(lambda: client.get("/commandes"), repeat=requests, warmup=3)
    results.append(("first page, list kept (viewed again)", "/commandes", kept, results[0][3]))
    return results, terms


# ----------------------------------------------------------------------------- throughput
def wrk(url: str, seconds: int, connections: int, cookie: str | None) -> tuple[float, int]:
    """Requests per second, and the number of requests answered."""
    if not shutil.which("wrk"):
        return python_load(url, seconds, connections, cookie)
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
               "-H", f"User-Agent: {USER_AGENT}", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    answered = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert match and answered, out
    assert not non2xx, f"{url}: {non2xx.group(0)}"
    return float(match.group(1)), int(answered.group(1))


def python_load(url: str, seconds: int, connections: int, cookie: str | None) -> tuple[float, int]:
    """wrk's measure where wrk is not installed: `connections` threads asking in a loop. The
    client is slower than wrk and shares the cores with the server, so requests/s are lower;
    the workers' CPU per request (see throughput) does not depend on the client."""
    parts = urlsplit(url)
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    deadline = time.monotonic() + seconds
    answered = [0] * connections

    def load(slot: int) -> None:
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection(parts.hostname, parts.port)
            connection.request("GET", parts.path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status < 400, f"{url}: {response.status}"
            answered[slot] += 1

    start = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(load, range(connections)))
    return sum(answered) / (time.monotonic() - start), sum(answered)


def steady_session(base: str, cookie: str) -> None:
    """The replayed cookie must not be rewritten on each answer, or every request would pay
    for a new signed cookie that a browser's requests do not."""
    request = urllib.request.Request(f"{base}/commandes", headers={"Cookie": cookie,
                                                                    "User-Agent": USER_AGENT})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200, response.status
        assert response.headers.get("Set-Cookie") is None, response.headers.get("Set-Cookie")


def throughput(url: str, cookie: str, *, workers: int, worker_class: str, seconds: int, rounds: int,
               connections: int, env_extra: dict[str, str] | None = None) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": url, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "-w", str(workers), "-k", worker_class, "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", "bench.webapp:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port)
        steady_session(base, cookie)
        wrk(f"{base}/commandes", 2, connections, cookie)  # warm both workers
        wrk(f"{base}/bench/bare", 2, connections, None)
        tab, bare, ratios, cpu_ratios, tab_cpu, bare_cpu = [], [], [], [], [], []
        for _ in range(rounds):
            start = workers_cpu_seconds(server.pid)
            t, t_count = wrk(f"{base}/commandes", seconds, connections, cookie)
            middle = workers_cpu_seconds(server.pid)
            b, b_count = wrk(f"{base}/bench/bare", seconds, connections, None)
            end = workers_cpu_seconds(server.pid)
            tab.append(t)
            bare.append(b)
            ratios.append(t / b)
            tab_cpu.append((middle - start) / t_count * 1000)
            bare_cpu.append((end - middle) / b_count * 1000)
            cpu_ratios.append(bare_cpu[-1] / tab_cpu[-1])
        rss = worker_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return {"tab": tab, "bare": bare, "ratios": ratios, "command": " ".join(command[1:]),
            "rss": rss, "tab_cpu": tab_cpu, "bare_cpu": bare_cpu, "cpu_ratios": cpu_ratios}


def workers_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by gunicorn's workers: what a request costs the
    server, whatever else the machine's cores are busy with (wrk, other processes)."""
    total = 0
    children = Path(f"/proc/{master}/task/{master}/children")
    for pid in children.read_text().split() if children.exists() else []:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def worker_rss_mb(master: int) -> dict[str, float]:
    """VmHWM (peak RSS) of gunicorn's workers, read while they still run."""
    peaks = {}
    children = Path(f"/proc/{master}/task/{master}/children")
    for pid in children.read_text().split() if children.exists() else []:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = int(line.split()[1]) / 1024
    return peaks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--requests", type=int, default=100, help="timed requests per case")
    parser.add_argument("--deep", type=int, default=200, help="pages followed for the deep page")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternated tab/bare wrk runs")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    url = engine_url(args.database_url)

    from .webapp import make_app

    app = make_app(url)
    results, terms = server_times(app, args.requests, args.deep)
    figures = [("database", f"{dialect_of(url)} {shown_url(url)}")]
    with app.app_context():
        from sqlalchemy import func

        from uniqu3.extensions import db
        from uniqu3.models import Order

        total = db.session.scalar(select(func.count()).select_from(Order))
        mine = db.session.scalar(select(func.count()).where(Order.seller_id == int(terms["seller_id"])))
        db.session.remove()
    figures.append(("orders", f"{total:,} in the database, {mine:,} for {BIG_SELLER_EMAIL}"))
    for name, _url, timing, rows in results:
        budget = SEARCH_BUDGET_MS if name.startswith("search") else BUDGET_MS
        verdict = "ok" if timing.median * 1000 <= budget else f"OVER {budget:.0f} ms"
        figures.append((name, f"{timing.summary_ms()}; {rows} rows; {verdict}"))
    if not args.no_throughput:
        for label, env_extra in (("", None), (", list rendered each time", {"ORDERS_LIST_CACHE_SIZE": "0"})):
            client = https_client(app)
            login(client)  # a fresh session for each server: its idle stamp stays current
            cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
            t = throughput(url, cookie, workers=args.workers, worker_class=args.worker_class,
                           seconds=args.seconds, rounds=args.rounds, connections=args.connections,
                           env_extra=env_extra)
            ratio = statistics.median(t["ratios"])
            target = RENDERED_RATIO_TARGET if label else RATIO_TARGET
            verdict = "ok" if ratio >= target else f"UNDER {target:.0%}"
            if not label:
                client = "wrk -t1" if shutil.which("wrk") else "python threads (no wrk)"
                figures.append(("server", f"gunicorn {t['command']}; {client} -c{args.connections} "
                                          f"-d{args.seconds}s, {args.rounds} rounds alternated"))
            figures += [
                (f"tab req/s{label}", ", ".join(f"{x:,.0f}" for x in t["tab"])),
                (f"bare req/s{label}", ", ".join(f"{x:,.0f}" for x in t["bare"])),
                (f"ratio tab/bare{label}",
                 f"median {ratio:.1%} (rounds: {', '.join(f'{r:.1%}' for r in t['ratios'])}); {verdict}"),
                (f"worker CPU per request{label}",
                 f"tab {statistics.median(t['tab_cpu']):.2f} ms, "
                 f"bare {statistics.median(t['bare_cpu']):.2f} ms; "
                 f"bare/tab median {statistics.median(t['cpu_ratios']):.1%} "
                 f"(rounds: {', '.join(f'{r:.1%}' for r in t['cpu_ratios'])})"),
                (f"web worker peak RSS{label}", ", ".join(f"{v:.0f} MB" for v in t["rss"].values())),
            ]
    print_block("« Commandes » tab of the big seller", figures, module=MODULE, argv=argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
