"""What the intake, e-mail and worker benchmarks share: a local SMTP server in its own process,
a fresh database, a seller and API bodies."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine, text

SELLER_EMAIL = "atelier@bench.uniqu3.fr"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, *, seconds: float = 10.0) -> None:
    """Until a server started in another process accepts connections on this local port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[str, int]]:
    """aiosmtpd accepting and discarding every message, in a process of its own so that it
    does not share the measured process's CPU time (GIL)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                             "-c", "aiosmtpd.handlers.Sink"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def fresh_database(url: str) -> None:
    """The app's tables, empty (SQLite: a new file; PostgreSQL: the URL's schema recreated)."""
    from uniqu3.extensions import Base

    from .generate import search_path_schema

    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + suffix)
    engine = create_engine(url)
    with engine.begin() as conn:
        schema = search_path_schema(url) if engine.dialect.name == "postgresql" else None
        if schema:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    Base.metadata.create_all(engine)
    engine.dispose()


def add_seller(app: Any) -> None:
    from uniqu3.extensions import db
    from uniqu3.models import Seller

    with app.app_context():
        db.session.add(Seller(email=SELLER_EMAIL, shop_name="L'Atelier de Lina", password_hash="x",
                              payment_instructions="Virement : FR76 3000 6000 0112 3456 7890 189"))
        db.session.commit()


def api_body(n: int, run: str = "") -> dict[str, Any]:
    address = {"name": "Camille Martin", "line1": f"{n % 120 + 1} rue des Lilas", "line2": "",
               "postal_code": "69003", "city": "Lyon", "country": "FR"}
    return {
        "external_id": f"MKT-{run}{n:07d}", "seller": SELLER_EMAIL,
        "buyer": {"name": "Camille Martin", "email": f"camille.martin{n}@example.fr"},
        "billing_address": address, "shipping_address": address, "currency": "EUR",
        "lines": [{"sku": "BAG-RED-01", "title": "Sac cabas rouge", "quantity": 2, "unit_price": "34.90"},
                  {"sku": "CARD-01", "title": "Carte brodée main", "quantity": 1, "unit_price": "5.50"}],
    }
